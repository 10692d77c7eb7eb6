// Perfetto / Chrome Trace Event timelines: simulator and replay traces convert to valid JSON with one
// track per CPU, slices that tile each CPU's time without overlapping, one instant per x86_fpu event,
// FPU-owner counters, and the same bytes on every run.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { builtinProfile } from '../src/arch/profiles/builtin.js';
import { deferred } from '../src/policies/fpu/deferred.js';
import { simulate, SimResult } from '../src/sim/simulate.js';
import { readTrace, replay } from '../src/sim/replay.js';
import { builtinScenario } from '../src/workload/scenarios.js';
import { combinePerfetto, cpuTid, fpuOwnerCounterName, MACHINE_PID, PerfettoEvent, PerfettoInputEvent, PerfettoTrace, toPerfetto, XSTATE_BYTES_COUNTER } from '../src/report/perfetto.js';
import { validatePerfetto } from '../src/report/perfetto-check.js';
import { repoPath } from './helpers/paths.js';

const TRACE = 'linux-6.18-zen4-threads.trace.gz';

function simulated(): SimResult {
  return simulate(builtinProfile('zen4')!, deferred, builtinScenario('signals')!, { trace: true, seed: 1 });
}

function simTimeline(r: SimResult): PerfettoTrace {
  return toPerfetto(r.trace, { title: `simulate ${r.scenario} on ${r.cpu}, ${r.policy.fpu}, seed ${r.seed}`, cpus: builtinScenario('signals')!.cpus, startNs: 0, endNs: r.simulatedNs });
}

const replayInput = readTrace(gunzipSync(readFileSync(repoPath(`data/traces/${TRACE}`))).toString('utf8'));

function replayed(): PerfettoInputEvent[] {
  return replay(builtinProfile('zen4-vm')!, deferred, replayInput, { version: '6.18', entropyBuf: 0 }).predicted;
}

const slicesOf = (t: PerfettoTrace, cpu: number): PerfettoEvent[] =>
  t.traceEvents.filter((e) => e.ph === 'X' && e.tid === cpuTid(cpu)).sort((a, b) => a.ts - b.ts);

/** Checks every conversion must pass: valid, a named track per CPU, slices tiling [start, end] on each. */
function checkTimeline(t: PerfettoTrace, input: readonly PerfettoInputEvent[], cpus: number, spanNs: number): void {
  assert.deepEqual(validatePerfetto(t), []);
  assert.equal(t.displayTimeUnit, 'ns');
  const names = t.traceEvents.filter((e) => e.ph === 'M' && e.name === 'thread_name');
  assert.deepEqual(
    names.map((e) => [e.pid, e.tid, e.args?.name]),
    Array.from({ length: cpus }, (_, c) => [MACHINE_PID, cpuTid(c), `CPU ${c}`]),
  );
  assert.ok(t.traceEvents.some((e) => e.ph === 'M' && e.name === 'process_name' && e.args?.name === 'CPUs'));
  for (let c = 0; c < cpus; c++) {
    const s = slicesOf(t, c);
    assert.ok(s.length > 0, `CPU ${c} has slices`);
    let total = 0;
    for (let i = 0; i < s.length; i++) {
      const e = s[i];
      assert.ok(e.dur !== undefined && e.dur > 0, 'slices have a positive duration');
      assert.match(e.name, /^.+-\d+$/, 'slices are named comm-pid');
      assert.ok(e.cat === 'user' || e.cat === 'kernel' || e.cat === 'idle', `category ${e.cat}`);
      assert.equal(e.cat === 'idle', e.args?.pid === 0, 'idle is pid 0');
      if (i > 0) {
        const prev = s[i - 1];
        assert.ok(Math.round((prev.ts + prev.dur!) * 1000) <= Math.round(e.ts * 1000), `CPU ${c}: slice at ${e.ts} overlaps the one at ${prev.ts}`);
      }
      total += Math.round(e.dur! * 1000);
    }
    // The slices cover the whole span: each CPU is always running someone (or idle).
    assert.equal(total, spanNs, `CPU ${c}: slice time ${total} ns, span ${spanNs} ns`);
    assert.equal(Math.round(s[0].ts * 1000), t.metadata.startNs);
  }
  const fpu = input.filter((e) => e.name.startsWith('x86_fpu_'));
  const fpuInstants = t.traceEvents.filter((e) => e.ph === 'i' && (e.cat ?? '').split(',')[0] === 'fpu');
  assert.equal(fpuInstants.length, fpu.length, 'one instant per x86_fpu event');
  for (const name of ['x86_fpu_regs_activated', 'x86_fpu_regs_deactivated']) {
    assert.equal(fpuInstants.filter((e) => e.name === name).length, fpu.filter((e) => e.name === name).length, name);
  }
  assert.equal(fpuInstants.filter((e) => e.cat === 'fpu,restore').length, fpu.filter((e) => e.name === 'x86_fpu_regs_activated').length);
  assert.equal(
    t.traceEvents.filter((e) => e.ph === 'i' && e.cat === 'signal').length,
    input.filter((e) => e.name === 'signal_deliver').length,
    'one instant per signal delivery',
  );
  // FPU owner counters: one track per CPU, starting at the span's start, only pids that ran.
  const pids = new Set(input.map((e) => e.pid));
  for (let c = 0; c < cpus; c++) {
    const owner = t.traceEvents.filter((e) => e.ph === 'C' && e.name === fpuOwnerCounterName(c));
    assert.ok(owner.length >= 2, `CPU ${c} has an FPU owner counter that changes`);
    assert.equal(Math.round(owner[0].ts * 1000), t.metadata.startNs);
    for (const e of owner) {
      const pid = e.args?.pid;
      assert.ok(typeof pid === 'number' && (pid === 0 || pids.has(pid)), `owner ${String(pid)} is a traced task`);
    }
  }
}

