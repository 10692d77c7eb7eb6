// The checker: the correct policies pass the default bounds exhaustively; each mutant is found with a
// shortest counterexample that replays from its file; the CLI's exit codes are 0 / 1 / 2.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { builtinProfile } from '../src/arch/profiles/builtin.js';
import { CheckConfig, DEFAULT_CONFIG, explore, replayPath } from '../src/check/explore.js';
import { MUTANTS, mutant, mutantConfig } from '../src/check/mutants/index.js';
import { deferred } from '../src/policies/fpu/deferred.js';
import { eager } from '../src/policies/fpu/eager.js';
import { assertBadInput, runCli } from './helpers/cli.js';
import { repoPath } from './helpers/paths.js';

const zen4 = builtinProfile('zen4')!;

test('deferred and eager keep every task’s state intact and private: every interleaving of the default bounds', () => {
  for (const p of [deferred, eager]) {
    const r = explore(zen4, { policy: p }, DEFAULT_CONFIG);
    assert.equal(r.finding, undefined, `${p.name}: ${r.finding?.detail}`);
    assert.equal(r.exhaustive, true);
    assert.equal(r.depthReached, DEFAULT_CONFIG.depth);
    assert.ok(r.states > 20000, `${p.name}: ${r.states} states`);
  }
});

test('every mutant is found with a shortest path: the stale owner in one move, exec with a migration in the middle in 11 (catalogue F3), last_cpu ignored in 4', () => {
  for (const m of MUTANTS) {
    const cpu = builtinProfile(m.cpu ?? 'zen4')!;
    const r = explore(cpu, m, mutantConfig(m));
    assert.ok(r.finding, `${m.name} not found`);
    // Replaying the path reaches the same violation at its last move.
    const rep = replayPath(cpu, m, mutantConfig(m), r.finding.path);
    assert.equal(rep.finding?.invariant, r.finding.invariant);
    assert.equal(rep.finding?.at, r.finding.path.length - 1);
  }
  const a = explore(zen4, mutant('deferred-kfpu-keeps-owner')!, DEFAULT_CONFIG).finding!;
  assert.equal(a.invariant, 'confidentiality');
  assert.equal(a.path.length, 1);
  // F3 as its commit message tells it: exec preempted, migrated, flushed on CPU1, back on CPU0, restore skipped.
  const f3 = explore(zen4, mutant('deferred-exec-drop')!, DEFAULT_CONFIG).finding!;
  assert.equal(f3.invariant, 'integrity');
  assert.deepEqual(
    f3.path.map((m) => m.op),
    ['write', 'syscall', 'switch', 'syscall', 'migrate', 'switch', 'exec', 'switch', 'migrate', 'switch', 'return'],
  );
  assert.equal(explore(zen4, mutant('deferred-exec-drop')!, { ...DEFAULT_CONFIG, depth: 10 }).finding, undefined, 'no shorter path');
  assert.equal(explore(zen4, mutant('deferred-no-last-cpu')!, DEFAULT_CONFIG).finding!.path.length, 4);
  // Without exec, ignoring last_cpu needs a 12-move migration round trip, and nothing shorter exists.
  const noExec = { ...DEFAULT_CONFIG, moves: DEFAULT_CONFIG.moves.filter((m) => m !== 'exec') };
  const b = explore(zen4, mutant('deferred-no-last-cpu')!, noExec).finding!;
  assert.equal(b.invariant, 'integrity');
  assert.equal(b.path.length, 12);
  assert.equal(explore(zen4, mutant('deferred-no-last-cpu')!, { ...noExec, depth: 11 }).finding, undefined);
});

