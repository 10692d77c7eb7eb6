// Replay of real Linux 6.18 ftrace recordings: the deferred policy must predict the x86_fpu events
// (per pid, event and load flag) from the scheduling, process, signal, syscall and fault events alone.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { builtinProfile } from '../src/arch/profiles/builtin.js';
import { deferred } from '../src/policies/fpu/deferred.js';
import { FPU_POLICIES } from '../src/policies/fpu/index.js';
import { replayTrace } from '../src/sim/replay-report.js';
import { formatFtrace, parseFtraceLine } from '../src/kernel/trace/ftrace.js';
import { repoPath } from './helpers/paths.js';

const DIR = repoPath('data/traces');
const traces = readdirSync(DIR).filter((f) => f.endsWith('.trace.gz')).sort();
const profileFor = (f: string): string => (f.includes('xeon-amx') ? 'xeon-amx-vm' : 'zen4-vm');
const text = (f: string): string => gunzipSync(readFileSync(`${DIR}/${f}`)).toString('utf8');

test('the recordings are there: five scenarios on each of two machines', () => {
  assert.equal(traces.length, 10);
});

for (const f of traces) {
  test(`replay ${f}: deferred agrees with Linux on >= 99% of x86_fpu events`, () => {
    const r = replayTrace(builtinProfile(profileFor(f))!, deferred, text(f), { version: '6.18', entropy: 'auto', file: f });
    const a = r.agreement;
    console.log(
      `# ${f}: ${(100 * a.agreement).toFixed(2)}% (${a.matched}/${a.recorded} recorded, ${a.predicted} predicted, entropy fill ${r.entropyBuf}); ` +
        Object.entries(a.byType)
          .map(([n, t]) => `${n.replace('x86_fpu_', '')} ${(100 * t.agreement).toFixed(1)}%`)
          .join(', '),
    );
    assert.ok(a.recorded > 500, 'the recording has FPU events');
    assert.ok(a.agreement >= 0.99, `agreement ${a.agreement}`);
    assert.equal(r.violations, 0, 'the replay broke no model rule');
  });
}

test('replay never reads the recorded x86_fpu events: removing them changes no prediction', () => {
  const f = 'linux-6.18-zen4-signals.trace.gz';
  const full = text(f);
  const stripped = full
    .split('\n')
    .filter((l) => !l.includes(': x86_fpu_'))
    .join('\n');
  const p = builtinProfile('zen4-vm')!;
  const a = replayTrace(p, deferred, full, { version: '6.18', entropy: 0, file: f });
  const b = replayTrace(p, deferred, stripped, { version: '6.18', entropy: 0, file: f });
  assert.equal(b.agreement.recorded, 0);
  assert.deepEqual(b.predictedFpu, a.predictedFpu);
});

test('the other policies predict differently (eager saves and restores at every switch)', () => {
  const f = 'linux-6.18-zen4-threads.trace.gz';
  const p = builtinProfile('zen4-vm')!;
  const byPolicy = Object.fromEntries(
    FPU_POLICIES.map((pol) => [pol.name, replayTrace(p, pol, text(f), { version: '6.18', entropy: 0, file: f }).agreement.agreement]),
  );
  assert.ok(byPolicy.deferred >= 0.99);
  for (const name of ['eager', 'lazy-ts', 'rfc-2016']) assert.ok(byPolicy[name] < 0.95, `${name}: ${byPolicy[name]}`);
});

test('predicted events round-trip through the ftrace text format', () => {
  const f = 'linux-6.18-zen4-forkexec.trace.gz';
  const r = replayTrace(builtinProfile('zen4-vm')!, deferred, text(f), { version: '6.18', entropy: 0, file: f });
  const lines = formatFtrace(r.predictedFpu).split('\n');
  const parsed = lines.map((l, n) => parseFtraceLine(l, n + 1)).filter((x) => x !== null);
  assert.equal(parsed.length, r.predictedFpu.length);
  parsed.forEach((p, j) => {
    const e = r.predictedFpu[j];
    assert.deepEqual([p.pid, p.cpu, p.name, p.text, Math.floor(p.ts / 1000)], [e.pid, e.cpu, e.name, e.text, Math.floor(e.ts / 1000)]);
  });
});