test('simulate: the signals scenario converts to a valid per-CPU timeline', () => {
  const r = simulated();
  const t = simTimeline(r);
  checkTimeline(t, r.trace, 2, r.simulatedNs);
  assert.equal(t.metadata.startNs, 0);
  assert.equal(t.metadata.endNs, r.simulatedNs);
  assert.equal(t.metadata.switchMismatches, 0, 'the model records every switch');
  assert.equal(t.metadata.inferredSwitches, 0);
  const slices = t.traceEvents.filter((e) => e.ph === 'X');
  const userNs = slices.filter((e) => e.cat === 'user').reduce((n, e) => n + Math.round(e.dur! * 1000), 0);
  assert.ok(userNs > 0.5 * r.simulatedNs, 'the sig tasks spend most of the time in user mode');
  assert.ok(slices.some((e) => e.cat === 'idle'));
  // Every task's run time shows up under its name.
  for (const task of r.tasks) assert.ok(slices.some((e) => e.name === `${task.comm}-${task.pid}`), `${task.comm}-${task.pid}`);
  // Saves and restores are categorized.
  assert.ok(t.traceEvents.some((e) => e.ph === 'i' && e.cat === 'fpu,save'));
  assert.ok(t.traceEvents.some((e) => e.ph === 'i' && e.cat === 'fpu,restore' && typeof e.args?.xfeatures === 'string'));
});

test('simulate: the JSON is the same on every run', () => {
  const a = JSON.stringify(simTimeline(simulated()));
  const b = JSON.stringify(simTimeline(simulated()));
  assert.equal(a, b);
  assert.deepEqual(JSON.parse(a), JSON.parse(JSON.stringify(JSON.parse(a))), 'plain JSON');
});

test(`replay ${TRACE}: the predicted trace converts to a valid per-CPU timeline`, () => {
  const predicted = replayed();
  const t = toPerfetto(predicted, { title: `replay ${TRACE}`, cpus: replayInput.cpus });
  const span = Math.round(predicted[predicted.length - 1].ts) - Math.round(predicted[0].ts);
  checkTimeline(t, predicted, replayInput.cpus, span);
  const slices = t.traceEvents.filter((e) => e.ph === 'X');
  for (const cat of ['user', 'kernel', 'idle']) assert.ok(slices.some((e) => e.cat === cat), `${cat} slices`);
  assert.equal(JSON.stringify(toPerfetto(replayed(), { title: `replay ${TRACE}`, cpus: replayInput.cpus })), JSON.stringify(t));
});

test(`replay ${TRACE}: the recording itself converts, with the switches the tracer lost inferred`, () => {
  const records = replayInput.records;
  const t = toPerfetto(records, { title: TRACE, cpus: replayInput.cpus });
  checkTimeline(t, records, replayInput.cpus, Math.round(records[records.length - 1].ts) - Math.round(records[0].ts));
  assert.ok(t.metadata.inferredSwitches > 0, 'CPU 1 has no recorded idle->task switches');
  assert.ok(t.traceEvents.some((e) => e.ph === 'X' && e.args?.inferred === true));
  // A syscall-heavy recording: kernel slices carry the syscall number.
  assert.ok(t.traceEvents.some((e) => e.ph === 'X' && e.cat === 'kernel' && typeof e.args?.reason === 'string' && e.args.reason.startsWith('syscall ')));
});

