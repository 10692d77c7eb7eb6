// switchlab sweep: parameters change the scenario as documented; results resume after an interruption
// with nothing lost and the same bytes as an uninterrupted run, on one thread or many; typos are refused
// before anything runs.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { builtinScenario } from '../src/workload/scenarios.js';
import { gridPoints, scenarioAt } from '../src/sim/sweep-spec.js';
import { assertBadInput, runCli } from './helpers/cli.js';

const SWEEP = `name: t
scenario: amx-churn
cpu: sapphire-rapids
policies: [vmalloc, kmap-window]
runs: 1
seed: 3
parameters:
  cpus: [2, 4]
  amxShare: [0, 0.5, 1]
plots:
  - { x: amxShare, y: memory.xstateBytesPeak }
`;

test('sweep parameters: amxShare splits each user group, tasks keeps the proportions, lifetimeUs reaches forked children', () => {
  const base = builtinScenario('amx-pool')!;
  const users = base.tasks.filter((t) => t.kind === 'user');
  const n = users.reduce((s, t) => s + t.count, 0);
  const half = scenarioAt(base, { amxShare: 0.5 }, 't');
  const amxTasks = half.tasks.filter((t) => t.kind === 'user' && t.components.includes('amx')).reduce((s, t) => s + t.count, 0);
  const plainTasks = half.tasks.filter((t) => t.kind === 'user' && !t.components.includes('amx')).reduce((s, t) => s + t.count, 0);
  assert.equal(amxTasks + plainTasks, n);
  assert.equal(amxTasks, users.reduce((s, t) => s + Math.round(t.count * 0.5), 0));
  assert.ok(half.tasks.filter((t) => t.components.includes('amx')).every((t) => t.amxPermission === true));
  const none = scenarioAt(base, { amxShare: 0 }, 't');
  assert.ok(none.tasks.every((t) => !t.components.includes('amx')));
  const doubled = scenarioAt(base, { tasks: 2 * n }, 't');
  assert.deepEqual(
    doubled.tasks.filter((t) => t.kind === 'user').map((t) => t.count),
    users.map((t) => t.count * 2),
  );
  const churn = scenarioAt(builtinScenario('amx-churn')!, { lifetimeUs: 77 }, 't');
  for (const g of churn.tasks.filter((t) => t.kind === 'user' && t.forkExec)) assert.deepEqual(g.forkExec!.lifetimeUs, [77, 77]);
  assert.deepEqual(gridPoints([['a', [1, 2]], ['b', [5, 6, 7]]]).length, 6);
  assert.deepEqual(gridPoints([['a', [1, 2]], ['b', [5, 6]]])[1], { a: 1, b: 6 });
});

test('sweep: interrupted (max-points, a torn last line) then resumed gives the bytes of an uninterrupted run; threads do not change them', () => {
  const dir = mkdtempSync(join(tmpdir(), 'switchlab-sweep-'));
  try {
    const file = join(dir, 'sweep.yaml');
    writeFileSync(file, SWEEP);
    const whole = runCli('sweep', file, '--out', join(dir, 'a'), '--jobs', '2', '--quiet');
    assert.equal(whole.code, 0, whole.err);
    assert.match(whole.out, /6 point\(s\) × 2 policy set\(s\) = 12 results/);
    const ref = readFileSync(join(dir, 'a', 'results.jsonl'), 'utf8');
    assert.equal(ref.trimEnd().split('\n').length, 12);
    const l0 = JSON.parse(ref.split('\n')[0]) as { point: Record<string, number>; policy: string; metrics: Record<string, number> };
    assert.deepEqual([l0.point, l0.policy], [{ cpus: 2, amxShare: 0 }, 'vmalloc']);
    assert.equal(l0.metrics['memory.xstateBytesPeak'], 0, 'no AMX users, no AMX buffers');

    const b = join(dir, 'b');
    const first = runCli('sweep', file, '--out', b, '--jobs', '1', '--max-points', '4', '--quiet');
    assert.match(first.out, /incomplete: 4 of 12 results/);
    writeFileSync(join(b, 'results.jsonl'), readFileSync(join(b, 'results.jsonl'), 'utf8') + '{"sweep":"', { flag: 'w' });
    const second = runCli('sweep', file, '--out', b, '--jobs', '2', '--quiet');
    assert.equal(second.code, 0, second.err);
    assert.match(second.out, /4 already in .* \(an interrupted last line was dropped\), 8 computed now/);
    assert.equal(readFileSync(join(b, 'results.jsonl'), 'utf8'), ref);
    assert.equal(readFileSync(join(b, 'report.html'), 'utf8'), readFileSync(join(dir, 'a', 'report.html'), 'utf8'));
    assert.ok(existsSync(join(b, 'memory.xstateBytesPeak-vs-amxShare.svg')) && existsSync(join(b, 'memory.xstateBytesPeak-vs-amxShare.png')));

    // Complete results: only plotting, nothing recomputed; any metric against any parameter.
    const replot = runCli('sweep', file, '--out', b, '--plot', 'ipis:cpus', '--quiet');
    assert.match(replot.out, /12 already in .*, 0 computed now/);
    assert.ok(existsSync(join(b, 'ipis-vs-cpus.svg')));

    // Results of another sweep are never mixed in.
    writeFileSync(file, SWEEP.replace('seed: 3', 'seed: 4'));
    assertBadInput(['sweep', file, '--out', b], /results\.jsonl:1: results of a different sweep/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('sweep bad input: a typo in a parameter, metric or policy, an unmodeled parameter or a bad value is refused before anything runs', () => {
  const dir = mkdtempSync(join(tmpdir(), 'switchlab-sweep-'));
  try {
    const file = join(dir, 's.yaml');
    const out = join(dir, 'out');
    const bad = (text: string, re: RegExp, extra: string[] = []): void => {
      writeFileSync(file, text);
      assertBadInput(['sweep', file, '--out', out, ...extra], re);
      assert.equal(existsSync(out), false, 'nothing was run or written');
    };
    bad(SWEEP.replace('amxShare:', 'amxShar:'), /parameters\.amxShar: unknown parameter 'amxShar' \(did you mean 'amxShare'\?\)/);
    bad(SWEEP.replace('y: memory.xstateBytesPeak', 'y: memory.peak'), /plots\.0\.y: unknown metric 'memory\.peak'/);
    bad(SWEEP.replace('kmap-window', 'kmap-windows'), /policies: unknown policy 'kmap-windows'/);
    bad(SWEEP.replace('amxShare: [0, 0.5, 1]', 'pti: [0, 1]'), /parameters\.pti: page-table isolation needs the address-space model/);
    bad(SWEEP.replace('cpus: [2, 4]', 'cpus: [2, 0]'), /at cpus=0 amxShare=0: cpus: /);
    bad(SWEEP.replace('runs: 1', 'rnus: 1'), /s\.yaml: \(top level\): Unrecognized key: "rnus"/);
    bad(SWEEP, /--plot: unknown metric 'cycles\.totl'/, ['--plot', 'cycles.totl:cpus']);
    assertBadInput(['sweep', join(dir, 'missing.yaml')], /missing\.yaml: cannot read sweep file \(ENOENT\)/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('sweep --list-parameters names every parameter with what it changes', () => {
  const r = runCli('sweep', '--list-parameters', '--json');
  const j = JSON.parse(r.out) as Record<string, string>;
  for (const k of ['cpus', 'tasks', 'amxShare', 'lifetimeUs', 'fpuProbability']) assert.ok(j[k], k);
});
