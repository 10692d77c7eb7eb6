// The catalogue of CPU state kinds (seed 003): every row complete and cited, policy names real, and
// `switchlab state-kinds` printing it (JSON = the table itself; text = one line per kind).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Command } from 'commander';
import { COMPONENTS } from '../src/arch/components.js';
import { stateKindsCommand } from '../src/cli/commands/state-kinds.js';
import { FPU_POLICIES } from '../src/policies/fpu/index.js';
import { STATE_KINDS, stateKind } from '../src/policies/state-kinds.js';
import type { StateKind } from '../src/policies/state-kinds.js';

/** The policy and design names switchlab has (or is adding), by family. */
const KNOWN: Readonly<Record<string, readonly string[]>> = {
  fpu: ['deferred', 'eager', 'lazy-ts', 'rfc-2016'],
  xbuf: ['vmalloc', 'vmalloc-cache', 'percpu-bounce', 'kmap-window'],
  pkru: ['eager', 'xstate-eager', 'in-xstate'],
  pasid: ['gp-fixup', 'switch-mm', 'switch-mm-cmp', 'ipi-all'],
};

const FIELDS = ['key', 'name', 'scope', 'affectsKernel', 'where', 'saveLoad', 'lazy', 'cost', 'linux', 'policies', 'notes', 'source'];
const SCOPES = ['per-thread', 'per-mm', 'per-cpu'];
const MECHANISMS = [
  'xsave-image',
  'xsaves-image',
  'exit-to-user',
  'switch-to',
  'switch-mm',
  'first-use-trap',
  'ipi-on-change',
  'perf-sched',
  'cpu-init',
  'kvm-guest',
  'not-switched',
];
const TRAPS = ['none', 'nm-cr0-ts', 'nm-xfd', 'gp-fixup'];
const TIMINGS = ['eager', 'deferred', 'trap', 'first-use', 'not-switched'];
const STRENGTHS = ['M', 'M-2', 'D', 'E', 'M/E', 'qualitative'];

/** Every kind the issue names, plus the ones seed 003 lists. */
const REQUIRED = [
  'x87',
  'sse',
  'avx',
  'avx512',
  'amx-tilecfg',
  'amx-tiledata',
  'pkru',
  'pkrs',
  'cr3',
  'ldtr',
  'pasid',
  'kernel-gs-base',
  'fs-gs-base',
  'segments',
  'xfd',
  'cet-user',
  'cet-kernel',
  'debug-regs',
  'tsc-aux',
  'spec-ctrl',
  'uintr',
  'arch-lbr',
];

/** Rows for what seed 003's list names: each must cite the seed. */
const SEED_003 = ['x87', 'sse', 'avx', 'avx512', 'amx-tilecfg', 'amx-tiledata', 'pkru', 'pkrs', 'cr3', 'ldtr', 'pasid', 'kernel-gs-base', 'segments'];

const nonEmpty = (s: unknown): boolean => typeof s === 'string' && s.trim().length > 0;

function row(key: string): StateKind {
  const s = stateKind(key);
  assert.ok(s, `row ${key}`);
  return s;
}

test('every row has every field, well-formed', () => {
  assert.ok(STATE_KINDS.length >= REQUIRED.length);
  for (const s of STATE_KINDS) {
    const at = `row ${s.key}`;
    assert.deepEqual(Object.keys(s).sort(), [...FIELDS].sort(), at);
    assert.match(s.key, /^[a-z0-9]+(-[a-z0-9]+)*$/, at);
    assert.ok(nonEmpty(s.name) && nonEmpty(s.notes), at);
    assert.ok(SCOPES.includes(s.scope), at);
    assert.equal(typeof s.affectsKernel, 'boolean', at);
    assert.ok(s.where.length > 0, at);
    for (const l of s.where) {
      if (l.kind === 'xsave') {
        const c = COMPONENTS.find((x) => x.index === l.component);
        assert.ok(c, `${at}: XSAVE component ${l.component} exists`);
        assert.equal(l.supervisor, c.supervisor, `${at}: component ${l.component} supervisor flag`);
      } else if (l.kind === 'msr') {
        assert.ok(nonEmpty(l.name), at);
        assert.match(l.index, /^0x[0-9a-f]+$/, `${at}: MSR index ${l.index}`);
      } else assert.ok(nonEmpty(l.name), at);
    }
    assert.ok(s.saveLoad.mechanisms.length > 0 && s.saveLoad.mechanisms.every((m) => MECHANISMS.includes(m)), at);
    assert.ok(nonEmpty(s.saveLoad.detail), at);
    assert.ok(TRAPS.includes(s.lazy.trap) && TIMINGS.includes(s.lazy.timing) && nonEmpty(s.lazy.detail), at);
    assert.ok(['none', 'low', 'medium', 'high'].includes(s.cost.class) && nonEmpty(s.cost.note), at);
    for (const f of s.cost.figures) {
      assert.ok(nonEmpty(f.what) && nonEmpty(f.value), at);
      assert.ok(STRENGTHS.includes(f.strength), `${at}: strength ${f.strength}`);
      assert.match(f.citation, /^cost-figures\.md §\d/, `${at}: figures come only from cost-figures.md`);
    }
    assert.ok(['current', 'kvm-only', 'not-merged'].includes(s.linux.status) && nonEmpty(s.linux.note), at);
    if (s.linux.status === 'not-merged') assert.equal(s.linux.since, null, at);
    else assert.match(s.linux.since ?? '', /^(≤)?\d+\.\d+$/, `${at}: since`);
    assert.ok(s.linux.until === null || /^\d+\.\d+$/.test(s.linux.until), at);
  }
});