test(`replay ${TRACE}: recorded and predicted side by side in one file`, () => {
  const rec = toPerfetto(replayInput.records, { title: 'recorded', cpus: replayInput.cpus, pid: 1, processName: 'recorded (Linux 6.18)' });
  const pred = toPerfetto(replayed(), { title: 'predicted', cpus: replayInput.cpus, pid: 2, processName: 'predicted (deferred)' });
  const both = combinePerfetto(`replay ${TRACE}`, [rec, pred]);
  assert.deepEqual(validatePerfetto(both), []);
  assert.equal(both.traceEvents.length, rec.traceEvents.length + pred.traceEvents.length);
  assert.deepEqual(
    both.traceEvents.filter((e) => e.ph === 'M' && e.name === 'process_name').map((e) => [e.pid, e.args?.name]),
    [
      [1, 'recorded (Linux 6.18)'],
      [2, 'predicted (deferred)'],
    ],
  );
  const tracks = both.traceEvents.filter((e) => e.ph === 'M' && e.name === 'thread_name').map((e) => [e.pid, e.tid, e.args?.name]);
  assert.deepEqual(tracks, [
    [1, cpuTid(0, 1), 'CPU 0'],
    [1, cpuTid(1, 1), 'CPU 1'],
    [2, cpuTid(0, 2), 'CPU 0'],
    [2, cpuTid(1, 2), 'CPU 1'],
  ]);
  assert.equal(new Set(tracks.map((t) => t[1])).size, 4, 'thread ids are unique across processes');
  const timed = both.traceEvents.filter((e) => e.ph !== 'M');
  for (let i = 1; i < timed.length; i++) assert.ok(timed[i - 1].ts <= timed[i].ts, 'events in time order');
  assert.throws(() => combinePerfetto('x', [rec, rec]), /pid 1/);
});

test('annotations become instants (and FPU owner changes), counter samples become counter tracks', () => {
  const r = simulated();
  const at = r.trace.find((e) => e.name === 'x86_fpu_regs_activated')!;
  const t = toPerfetto(r.trace, {
    title: 'annotated',
    cpus: 2,
    startNs: 0,
    endNs: r.simulatedNs,
    annotations: [
      { ts: at.ts + 1, cpu: at.cpu, name: '#NM', category: 'trap', args: { pid: at.pid } },
      { ts: at.ts + 2, cpu: at.cpu, name: 'kernel_fpu_begin', fpuOwner: 0 },
      { ts: 5000, name: 'TLB flush', category: 'tlb', args: { cpus: '0-1' } },
    ],
    counters: [
      { ts: 0, name: XSTATE_BYTES_COUNTER, value: 0 },
      { ts: 1000, name: 'XSTATE bytes allocated', value: 2696 },
    ],
  });
  assert.deepEqual(validatePerfetto(t), []);
  const nm = t.traceEvents.find((e) => e.name === '#NM')!;
  assert.deepEqual([nm.ph, nm.s, nm.tid, nm.cat, nm.ts], ['i', 't', cpuTid(at.cpu), 'trap', (at.ts + 1) / 1000]);
  assert.equal(t.traceEvents.find((e) => e.name === 'TLB flush')!.s, 'g');
  const owner = t.traceEvents.filter((e) => e.ph === 'C' && e.name === fpuOwnerCounterName(at.cpu));
  const i = owner.findIndex((e) => e.ts === at.ts / 1000);
  assert.ok(i >= 0 && owner[i].args?.pid === at.pid, 'regs_activated makes the task the owner');
  assert.deepEqual([owner[i + 1].ts, owner[i + 1].args?.pid], [(at.ts + 2) / 1000, 0], 'the annotation clears it');
  const bytes = t.traceEvents.filter((e) => e.ph === 'C' && e.name === 'XSTATE bytes allocated');
  assert.deepEqual(
    bytes.map((e) => [e.ts, e.args?.value]),
    [
      [0, 0],
      [1, 2696],
    ],
  );
});

test('validatePerfetto finds what breaks the format', () => {
  const ok = { name: 'a-1', cat: 'user', ph: 'X', ts: 1, dur: 2, pid: 1, tid: 1 };
  const meta = [
    { name: 'process_name', ph: 'M', ts: 0, pid: 1, tid: 1, args: { name: 'CPUs' } },
    { name: 'thread_name', ph: 'M', ts: 0, pid: 1, tid: 1, args: { name: 'CPU 0' } },
  ];
  assert.deepEqual(validatePerfetto({ traceEvents: [...meta, ok] }), []);
  const problems = (evs: object[]): string[] => validatePerfetto({ traceEvents: [...meta, ...evs] });
  assert.match(problems([{ ...ok, ph: undefined }])[0], /ph/);
  assert.match(problems([{ ...ok, ts: '1' }])[0], /ts is not a number/);
  assert.match(problems([{ ...ok, tid: undefined }])[0], /tid/);
  assert.match(problems([{ ...ok, dur: -1 }])[0], /dur -1 is negative/);
  assert.match(problems([{ name: 'c', ph: 'C', ts: 1, pid: 1, tid: 1, args: { v: 'x' } }])[0], /series v is not a number/);
  assert.match(problems([{ name: 'thread_name', ph: 'M', ts: 0, pid: 1, tid: 2, args: {} }])[0], /args.name/);
  assert.match(problems([{ ...ok, tid: 2 }])[0], /no thread_name/);
  assert.match(problems([ok, { ...ok, ts: 2, dur: 5 }])[0], /overlaps/);
  assert.deepEqual(problems([ok, { ...ok, ts: 1.5, dur: 1 }, { ...ok, ts: 3, dur: 1 }]), [], 'nested and adjacent slices are fine');
  assert.deepEqual(validatePerfetto([]), ['the trace is not a JSON object']);
});