test('check CLI: 0 for a proof, 1 with a replayable counterexample, 2 for bad input', () => {
  const dir = mkdtempSync(join(tmpdir(), 'switchlab-check-'));
  try {
    const ok = runCli('check', '--policy', 'eager', '--depth', '8');
    assert.equal(ok.code, 0, ok.err);
    assert.match(ok.out, /no violation: every interleaving up to depth 8 explored/);
    const leak = runCli('check', '--mutant', 'deferred-kfpu-keeps-owner');
    assert.equal(leak.code, 1, leak.err);
    assert.match(leak.out, /VIOLATION of confidentiality after 1 moves/);
    assert.match(leak.out, /interrupt runs kernel_fpu_begin\(\) … kernel_fpu_end\(\) in softirq context/);
    const bad = runCli('check', '--mutant', 'deferred-no-last-cpu', '--moves', 'write,syscall,return,switch,migrate', '--out', dir);
    assert.equal(bad.code, 1, bad.err);
    assert.match(bad.out, /VIOLATION of integrity after 12 moves/);
    // The recorded trace shows the bug: the last return to user activates no registers (restore skipped).
    const trace = readFileSync(join(dir, 'counterexample.trace'), 'utf8');
    assert.match(trace, /sched_migrate_task: comm=t101 pid=101 prio=120 orig_cpu=1 dest_cpu=0/);
    assert.doesNotMatch(trace.slice(trace.lastIndexOf('dest_cpu=0')), /x86_fpu_regs_activated/);
    const rep = runCli('check', '--replay', join(dir, 'counterexample.json'), '--json');
    assert.equal(rep.code, 1);
    assert.equal((JSON.parse(rep.out) as { reproduced: boolean }).reproduced, true);
    const shipped = runCli('check', '--replay', repoPath('examples/counterexamples/deferred-no-last-cpu/counterexample.json'));
    assert.equal(shipped.code, 1, shipped.err);
    // The mutant's moves against its parent policy: no violation.
    const parent = runCli('check', '--replay', repoPath('examples/counterexamples/deferred-no-last-cpu/counterexample.json'), '--policy', 'deferred');
    assert.equal(parent.code, 0, parent.err);
    assert.match(parent.out, /does not reproduce: no invariant broken/);
    assertBadInput(['check', '--mutant', 'nope'], /--mutant: unknown mutant 'nope'/);
    assertBadInput(['check', '--moves', 'write,teleport'], /--moves: unknown move 'teleport'/);
    assertBadInput(['check', '--replay', join(dir, 'missing.json')], /missing\.json: cannot read counterexample/);
    // PASID moves need a PASID policy and a CPU with ENQCMD; a mutant's own design cannot be replaced.
    assertBadInput(['check', '--moves', 'syscall,return,enqcmd'], /--moves: enqcmd needs a PASID policy/);
    assertBadInput(['check', '--pasid', 'gp-fixup', '--moves', 'syscall,return,pasid,enqcmd'], /--moves: pasid, enqcmd need a CPU with ENQCMD.*zen4 has none/);
    assertBadInput(['check', '--mutant', 'pkru-no-stash', '--pkru', 'eager'], /--pkru: mutant 'pkru-no-stash' brings its own pkru design/);
    // A bound given on the command line wins over the mutant's own (pkru-xstate-init-value: depth 8, comps [9]).
    const shallow = runCli('check', '--mutant', 'pkru-xstate-init-value', '--depth', '3', '--json');
    assert.equal(shallow.code, 0, shallow.err);
    assert.deepEqual((JSON.parse(shallow.out) as { config: { depth: number; comps: number[] } }).config.depth, 3);
    assert.deepEqual((JSON.parse(shallow.out) as { config: { depth: number; comps: number[] } }).config.comps, [9]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('signals in the explorer: the handler starts from init state, rt_sigreturn brings back the interrupted values, under every correct policy; the RFC of 2016 fails it', async () => {
  const { lazyTs } = await import('../src/policies/fpu/lazy-ts.js');
  const { rfc2016 } = await import('../src/policies/fpu/rfc-2016.js');
  const cfg: CheckConfig = { ...DEFAULT_CONFIG, moves: [...DEFAULT_CONFIG.moves, 'signal', 'sigreturn'] };
  const path = [
    { op: 'write', pid: 101, comp: 1 },
    { op: 'signal', pid: 101 },
    { op: 'syscall', pid: 101 },
    { op: 'return', pid: 101 }, // delivery: the handler reads init state
    { op: 'write', pid: 101, comp: 1 }, // the handler changes SSE
    { op: 'kfpu', cpu: 0, ctx: 'softirq' },
    { op: 'sigreturn', pid: 101 }, // back to the value written before the signal
  ] as const;
  for (const p of [deferred, eager, lazyTs]) {
    const r = replayPath(zen4, { policy: p }, cfg, path);
    assert.equal(r.finding, null, `${p.name}: ${r.finding?.detail}`);
    assert.ok(r.steps[3].trace.some((e) => e.name === 'signal_deliver'), `${p.name}: the signal is delivered on return`);
  }
  // Patch 5/5 leaves TIF_LOAD_FPU set across delivery: the exit path reloads the interrupted registers.
  const rfc = replayPath(zen4, { policy: rfc2016 }, cfg, [path[0], path[1], path[5]]);
  assert.equal(rfc.finding?.at, 2);
  assert.match(rfc.finding?.detail ?? '', /an older value of its own, not init state/);
  // Every interleaving with signals to depth 7 is clean for deferred.
  const r = explore(zen4, { policy: deferred }, { ...cfg, depth: 7 });
  assert.equal(r.finding, undefined, r.finding?.detail);
  assert.ok(r.exhaustive);
});

test('the moves beyond the default bounds: fork, clone, exit, ptrace, corrupted sigreturn, PKRU, AMX first use, KVM guests — every correct design is clean', async () => {
  const { pkruEager } = await import('../src/policies/pkru/eager.js');
  const { xbufDesign } = await import('../src/policies/xbuf/index.js');
  const spr = builtinProfile('sapphire-rapids')!;
  const base: CheckConfig = { ...DEFAULT_CONFIG, moves: ['write', 'syscall', 'return', 'switch', 'kfpu-softirq', 'migrate'], depth: 6 };
  const runs: [string, CheckConfig, Parameters<typeof explore>[1], typeof zen4][] = [
    ['processes', { ...base, children: 1, moves: [...base.moves, 'fork', 'clone', 'exit', 'exec'] }, { policy: deferred }, zen4],
    ['ptrace', { ...base, moves: [...base.moves, 'ptrace-get', 'ptrace-set', 'ptrace-bogus'], depth: 7 }, { policy: eager }, zen4],
    ['signal frames', { ...base, moves: [...base.moves, 'signal', 'sigreturn', 'sigreturn-bad'] }, { policy: deferred }, zen4],
    ['PKRU', { ...base, comps: [1, 9], moves: [...base.moves, 'uaccess', 'signal', 'sigreturn'] }, { policy: deferred, designs: { pkru: pkruEager } }, zen4],
    ['AMX', { ...base, comps: [18], children: 1, moves: [...base.moves, 'fork', 'exec'] }, { policy: deferred, designs: { xbuf: xbufDesign('percpu-bounce') } }, spr],
    ['KVM', { ...base, moves: [...base.moves, 'kfpu-task', 'kvm', 'guest-write'], depth: 7 }, { policy: deferred }, zen4],
    ['hardirq inside fpregs_lock', { ...base, moves: [...base.moves, 'signal', 'sigreturn', 'irq-in-lock'], depth: 6 }, { policy: deferred }, zen4],
  ];
  for (const [what, cfg, target, cpu] of runs) {
    const r = explore(cpu, target, cfg);
    assert.equal(r.finding, undefined, `${what}: ${r.finding?.invariant}: ${r.finding?.detail}`);
    assert.ok(r.exhaustive && r.states > 100, `${what}: ${r.states} states`);
  }
});

test('design findings: the switch-mm sketch never gives a thread created before the bind its PASID; the #GP fix-up keeps a stale PASID after a change', async () => {
  const { pasidPolicy } = await import('../src/policies/pasid/index.js');
  const spr = builtinProfile('sapphire-rapids')!;
  const cfg: CheckConfig = { ...DEFAULT_CONFIG, children: 1, moves: ['syscall', 'return', 'switch', 'pasid', 'enqcmd', 'clone'], depth: 8 };
  const sw = explore(spr, { policy: deferred, designs: { pasid: pasidPolicy('switch-mm') } }, cfg).finding!;
  assert.equal(sw.invariant, 'pasid');
  assert.deepEqual(sw.path.map((m) => m.op), ['syscall', 'fork', 'pasid', 'switch', 'return', 'enqcmd']);
  assert.equal(explore(spr, { policy: deferred, designs: { pasid: pasidPolicy('gp-fixup') } }, cfg).finding, undefined, 'gp-fixup fixes the thread up');
  const change = explore(spr, { policy: deferred, designs: { pasid: pasidPolicy('gp-fixup') } }, { ...cfg, moves: [...cfg.moves, 'pasid-change'] }).finding!;
  assert.equal(change.invariant, 'pasid');
  assert.match(change.detail, /carried PASID \d+, its mm \d+ has PASID \d+/);
});

test('counterexamples with the new moves replay from their files (a PASID design mutant brings its CPU)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'switchlab-check-'));
  try {
    const r = runCli('check', '--mutant', 'gp-fixup-fork-keeps-pasid', '--out', dir);
    assert.equal(r.code, 1, r.err);
    assert.match(r.out, /fork\(\): fpu_clone\(\) copies its state/);
    const cx = JSON.parse(readFileSync(join(dir, 'counterexample.json'), 'utf8')) as { cpu: string };
    assert.equal(cx.cpu, 'sapphire-rapids');
    const rep = runCli('check', '--replay', join(dir, 'counterexample.json'));
    assert.equal(rep.code, 1, rep.err);
    assert.match(rep.out, /✗ pasid: ENQCMD by t102-102 carried PASID 1, its mm 102 has none/);
    assertBadInput(['check', '--comps', '1,5'], /--comps: component 5 cannot be tracked/);
    assertBadInput(['check', '--comps', '18'], /--comps: component 18 is not enabled on zen4/);
    assertBadInput(['check', '--pkru', 'lazy'], /--pkru: unknown PKRU policy 'lazy'/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('KVM: the guest sees its own values at every VM entry; a host value in the guest is a leak', () => {
  const cfg: CheckConfig = { ...DEFAULT_CONFIG, moves: ['write', 'syscall', 'return', 'switch', 'kfpu-softirq', 'kvm', 'guest-write'] };
  const path = [
    { op: 'write', pid: 101, comp: 1 },
    { op: 'syscall', pid: 101 },
    { op: 'kvm', pid: 101, what: 'run' },
    { op: 'kvm', pid: 101, what: 'entry' }, // the guest starts from init state
    { op: 'guest-write', pid: 101, comp: 1 },
    { op: 'kvm', pid: 101, what: 'exit' },
    { op: 'kfpu', cpu: 0, ctx: 'softirq' }, // saves the guest's registers (the current fpstate)
    { op: 'switch', cpu: 0, next: -1 },
    { op: 'switch', cpu: 0, next: 101 },
    { op: 'kvm', pid: 101, what: 'entry' }, // reloaded: the guest's value
    { op: 'kvm', pid: 101, what: 'exit' },
    { op: 'return', pid: 101 }, // KVM_RUN returns: the host value again
  ] as const;
  const r = replayPath(zen4, { policy: deferred }, cfg, path);
  assert.equal(r.finding, null, r.finding?.detail);
  // The second VM entry reloads the saved guest state (switch_fpu_return before entering the guest).
  assert.ok(r.steps[9].trace.some((e) => e.name === 'x86_fpu_regs_activated'), 'guest state reloaded at VM entry');
  // Entering the guest without that reload leaks the kernel's values into it.
  const broken = { ...deferred, name: 'broken', makeRegistersValid() {} };
  const b = explore(zen4, { policy: broken }, { ...cfg, depth: 8 }).finding!;
  assert.equal(b.invariant, 'confidentiality');
  assert.match(b.detail, /KVM guest enters and reads component 1 = a value written by kernel FPU code/);
});

test('--mutant-file: a mutant written outside the corpus is checked, replayed and refused when malformed', () => {
  const dir = mkdtempSync(join(tmpdir(), 'switchlab-mutfile-'));
  try {
    const file = repoPath('examples/mutants/deferred-switch-no-tif.mjs');
    const r = runCli('check', '--mutant-file', file, '--out', dir);
    assert.equal(r.code, 1, r.err);
    assert.match(r.out, /check deferred-switch-no-tif \(mutant of deferred\)/);
    assert.match(r.out, /VIOLATION of confidentiality after 5 moves/);
    const rep = runCli('check', '--replay', join(dir, 'counterexample.json'), '--mutant-file', file);
    assert.equal(rep.code, 1, rep.err);
    assert.match(rep.out, /✗ confidentiality/);
    const all = runCli('check', '--mutant-file', file, '--all-mutants', '--json');
    assert.equal(all.code, 0, all.err);
    assert.deepEqual((JSON.parse(all.out) as { mutants: { name: string; found: boolean }[] }).mutants.map((m) => [m.name, m.found]), [['deferred-switch-no-tif', true]]);
    const bad = join(dir, 'bad.mjs');
    writeFileSync(bad, "export const m = { name: 'x', of: 'deferred', bug: 'b', policy: { switchOut() {} } };\n");
    assertBadInput(['check', '--mutant-file', bad], /bad\.mjs: export 'm' is not a mutant: 'policy\.switchIn' must be a function/);
    const none = join(dir, 'none.mjs');
    writeFileSync(none, 'export const x = 1;\n');
    assertBadInput(['check', '--mutant-file', none], /none\.mjs: exports no mutant/);
    assertBadInput(['check', '--mutant-file', join(dir, 'missing.mjs')], /missing\.mjs: cannot read mutant file/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('corrupted images: each bad frame gives init state and SIGSEGV; each bad ptrace image is refused (XSTATE_BV, XCOMP_BV, MXCSR)', async () => {
  const { BAD_IMAGES } = await import('../src/check/explore.js');
  const cfg: CheckConfig = { ...DEFAULT_CONFIG, moves: [...DEFAULT_CONFIG.moves, 'signal', 'sigreturn-bad', 'ptrace-bogus', 'ptrace-get'] };
  for (const bad of BAD_IMAGES) {
    const path = [
      { op: 'write', pid: 101, comp: 1 },
      { op: 'signal', pid: 101 },
      { op: 'syscall', pid: 101 },
      { op: 'return', pid: 101 }, // the SIGUSR1 handler starts
      { op: 'sigreturn-bad', pid: 101, bad },
      { op: 'syscall', pid: 102 }, // the debugger
      { op: 'syscall', pid: 101 },
      { op: 'switch', cpu: 0, next: -1 }, // t101 stops, off the CPU
      { op: 'ptrace', pid: 102, target: 101, how: 'bogus', bad },
      { op: 'ptrace', pid: 102, target: 101, how: 'get' },
    ] as const;
    const r = replayPath(zen4, { policy: deferred }, cfg, path);
    assert.equal(r.finding, null, `${bad}: ${r.finding?.detail}`);
    const back = r.steps[4].trace;
    assert.ok(back.some((e) => e.name === 'signal_deliver' && /sig=11 /.test(e.text)), `${bad}: SIGSEGV delivered after the failed rt_sigreturn`);
  }
});

test('kernel versions (--kernel): 4.13 on a standard-format CPU copies a ptrace image unchecked (CVE-2017-15537, catalogue B3), 4.14 refuses it, a compacted CPU converts it, a masked MXCSR is harmless', () => {
  const haswell = builtinProfile('haswell')!;
  const skylake = builtinProfile('skylake-client')!;
  const cfg: CheckConfig = { ...DEFAULT_CONFIG, cpus: 1, moves: ['write', 'syscall', 'return', 'switch', 'ptrace-bogus'], depth: 6 };
  const old = { policy: eager, kernel: '4.13' };
  const path = (bad: 'xstate-bv' | 'xcomp-bv' | 'mxcsr') =>
    [
      { op: 'write', pid: 101, comp: 1 },
      { op: 'syscall', pid: 101 },
      { op: 'ptrace', pid: 101, target: 102, how: 'bogus', bad },
    ] as const;
  for (const bad of ['xstate-bv', 'xcomp-bv'] as const) {
    const r = replayPath(haswell, old, cfg, path(bad));
    assert.equal(r.finding?.invariant, 'ptrace', bad);
    assert.match(r.finding!.detail, new RegExp(`bad ${bad.toUpperCase().replace('-', '_')} for t102; its buffer now makes XRSTOR raise #GP`));
    assert.equal(replayPath(haswell, { policy: eager, kernel: '4.14' }, cfg, path(bad)).finding, null, `${bad}: 4.14 refuses it`);
    assert.equal(replayPath(skylake, old, cfg, path(bad)).finding, null, `${bad}: the compacted path of 4.13 converts and checks it`);
  }
  // 4.13 took the bad MXCSR and masked it with mxcsr_feature_mask: accepted, and harmless.
  assert.equal(replayPath(haswell, old, cfg, path('mxcsr')).finding, null);
  assert.equal(explore(haswell, old, cfg).finding?.path.length, 2);
  assert.equal(explore(haswell, { policy: eager, kernel: '4.14' }, cfg).finding, undefined);
  assertBadInput(['check', '--kernel', '3.10'], /--kernel: Linux 3\.10 is too old/);
});

test('buffer ownership: a cache hit left in the cache, or a buffer freed twice, makes two owners of one XSAVE buffer — found at once, while vmalloc-cache itself is clean', async () => {
  const { vmallocCache } = await import('../src/policies/xbuf/vmalloc-cache.js');
  const spr = builtinProfile('sapphire-rapids')!;
  const cfg: CheckConfig = { ...DEFAULT_CONFIG, comps: [18], moves: ['write', 'syscall', 'return', 'exec', 'kfpu-task'], depth: 12 };
  const keepsHit = {
    ...vmallocCache,
    allocate: (...a: Parameters<typeof vmallocCache.allocate>) => {
      const hit = a[0].st.xbuf.cache.find((f) => f.size === a[3]);
      return hit ?? vmallocCache.allocate(...a);
    },
  };
  const freesTwice = { ...vmallocCache, free: (...a: Parameters<typeof vmallocCache.free>) => (vmallocCache.free(...a), vmallocCache.free(...a)) };
  for (const [what, xbuf] of [
    ['cache hit not removed', keepsHit],
    ['double free', freesTwice],
  ] as const) {
    const f = explore(spr, { policy: deferred, designs: { xbuf } }, cfg).finding;
    assert.equal(f?.invariant, 'buffer-owner', what);
    assert.match(f!.detail, /buffer cache slot/, what);
  }
  const clean = explore(spr, { policy: deferred, designs: { xbuf: vmallocCache } }, cfg);
  assert.equal(clean.finding, undefined, clean.finding?.detail);
  assert.ok(clean.exhaustive);
});

test('rt_sigreturn in two steps (sigreturn-enter, sigreturn-restore): preemption and kernel FPU use before and after the restore; every correct policy is clean, fpregs_mark_activate() that keeps TIF_NEED_FPU_LOAD is found', async () => {
  const { lazyTs } = await import('../src/policies/fpu/lazy-ts.js');
  const { fpregsActivate } = await import('../src/kernel/fpu/core.js');
  const cfg: CheckConfig = { ...DEFAULT_CONFIG, moves: ['write', 'syscall', 'return', 'switch', 'kfpu-task', 'kfpu-softirq', 'migrate', 'signal', 'sigreturn-enter', 'sigreturn-bad'], depth: 7 };
  for (const p of [deferred, eager, lazyTs]) {
    const r = explore(zen4, { policy: p }, cfg);
    assert.equal(r.finding, undefined, `${p.name}: ${r.finding?.detail}`);
  }
  const keepsTif = { ...deferred, name: 'keeps-tif', markActivated: (...a: Parameters<typeof deferred.markActivated>) => (fpregsActivate(a[0], a[1], a[2].fpu), (a[2].fpu.lastCpu = a[1].id)) };
  const f = explore(zen4, { policy: keepsTif }, { ...cfg, moves: ['write', 'syscall', 'return', 'kfpu-task', 'signal', 'sigreturn-enter'], depth: 10 }).finding;
  assert.equal(f?.invariant, 'integrity');
  assert.deepEqual(
    f!.path.map((m) => m.op),
    ['write', 'syscall', 'signal', 'return', 'sigreturn-enter', 'kfpu', 'sigreturn-restore', 'kfpu', 'return'],
  );
  // With the atomic rt_sigreturn the same bug is out of reach: the restore never meets TIF_NEED_FPU_LOAD set.
  assert.equal(explore(zen4, { policy: keepsTif }, { ...cfg, moves: ['write', 'syscall', 'return', 'kfpu-task', 'signal', 'sigreturn'], depth: 10 }).finding, undefined);
});

test('user MXCSR (the mxcsr move): a task reads back the MXCSR it loaded, the default after exec, in a handler and in a forked child; a kernel_fpu_begin() that loads the default before saving is found', async () => {
  const { writeMxcsr } = await import('../src/arch/xsave/registers.js');
  const { MXCSR_INIT } = await import('../src/arch/xsave/values.js');
  const cfg: CheckConfig = { ...DEFAULT_CONFIG, children: 1, moves: ['write', 'syscall', 'return', 'switch', 'kfpu-task', 'kfpu-softirq', 'migrate', 'exec', 'fork', 'signal', 'sigreturn', 'mxcsr'], depth: 6 };
  const r = explore(zen4, { policy: deferred }, cfg);
  assert.equal(r.finding, undefined, r.finding?.detail);
  const early = {
    ...deferred,
    kernelFpuBegin: (...a: Parameters<typeof deferred.kernelFpuBegin>) => {
      const xs = a[1].xs;
      const cpl = xs.cpl;
      xs.cpl = 0;
      writeMxcsr(xs, MXCSR_INIT, a[0].m.profile.quirks.mxcsrMask);
      xs.cpl = cpl;
      deferred.kernelFpuBegin(...a);
    },
  };
  const f = explore(zen4, { policy: early }, cfg).finding;
  assert.equal(f?.invariant, 'integrity');
  assert.match(f!.detail, /reads MXCSR 0x1f80, not 0x7f80/);
});

test('interrupts: an armed interrupt runs where the kernel moves the registers with IRQs on — its hardirq part inside fpregs_lock(), its softirq too outside — so an fpu_clone() without fpregs_lock() is found; exit to user mode runs with IRQs off', async () => {
  const { fpregsRestoreUserregs } = await import('../src/policies/fpu/deferred.js');
  const { saveFpregsToFpstate } = await import('../src/kernel/fpu/core.js');
  const { TIF_NEED_FPU_LOAD } = await import('../src/kernel/state.js');
  const cfg: CheckConfig = { ...DEFAULT_CONFIG, comps: [1], children: 1, moves: ['write', 'syscall', 'return', 'switch', 'kfpu-softirq', 'fork', 'irq-in-lock'], depth: 7 };
  assert.equal(explore(zen4, { policy: deferred }, cfg).finding, undefined);
  const unlocked = {
    ...deferred,
    fork: (...a: Parameters<typeof deferred.fork>) => {
      const [k, cpu, parent, child, minimal] = a;
      child.fpu.lastCpu = -1;
      child.tif |= TIF_NEED_FPU_LOAD;
      if (minimal) return;
      if (parent.tif & TIF_NEED_FPU_LOAD) fpregsRestoreUserregs(k, cpu, parent);
      saveFpregsToFpstate(k, cpu, child.fpu, child);
    },
  };
  const f = explore(zen4, { policy: unlocked }, cfg).finding;
  assert.equal(f?.invariant, 'confidentiality');
  assert.deepEqual(
    f!.path.map((m) => m.op),
    ['syscall', 'kfpu', 'irq-in-lock', 'fork', 'return'],
  );
});

test('core dumps (the coredump move): a task’s own NT_X86_XSTATE note, its registers live, shows its current values under every correct policy; an fpu_sync_fpstate() that does not save is found', async () => {
  const { lazyTs } = await import('../src/policies/fpu/lazy-ts.js');
  const { fpuInvalidateFpregsState } = await import('../src/kernel/fpu/core.js');
  const { TIF_NEED_FPU_LOAD } = await import('../src/kernel/state.js');
  const cfg: CheckConfig = { ...DEFAULT_CONFIG, comps: [1], moves: ['write', 'syscall', 'return', 'switch', 'kfpu-task', 'kfpu-softirq', 'migrate', 'coredump'], depth: 7 };
  for (const p of [deferred, eager, lazyTs]) assert.equal(explore(zen4, { policy: p }, cfg).finding, undefined, p.name);
  const noSave = {
    ...deferred,
    makeMemoryValid: (...a: Parameters<typeof deferred.makeMemoryValid>) => {
      const [, cpu, t, forWrite] = a;
      if (!forWrite) return;
      fpuInvalidateFpregsState(t.fpu);
      if (cpu && cpu.curr === t.pid) t.tif |= TIF_NEED_FPU_LOAD;
    },
  };
  const f = explore(zen4, { policy: noSave }, cfg).finding;
  assert.equal(f?.invariant, 'ptrace');
  assert.deepEqual(
    f!.path.map((m) => m.op),
    ['write', 'syscall', 'coredump'],
  );
});

test('warm-up (--warmup): lazy-ts preloads after 5 consecutive FPU-using slices, out of breadth-first reach from a cold start; warmed, a preload check that ignores last_cpu is found in 12 moves, and lazy-ts itself is clean', async () => {
  const { lazyTs } = await import('../src/policies/fpu/lazy-ts.js');
  const ownerOnly = {
    ...lazyTs,
    switchOut: (...a: Parameters<typeof lazyTs.switchOut>) => {
      const [, cpu, , next] = a;
      if (next.kind === 'user' && cpu.owner === next.fpu.id) next.fpu.lastCpu = cpu.id;
      lazyTs.switchOut(...a);
    },
  };
  const cfg: CheckConfig = { ...DEFAULT_CONFIG, comps: [1], moves: ['write', 'syscall', 'return', 'switch', 'migrate'], depth: 12 };
  assert.equal(explore(zen4, { policy: ownerOnly }, cfg).finding, undefined, 'cold: no preload within 12 moves');
  const warm = { ...cfg, warmup: 6 };
  const f = explore(zen4, { policy: ownerOnly }, warm).finding;
  assert.equal(f?.invariant, 'integrity');
  assert.equal(f!.path.length, 12);
  assert.equal(replayPath(zen4, { policy: ownerOnly }, warm, f!.path).finding?.at, 11, 'the replay warms up the same way');
  assert.equal(explore(zen4, { policy: lazyTs }, warm).finding, undefined);
});

test('a Linux 6.15–6.18 regression the checker finds on its own: with check_xstate_in_sigframe() looking for MAGIC2 after the current user_size (dc8aa31a7ac2), a handler\'s first AMX use grows the buffer and rt_sigreturn falls back to FX-only, resetting AVX; 6.14\'s check is clean', () => {
  const spr = builtinProfile('sapphire-rapids')!;
  const cfg: CheckConfig = { ...DEFAULT_CONFIG, comps: [2, 18], moves: ['write', 'syscall', 'return', 'switch', 'kfpu-softirq', 'signal', 'sigreturn'], depth: 5 };
  const f = explore(spr, { policy: deferred }, cfg).finding;
  assert.equal(f?.invariant, 'integrity');
  assert.deepEqual(
    f!.path.map((m) => m.op),
    ['write', 'signal', 'kfpu', 'sigreturn'],
  );
  assert.match(f!.detail, /component 2 = init state/);
  const old = explore(spr, { policy: deferred, kernel: '6.14' }, cfg);
  assert.equal(old.finding, undefined, old.finding?.detail);
  assert.ok(old.exhaustive);
});

test('a thread-group leader that exits before its thread stays a zombie: the thread keeps the group\'s AMX permission (its tile data stays its own)', async () => {
  const { vmallocCache } = await import('../src/policies/xbuf/vmalloc-cache.js');
  const spr = builtinProfile('sapphire-rapids')!;
  const cfg: CheckConfig = { ...DEFAULT_CONFIG, comps: [1, 18], children: 1, moves: ['write', 'syscall', 'return', 'switch', 'clone', 'exit'], depth: 7 };
  const path = [
    { op: 'syscall', pid: 101 },
    { op: 'fork', pid: 101, thread: true },
    { op: 'exit', pid: 101 },
    { op: 'switch', cpu: 0, next: 103 },
    { op: 'return', pid: 103 },
  ] as const;
  const r = replayPath(spr, { policy: deferred, designs: { xbuf: vmallocCache }, kernel: '6.14' }, cfg, path);
  assert.equal(r.finding, null, r.finding?.detail);
  const all = explore(spr, { policy: deferred, designs: { xbuf: vmallocCache }, kernel: '6.14' }, cfg);
  assert.equal(all.finding, undefined, all.finding?.detail);
});

test('PKRU init tracking: the F7 and E3 mutants are found on an AMD profile and not on Intel, as in reality', () => {
  const spr = builtinProfile('sapphire-rapids')!;
  for (const name of ['pkru-sigframe-bv-clear', 'pkru-xstate-init-value']) {
    const m = mutant(name)!;
    assert.ok(explore(zen4, m, mutantConfig(m)).finding, `${name} on zen4`);
    assert.equal(explore(spr, m, mutantConfig(m)).finding, undefined, `${name} on sapphire-rapids (Intel keeps XINUSE[PKRU] set for 0)`);
  }
});