test('every row cites its sources: a Linux file or patch, the SDM, and seed 003 where the seed names it', () => {
  for (const s of STATE_KINDS) {
    const at = `row ${s.key}`;
    assert.ok(s.source.length > 0 && s.source.every(nonEmpty), at);
    assert.ok(s.source.some((x) => /\bLinux\b|RFC|patch series/.test(x)), `${at} cites Linux`);
    assert.ok(s.source.some((x) => /\bSDM\b/.test(x)), `${at} cites the SDM`);
  }
  for (const key of SEED_003) assert.ok(row(key).source.some((x) => x.startsWith('seed 003')), `row ${key} cites seed 003`);
});

test('keys are unique and the rows the issue names exist', () => {
  const keys = STATE_KINDS.map((s) => s.key);
  assert.equal(new Set(keys).size, keys.length, 'unique keys');
  for (const key of REQUIRED) row(key);
});

test('policies: only known names, and the documented ones on the right rows', () => {
  assert.deepEqual([...KNOWN.fpu].sort(), FPU_POLICIES.map((p) => p.name).sort(), 'the FPU policies src/policies/fpu has');
  for (const s of STATE_KINDS)
    for (const p of s.policies) assert.ok(KNOWN[p.family]?.includes(p.name), `row ${s.key}: unknown policy ${p.family}:${p.name}`);
  const names = (key: string, family: string): string[] =>
    row(key)
      .policies.filter((p) => p.family === family)
      .map((p) => p.name as string)
      .sort();
  for (const key of ['x87', 'sse', 'avx', 'avx512', 'amx-tilecfg', 'amx-tiledata']) assert.deepEqual(names(key, 'fpu'), [...KNOWN.fpu].sort(), key);
  assert.deepEqual(names('amx-tiledata', 'xbuf'), [...KNOWN.xbuf].sort());
  assert.deepEqual(names('pkru', 'pkru'), [...KNOWN.pkru].sort());
  assert.deepEqual(names('pasid', 'pasid'), [...KNOWN.pasid].sort());
  for (const key of ['cr3', 'ldtr', 'pkrs', 'kernel-gs-base', 'segments', 'tsc-aux']) assert.deepEqual(row(key).policies, [], `${key} is not modeled`);
});

test('the seed\'s classification: scopes, kernel-affecting state, lazy traps', () => {
  assert.equal(row('cr3').scope, 'per-mm');
  assert.equal(row('ldtr').scope, 'per-mm');
  assert.equal(row('pasid').scope, 'per-mm');
  assert.equal(row('tsc-aux').scope, 'per-cpu');
  assert.equal(row('amx-tiledata').scope, 'per-thread');
  assert.ok(row('pkru').affectsKernel && row('pkrs').affectsKernel && row('cr3').affectsKernel);
  assert.ok(!row('x87').affectsKernel && !row('amx-tiledata').affectsKernel);
  assert.equal(row('pkru').lazy.timing, 'eager');
  assert.equal(row('amx-tiledata').lazy.trap, 'nm-xfd');
  assert.equal(row('x87').lazy.trap, 'nm-cr0-ts');
  assert.equal(row('pasid').lazy.trap, 'gp-fixup');
  assert.deepEqual(row('cr3').saveLoad.mechanisms, ['switch-mm']);
  assert.equal(row('pkrs').linux.status, 'not-merged');
  assert.equal(row('uintr').linux.status, 'not-merged');
  assert.equal(row('amx-tiledata').linux.since, '5.16');
  assert.equal(row('pkru').linux.since, '5.14');
  assert.equal(row('pasid').linux.since, '5.18');
});

async function runCli(...args: string[]): Promise<string> {
  const program = new Command().exitOverride();
  program.addCommand(stateKindsCommand());
  let out = '';
  const write = process.stdout.write;
  process.stdout.write = ((chunk: string | Uint8Array): boolean => {
    out += typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8');
    return true;
  }) as typeof process.stdout.write;
  try {
    await program.parseAsync(['node', 'switchlab', 'state-kinds', ...args]);
  } finally {
    process.stdout.write = write;
  }
  return out;
}

test('state-kinds --json is the table, nothing shortened', async () => {
  const out = await runCli('--json');
  assert.ok(out.endsWith('\n'));
  assert.deepEqual(JSON.parse(out), STATE_KINDS);
});

test('state-kinds: one line per kind under a header, then the legend', async () => {
  const lines = (await runCli()).trimEnd().split('\n');
  assert.match(lines[0], /^key\s+scope\s+where\s+save\/load\s+lazy via\s+policies\s+Linux$/);
  assert.match(lines[1], /^-+( +-+)+$/);
  STATE_KINDS.forEach((s, i) => assert.ok(lines[2 + i].startsWith(s.key + ' '), `line for ${s.key}: ${lines[2 + i]}`));
  const rest = lines.slice(2 + STATE_KINDS.length).join('\n');
  assert.match(rest, new RegExp(`^${STATE_KINDS.length} kinds\\.`));
  assert.match(rest, /fpu:\* = deferred, eager, lazy-ts, rfc-2016/);
  assert.match(rest, /xbuf:\* = vmalloc, vmalloc-cache, percpu-bounce, kmap-window/);
  const tiledata = lines.find((l) => l.startsWith('amx-tiledata '));
  assert.match(tiledata ?? '', /#NM XFD \(first-use\)\s+fpu:\* xbuf:\*\s+5\.16\+$/);
});