test('CLI --perfetto: simulate and replay write timelines that validate (replay: recording and prediction side by side)', async () => {
  const { spawnSync } = await import('node:child_process');
  const { mkdtempSync, rmSync } = await import('node:fs');
  const { tmpdir } = await import('node:os');
  const { join } = await import('node:path');
  const dir = mkdtempSync(join(tmpdir(), 'switchlab-perfetto-'));
  try {
    const cli = repoPath('dist/src/cli/main.js');
    const sim = join(dir, 'sim.json');
    const rep = join(dir, 'rep.json');
    const a = spawnSync(process.execPath, [cli, 'simulate', '--scenario', 'signals', '--cpu', 'zen4', '--perfetto', sim], { encoding: 'utf8' });
    assert.equal(a.status, 0, a.stderr);
    const b = spawnSync(process.execPath, [cli, 'replay', repoPath(`data/traces/${TRACE}`), '--cpu', 'zen4-vm', '--entropy', '0', '--perfetto', rep], { encoding: 'utf8' });
    assert.equal(b.status, 0, b.stderr);
    for (const f of [sim, rep]) assert.deepEqual(validatePerfetto(JSON.parse(readFileSync(f, 'utf8'))), [], f);
    const names = (JSON.parse(readFileSync(rep, 'utf8')) as { traceEvents: PerfettoEvent[] }).traceEvents
      .filter((e) => e.ph === 'M' && e.name === 'process_name')
      .map((e) => String((e.args as Record<string, unknown>).name));
    assert.equal(names.length, 2);
    assert.match(names[0], /^recorded: /);
    assert.match(names[1], /^predicted: deferred on zen4-vm/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('simulate timeline: #NM, allocations and the XSTATE-bytes counter match the run\'s totals; compare --perfetto stacks the policy sets', async () => {
  const { linuxDesigns } = await import('../src/policies/index.js');
  const { spawnSync } = await import('node:child_process');
  const { mkdtempSync, rmSync } = await import('node:fs');
  const { tmpdir } = await import('node:os');
  const { join } = await import('node:path');
  for (const seed of [1, 2]) {
    const r = simulate(builtinProfile('sapphire-rapids')!, deferred, builtinScenario('amx-churn')!, { seed, trace: true, timeline: true, designs: linuxDesigns() });
    const tl = r.timeline!;
    assert.equal(tl.marks.filter((m) => m.category === 'nm-trap').length, r.totals.nmTraps);
    assert.equal(tl.marks.filter((m) => m.category === 'vzalloc').length, r.totals.allocations);
    assert.equal(Math.max(...tl.samples.map((s) => s.value)), r.totals.xstateBytesPeak);
    assert.equal(tl.samples.at(-1)!.value, r.totals.xstateBytes);
    const json = toPerfetto(r.trace, { title: 't', cpus: 4, startNs: 0, endNs: r.simulatedNs, annotations: tl.marks, counters: tl.samples });
    assert.deepEqual(validatePerfetto(JSON.parse(JSON.stringify(json))), []);
    assert.ok(json.traceEvents.some((e) => e.ph === 'C' && e.name === XSTATE_BYTES_COUNTER));
  }
  const dir = mkdtempSync(join(tmpdir(), 'switchlab-perfetto-'));
  try {
    const out = join(dir, 'cmp.json');
    const c = spawnSync(process.execPath, [repoPath('dist/src/cli/main.js'), 'compare', '--scenario', 'amx-pool', '--policies', 'vmalloc,percpu-bounce', '--cpu', 'sapphire-rapids', '--runs', '1', '--quiet', '--perfetto', out], { encoding: 'utf8' });
    assert.equal(c.status, 0, c.stderr);
    const j = JSON.parse(readFileSync(out, 'utf8')) as { traceEvents: PerfettoEvent[] };
    assert.deepEqual(validatePerfetto(j), []);
    const procs = j.traceEvents.filter((e) => e.ph === 'M' && e.name === 'process_name').map((e) => String((e.args as Record<string, unknown>).name));
    assert.deepEqual(procs, ['vmalloc (seed 1)', 'percpu-bounce (seed 1)']);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
