// The checker's drive: --config files, seeded random walks, delta debugging, worker threads and
// Perfetto counterexamples.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { builtinProfile } from '../src/arch/profiles/builtin.js';
import { CheckConfig, DEFAULT_CONFIG, explore, Move } from '../src/check/explore.js';
import { minimizePath, reproduces } from '../src/check/minimize.js';
import { MUTANTS, mutant, mutantConfig } from '../src/check/mutants/index.js';
import { exploreParallel } from '../src/check/parallel.js';
import { randomWalks } from '../src/check/random-walk.js';
import { deferred } from '../src/policies/fpu/deferred.js';
import { validatePerfetto } from '../src/report/perfetto-check.js';
import { assertBadInput, runCli } from './helpers/cli.js';
import { repoPath } from './helpers/paths.js';

const zen4 = builtinProfile('zen4')!;
const withoutTime = <T extends { seconds: number }>(r: T): Omit<T, 'seconds'> => {
  const { seconds, ...rest } = r;
  void seconds;
  return rest;
};

test('--config: a YAML file sets the bounds, flags given win, and bad files exit 2 naming the file and field', () => {
  const dir = mkdtempSync(join(tmpdir(), 'switchlab-check-cfg-'));
  try {
    const f = join(dir, 'c.yaml');
    writeFileSync(f, 'policy: eager\ndepth: 3\ntasks: 1\ncpus: 1\nmoves: [write, syscall, return]\n');
    const a = runCli('check', '--config', f);
    assert.equal(a.code, 0, a.err);
    assert.match(a.out, /check eager: 1 CPUs, 1 tasks, depth 3, components SSE\+AVX, moves write syscall return\n/);
    const b = runCli('check', '--config', f, '--depth', '4', '--policy', 'deferred');
    assert.equal(b.code, 0, b.err);
    assert.match(b.out, /check deferred: 1 CPUs, 1 tasks, depth 4,/);
    const bad = (name: string, text: string, re: RegExp): void => {
      writeFileSync(join(dir, name), text);
      assertBadInput(['check', '--config', join(dir, name)], re);
    };
    bad('cpus.yaml', 'cpus: 9\n', /cpus\.yaml: cpus: /);
    bad('moves.yaml', 'moves: [write, teleport]\n', /moves\.yaml: moves\.1: /);
    bad('field.yaml', 'depht: 4\n', /field\.yaml: .*depht/);
    bad('policy.yaml', 'policy: nope\n', /policy\.yaml: policy: unknown FPU policy 'nope'/);
    bad('mutant.yaml', 'mutant: nope\n', /mutant\.yaml: mutant: unknown mutant 'nope'/);
    bad('mode.yaml', 'mode: dfs\n', /mode\.yaml: mode: /);
    bad('seed.yaml', 'seed: -1\n', /seed\.yaml: seed: /);
    bad('syntax.yaml', 'depth: [4\n', /syntax\.yaml:\d+: not valid YAML\/JSON/);
    assertBadInput(['check', '--config', join(dir, 'missing.yaml')], /missing\.yaml: cannot read check configuration/);
    assertBadInput(['check', '--mode', 'dfs'], /--mode: unknown mode 'dfs'/);
    assertBadInput(['check', '--seed', 'x'], /--seed: 'x' is not an integer/);
    assertBadInput(['check', '--workers', '0'], /--workers: '0' is not an integer/);
    assertBadInput(['check', '--perfetto', join(dir, 'p.json')], /--perfetto: only with --replay/);
    // The shipped example parses (at a small depth here).
    const ex = runCli('check', '--config', repoPath('examples/check/deferred-signals.yaml'), '--depth', '3');
    assert.equal(ex.code, 0, ex.err);
    assert.match(ex.out, /moves .* signal sigreturn\n/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('random walks: deterministic for a seed, they find deferred-kfpu-keeps-owner, and the finding is minimized', () => {
  const m = mutant('deferred-kfpu-keeps-owner')!;
  const o = { walks: 50, walkDepth: 30, seed: 42 };
  const a = randomWalks(zen4, m, DEFAULT_CONFIG, o);
  const b = randomWalks(zen4, m, DEFAULT_CONFIG, o);
  assert.deepEqual(withoutTime(a), withoutTime(b));
  assert.ok(a.finding, 'found');
  assert.equal(a.finding.invariant, 'confidentiality');
  // A correct policy: no finding, and the same walks for the same seed.
  const c = randomWalks(zen4, { policy: deferred }, DEFAULT_CONFIG, { walks: 20, walkDepth: 40, seed: 5 });
  assert.equal(c.finding, undefined);
  assert.equal(c.steps, 20 * 40);
  assert.deepEqual(withoutTime(c), withoutTime(randomWalks(zen4, { policy: deferred }, DEFAULT_CONFIG, { walks: 20, walkDepth: 40, seed: 5 })));
  assert.notDeepEqual(withoutTime(c), withoutTime(randomWalks(zen4, { policy: deferred }, DEFAULT_CONFIG, { walks: 20, walkDepth: 40, seed: 6 })));
  // The CLI: the same output for the same seed (but the time), minimized to the one move, seed in the file.
  const dir = mkdtempSync(join(tmpdir(), 'switchlab-check-walk-'));
  try {
    const run = (): { code: number; out: string } => runCli('check', '--mutant', 'deferred-no-last-cpu', '--mode', 'random', '--seed', '3', '--walks', '200', '--json', '--out', dir);
    const r1 = run();
    const r2 = run();
    assert.equal(r1.code, 1);
    const j1 = JSON.parse(r1.out) as { seconds: number; finding: { path: Move[] }; minimizedFrom: number };
    const j2 = JSON.parse(r2.out) as { seconds: number };
    assert.deepEqual({ ...j1, seconds: 0 }, { ...j2, seconds: 0 });
    assert.ok(j1.minimizedFrom >= j1.finding.path.length);
    const cx = JSON.parse(readFileSync(join(dir, 'counterexample.json'), 'utf8')) as { seed: number; mode: string };
    assert.equal(cx.seed, 3);
    assert.equal(cx.mode, 'random');
    const rep = runCli('check', '--replay', join(dir, 'counterexample.json'));
    assert.equal(rep.code, 1, rep.err);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('delta debugging: a padded path shrinks to the shortest; a breadth-first path is left as it is', () => {
  const m = mutant('deferred-no-last-cpu')!;
  const cfg = mutantConfig(m);
  const shortest = explore(zen4, m, cfg).finding!;
  assert.equal(shortest.path.length, 4);
  const padded: Move[] = [
    { op: 'write', pid: 102, comp: 1 },
    { op: 'kfpu', cpu: 1, ctx: 'hardirq' },
    { op: 'syscall', pid: 102 },
    { op: 'return', pid: 102 },
    { op: 'write', pid: 101, comp: 1 },
    { op: 'write', pid: 101, comp: 1 },
    { op: 'write', pid: 101, comp: 1 },
    { op: 'syscall', pid: 101 },
    { op: 'exec', pid: 101 },
    { op: 'kfpu', cpu: 1, ctx: 'softirq' },
    { op: 'return', pid: 101 },
  ];
  assert.equal(reproduces(zen4, m, cfg, padded, shortest.invariant), padded.length, 'the padded path reproduces');
  const min = minimizePath(zen4, m, cfg, padded, shortest.invariant);
  assert.deepEqual(min.path, shortest.path);
  // A move that is not enabled where it comes makes a candidate invalid.
  assert.equal(reproduces(zen4, m, cfg, [{ op: 'return', pid: 101 }, ...shortest.path], shortest.invariant), null);
  for (const mu of MUTANTS) {
    const c = mutantConfig(mu);
    const cpu = builtinProfile(mu.cpu ?? 'zen4')!;
    const f = explore(cpu, mu, c).finding!;
    assert.deepEqual(minimizePath(cpu, mu, c, f.path, f.invariant).path, f.path, `${mu.name}: breadth-first paths are already shortest`);
  }
});

test('worker threads: two workers give exactly the single-thread result (states, transitions, depth, counterexample)', async () => {
  const sse: CheckConfig = { ...DEFAULT_CONFIG, comps: [1] }; // SSE alone keeps the four cases quick
  const cases: { spec: { policy: string; mutant?: string }; cfg: CheckConfig }[] = [
    { spec: { policy: 'deferred' }, cfg: { ...DEFAULT_CONFIG, depth: 6 } },
    { spec: { policy: 'deferred' }, cfg: { ...DEFAULT_CONFIG, depth: 8, maxStates: 1000 } },
    { spec: { policy: 'deferred', mutant: 'deferred-no-last-cpu' }, cfg: sse },
    { spec: { policy: 'deferred', mutant: 'deferred-exec-drop' }, cfg: { ...sse, depth: 11 } },
  ];
  for (const { spec, cfg } of cases) {
    const m = spec.mutant ? mutant(spec.mutant)! : undefined;
    const target = m ?? { policy: deferred };
    const c = m ? mutantConfig(m, cfg) : cfg;
    const serial = explore(zen4, target, c);
    for (const transfer of ['path', 'state'] as const) {
      const par = await exploreParallel(zen4, 'zen4', spec, c, { workers: 2, transfer });
      assert.equal(par.workers, 2, 'no fallback to one thread');
      const { workers, ...rest } = par;
      void workers;
      assert.deepEqual(withoutTime(rest), withoutTime(serial), `${spec.mutant ?? spec.policy}, ${transfer}`);
    }
  }
  // The CLI: the same report with --workers 1 and 2 (but the time and the workers line).
  const strip = (s: string): string => s.replace(/[\d.]+ s, [\d,]+ states\/s/, '').replace(/\d+ worker threads\n/, '');
  const one = runCli('check', '--policy', 'eager', '--depth', '6', '--workers', '1');
  const two = runCli('check', '--policy', 'eager', '--depth', '6', '--workers', '2');
  assert.equal(one.code, 0, one.err);
  assert.equal(strip(one.out), strip(two.out));
  assert.match(two.out, /2 worker threads/);
});

test('counterexamples as Perfetto timelines: --out writes one, --replay --perfetto too, and both validate', () => {
  const dir = mkdtempSync(join(tmpdir(), 'switchlab-check-perfetto-'));
  try {
    const r = runCli('check', '--mutant', 'deferred-no-last-cpu', '--workers', '1', '--out', dir);
    assert.equal(r.code, 1, r.err);
    assert.match(r.out, /counterexample\.perfetto\.json/);
    const a = JSON.parse(readFileSync(join(dir, 'counterexample.perfetto.json'), 'utf8')) as { traceEvents: { name: string }[] };
    assert.deepEqual(validatePerfetto(a), []);
    assert.ok(a.traceEvents.some((e) => e.name === 'violation: integrity'));
    assert.ok(a.traceEvents.some((e) => e.name === '3. exec'));
    const out = join(dir, 'replay.perfetto.json');
    const rep = runCli('check', '--replay', join(dir, 'counterexample.json'), '--perfetto', out, '--json');
    assert.equal(rep.code, 1, rep.err);
    assert.equal((JSON.parse(rep.out) as { reproduced: boolean }).reproduced, true);
    assert.deepEqual(validatePerfetto(JSON.parse(readFileSync(out, 'utf8'))), []);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
