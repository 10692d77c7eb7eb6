// The CLI as a user runs it: output shapes, JSON contracts, and bad input (one line, exit code 2).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { assertBadInput, runCli as run } from './helpers/cli.js';


test('layout --json: the documented shape, standardOffset null for supervisor, xsavecOffset null outside XCR0', () => {
  const r = run('layout', '--cpu', 'sapphire-rapids', '--json');
  assert.equal(r.code, 0, r.err);
  const j = JSON.parse(r.out) as Record<string, unknown> & { components: Record<string, unknown>[] };
  assert.deepEqual(Object.keys(j), ['cpu', 'xcr0', 'xss', 'standardSize', 'xsavecSize', 'xsavesSize', 'components']);
  assert.equal(j.cpu, 'sapphire-rapids');
  assert.equal(j.xcr0, '0x602e7');
  assert.equal(j.xss, '0xdd00');
  assert.equal(j.standardSize, 11008); // = the dump's CPUID 0xD.0 EBX with all of XCR0
  assert.equal(j.xsavesSize, 11776);
  assert.deepEqual(j.components[0], { index: 2, name: 'AVX registers', size: 256, standardOffset: 576, xsavecOffset: 576, xsavesOffset: 576, align64: false, supervisor: false, xfd: false });
  const pt = j.components.find((c) => c.index === 8)!;
  assert.equal(pt.standardOffset, null);
  assert.equal(pt.xsavecOffset, null);
  const tile = j.components.find((c) => c.index === 18)!;
  assert.deepEqual([tile.xfd, tile.align64], [true, true]);
});

test('layout: repeated --cpu gives an array; --xcr0/--xss select the components', () => {
  const r = run('layout', '--cpu', 'zen4', '--cpu', 'skylake-sp', '--xcr0', '0x7', '--xss', '0', '--json');
  assert.equal(r.code, 0, r.err);
  const j = JSON.parse(r.out) as { cpu: string; standardSize: number; components: unknown[] }[];
  assert.deepEqual(j.map((x) => x.cpu), ['zen4', 'skylake-sp']);
  assert.deepEqual(j.map((x) => x.standardSize), [832, 832]);
  assert.equal(j[0].components.length, 1);
});

test('layout: the human table lists x87 and SSE too and the three sizes', () => {
  const r = run('layout', '--cpu', 'zen4');
  assert.equal(r.code, 0, r.err);
  assert.match(r.out, /^ 0 +x87 floating point registers/m);
  assert.match(r.out, /sizes: standard 2440 \(CPUID 0xD\.0 EBX\), XSAVEC 2440, XSAVES 2480/);
});

test('sigframe --json: published sizes (832-byte XSAVE -> 1776; AMX -> 11952)', () => {
  const zen3 = JSON.parse(run('sigframe', '--cpu', 'zen3', '--xcr0', '0x7', '--json').out) as Record<string, unknown>;
  assert.deepEqual(Object.keys(zen3).slice(0, 1), ['cpu']);
  assert.equal(zen3.xstateSize, 832);
  assert.equal(zen3.fpuFrameSize, 836);
  const amx = JSON.parse(run('sigframe', '--cpu', 'sapphire-rapids', '--perm', 'amx', '--json').out) as Record<string, unknown>;
  assert.equal(amx.xstateSize, 11008);
  assert.equal(amx.atMinSigStkSz, 11952);
  const noAmx = JSON.parse(run('sigframe', '--cpu', 'sapphire-rapids', '--json').out) as Record<string, unknown>;
  assert.equal(noAmx.xstateSize, 2816, 'without permission the frame has no tile data');
  for (const k of ['cpu', 'xstateSize', 'fpuFrameSize', 'frameSize', 'atMinSigStkSz']) assert.ok(k in noAmx, k);
});

test('dmesg: the real Linux 6.18 boot lines of the Zen 4 VM', () => {
  const r = run('dmesg', '--cpu', 'zen4-vm', '--kernel', '6.18');
  assert.equal(r.code, 0, r.err);
  assert.match(r.out, /x86\/fpu: Enabled xstate features 0x18e7, context size is 2472 bytes, using 'compacted' format\./);
  assert.match(r.out, /^signal: max sigframe size: 3376$/m);
});

test('cpu and profiles: features and the built-in list', () => {
  const c = JSON.parse(run('cpu', '--cpu', 'sapphire-rapids', '--json').out) as { features: Record<string, boolean>; cpu: string };
  assert.equal(c.cpu, 'sapphire-rapids');
  for (const f of ['xsave', 'avx512f', 'amxTile', 'xfd', 'xsaves', 'enqcmd', 'pcid', 'invpcid']) assert.equal(c.features[f], true, f);
  assert.equal(c.features.apx, false);
  const p = JSON.parse(run('profiles', '--json').out) as { name: string }[];
  assert.ok(p.length >= 10);
});

test('bad input: one line naming the flag, file or field, exit code 2, no stack trace', () => {
  const dir = mkdtempSync(join(tmpdir(), 'switchlab-cli-'));
  try {
    writeFileSync(join(dir, 'trunc.json'), '{"leaves": {"0x0.0": [13, 1');
    assertBadInput(['layout', '--cpu', 'no-such-cpu'], /^switchlab: --cpu no-such-cpu: unknown profile/);
    assertBadInput(['layout', '--cpu', join(dir, 'trunc.json')], /trunc\.json: not valid JSON/);
    assertBadInput(['layout', '--cpu', 'zen3', '--xcr0', '0x6'], /--xcr0: XCR0 0x6 is invalid on zen3: bit 0 \(x87\) must be set/);
    assertBadInput(['layout', '--cpu', 'zen3', '--xcr0', '0xe7'], /--xcr0: .* not supported/);
    assertBadInput(['layout', '--cpu', 'zen3', '--xcr0', 'banana'], /--xcr0: 'banana' is not a 64-bit mask/);
    assertBadInput(['layout', '--cpu', 'zen2', '--xss', '0x800'], /--xss: .*not supported supervisor/);
    assertBadInput(['sigframe', '--cpu', 'zen4', '--perm', 'amx'], /--perm: zen4 has no AMX/);
    assertBadInput(['sigframe', '--cpu', 'zen4', '--perm', 'avx'], /--perm: unknown dynamic feature 'avx'/);
    assertBadInput(['dmesg', '--cpu', 'zen4', '--kernel', '7.3'], /--kernel: Linux 7\.3 is unknown/);
    assertBadInput(['dmesg', '--cpu', 'zen4', '--kernel', 'latest'], /--kernel: "latest" is not a kernel version/);
    assertBadInput(['layout', '--bogus'], /unknown option '--bogus'/);
    assertBadInput(['frobnicate'], /unknown command 'frobnicate'/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
