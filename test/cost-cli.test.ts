// compare, costs and study as a user runs them: JSON contracts, determinism, files written, bad input.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { assertBadInput, runCli as run } from './helpers/cli.js';


interface ComparePolicy {
  name: string;
  cycles: Record<string, number>;
  counts: Record<string, number>;
  ipis: number;
  violations: number;
}

test('compare --json: byte-identical for the same seed, and the PASID designs bill what they do', () => {
  const args = ['compare', '--scenario', 'enqcmd', '--policies', 'pasid:gp-fixup,pasid:switch-mm,pasid:ipi-all', '--cpu', 'sapphire-rapids', '--runs', '2', '--seed', '5', '--json', '--quiet'];
  const a = run(...args);
  const b = run(...args);
  assert.equal(a.code, 0, a.err);
  assert.equal(a.out, b.out, 'same inputs and seed, same output');
  const j = JSON.parse(a.out) as { seed: number; runs: number; policies: ComparePolicy[] };
  assert.equal(j.seed, 5);
  assert.equal(j.runs, 2);
  const [gp, sw, all] = j.policies;
  // The lazy fix-up pays #GP round trips and no IPIs; switch_mm writes the MSR with no trap; ipi-all interrupts.
  assert.ok(gp.counts.gpTraps > 0 && gp.ipis === 0);
  assert.equal(sw.counts.gpTraps, 0);
  assert.ok(all.ipis > 0);
  for (const p of j.policies) {
    const sum = Object.entries(p.cycles).filter(([k]) => k !== 'total').reduce((s, [, v]) => s + v, 0);
    assert.ok(Math.abs(sum - p.cycles.total) < 1e-6 * p.cycles.total, `${p.name}: categories add up to the total`);
    assert.equal(p.violations, 0);
  }
});

test('compare --costs: an override changes the bill of exactly the operations it prices', () => {
  const dir = mkdtempSync(join(tmpdir(), 'switchlab-cost-'));
  try {
    const file = join(dir, 'costs.yaml');
    writeFileSync(file, 'gp.trap: 1500\n');
    const base = ['compare', '--scenario', 'enqcmd', '--policies', 'pasid:gp-fixup', '--cpu', 'sapphire-rapids', '--runs', '1', '--json', '--quiet'];
    const a = JSON.parse(run(...base).out) as { policies: ComparePolicy[] };
    const b = JSON.parse(run(...base, '--costs', file).out) as { policies: ComparePolicy[] };
    const traps = a.policies[0].counts.gpTraps;
    assert.ok(traps > 0);
    // sapphire-rapids' default gp.trap is 500 cycles: each trap now costs 1000 more, nothing else moves.
    assert.equal(b.policies[0].cycles.pasid - a.policies[0].cycles.pasid, traps * 1000);
    assert.equal(b.policies[0].cycles['fpu-save'], a.policies[0].cycles['fpu-save']);
    const c = run('costs', '--cpu', 'sapphire-rapids', '--costs', file);
    assert.match(c.out, new RegExp(`gp\\.trap\\s+1500\\s+override from ${file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('compare --out and study: plots (SVG, PNG), HTML and Markdown are written and self-contained', () => {
  const dir = mkdtempSync(join(tmpdir(), 'switchlab-out-'));
  try {
    const c = run('compare', '--scenario', 'avx-threads', '--policies', 'deferred,lazy-ts', '--cpu', 'zen4', '--runs', '1', '--out', dir, '--quiet');
    assert.equal(c.code, 0, c.err);
    const s = run('study', 'pasid', '--cpu', 'sapphire-rapids', '--runs', '1', '--out', dir, '--json', '--quiet');
    assert.equal(s.code, 0, s.err);
    const j = JSON.parse(s.out) as { verdicts: { scenario: string; winner: string; broken: string[] }[]; report: string };
    assert.deepEqual(j.verdicts.map((v) => v.scenario), ['enqcmd', 'enqcmd-change']);
    // enqcmd-change rebinds the PASID while threads run: the lazy fix-up leaves stale IA32_PASID values.
    assert.ok(j.verdicts[1].broken.includes('pasid:gp-fixup'));
    assert.notEqual(j.verdicts[1].winner, 'pasid:gp-fixup');
    assert.ok(existsSync(j.report));
    const html = readFileSync(j.report, 'utf8');
    assert.match(html, /<svg/);
    assert.doesNotMatch(html, /<script[^>]+src=|<link[^>]+href="http/, 'no external resources');
    assert.ok(existsSync(join(dir, 'pasid', 'README.md')));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('bad input to compare, costs and study: refused before running, one line, exit 2', () => {
  const dir = mkdtempSync(join(tmpdir(), 'switchlab-bad-'));
  try {
    const bad = join(dir, 'bad.yaml');
    writeFileSync(bad, 'xrstor.bas: 3\n');
    const neg = join(dir, 'neg.yaml');
    writeFileSync(neg, 'ipi.base: -1\n');
    assertBadInput(['compare', '--scenario', 'avx-threads', '--policies', 'deferred,nope', '--cpu', 'zen4'], /--policies: unknown policy 'nope'/);
    assertBadInput(['compare', '--scenario', 'nope', '--policies', 'eager', '--cpu', 'zen4'], /--scenario nope: unknown scenario/);
    assertBadInput(['compare', '--scenario', 'avx-threads', '--policies', 'eager', '--cpu', 'zen4', '--costs', bad], /bad\.yaml: xrstor\.bas: unknown cost key 'xrstor\.bas'/);
    assertBadInput(['costs', '--cpu', 'zen4', '--costs', neg], /neg\.yaml: ipi\.base: '-1' is not a non-negative number/);
    assertBadInput(['study', 'lazy', '--cpu', 'zen4'], /unknown study 'lazy' \(known: lazy-restore, amx-buffers, pasid\)/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
