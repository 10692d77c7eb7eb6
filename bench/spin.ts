/**
 * `npm run bench:spin` (checker deliverable 6): the same model explored by Spin and by our explorer.
 * bench/spin/deferred.pml is the `deferred` policy's core as Promela; for each configuration this
 * builds and runs pan (exhaustive, no partial-order reduction), runs `explore()` in-process on the
 * equivalent CheckConfig, checks that both count the same distinct states, and prints both rates
 * (each the median of three runs; the explorer after one untimed run, as V8 compiles it while it runs).
 * Writes bench/results/spin.json. Exit 1 when the counts differ; exit 0 with a message when Spin or
 * a C compiler is not available and cannot be installed.
 *
 *   --diff   also compare the two state sets line by line (the explorer's states projected onto the
 *            Promela variables against every state pan prints with -DDUMP)
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { renderTable } from '../src/report/table.js';
import { CASES, checkConfig, PROFILE, projectedStates, runOurs, runPan, spinUnavailable, spinVersion } from './spin/pan.js';

const RESULTS = fileURLToPath(new URL(import.meta.url.includes('/dist/') ? '../../bench/results/' : './results/', import.meta.url));

const rate = (n: number, s: number): number => (s > 0 ? Math.round(n / s) : 0);

function main(): void {
  const why = spinUnavailable(true);
  if (why) {
    console.log(`bench:spin skipped: ${why}`);
    return;
  }
  const version = spinVersion();
  const diff = process.argv.includes('--diff');
  const rows: string[][] = [];
  const cases = [];
  let ok = true;
  /** The run of median time among three. */
  const median3 = <T>(runs: T[], time: (r: T) => number): T => runs.sort((a, b) => time(a) - time(b))[1];
  for (const c of CASES) {
    const pan = median3([runPan(c), runPan(c), runPan(c)], (r) => (r.panSeconds >= 0.1 ? r.panSeconds : r.wallSeconds));
    // One untimed run first: V8 compiles the explorer as it runs (pan is compiled ahead of time).
    runOurs(c);
    const ours = median3([runOurs(c), runOurs(c), runOurs(c)], (r) => r.seconds);
    // pan's elapsed time has 0.01 s resolution: below 0.1 s use the wall time of the pan process.
    const spinSeconds = pan.panSeconds >= 0.1 ? pan.panSeconds : pan.wallSeconds;
    const same = pan.states === ours.states && pan.transitions === ours.transitions && pan.errors === 0 && ours.fixpoint;
    if (!same) ok = false;
    let sameSets: boolean | undefined;
    if (diff) {
      const dumped = new Set(runPan(c, { dump: true }).dumped);
      const projected = projectedStates(c);
      sameSets = dumped.size === projected.length && projected.every((l) => dumped.has(l));
      if (!sameSets) ok = false;
    }
    cases.push({
      name: `deferred-${c.name}`,
      config: { profile: PROFILE, ...checkConfig(c), depth: undefined, maxStates: undefined },
      spin: { states: pan.states, storedByPan: pan.storedRaw, transitions: pan.transitions, depth: pan.depth, errors: pan.errors, seconds: spinSeconds, panSeconds: pan.panSeconds, wallSeconds: pan.wallSeconds, buildSeconds: pan.buildSeconds, statesPerSecond: rate(pan.states, spinSeconds), version },
      switchlab: { states: ours.states, transitions: ours.transitions, depthReached: ours.depthReached, fixpoint: ours.fixpoint, finding: ours.finding, seconds: ours.seconds, statesPerSecond: rate(ours.states, ours.seconds) },
      sameStates: same,
      ...(diff ? { sameStateSets: sameSets } : {}),
    });
    rows.push([
      c.name,
      `${c.cpus} CPU, ${c.tasks} tasks${c.signals ? ', signals' : ''}`,
      pan.states.toLocaleString('en-US'),
      ours.states.toLocaleString('en-US'),
      same ? (diff ? (sameSets ? 'yes (sets too)' : 'COUNT ONLY') : 'yes') : 'NO',
      rate(pan.states, spinSeconds).toLocaleString('en-US'),
      rate(ours.states, ours.seconds).toLocaleString('en-US'),
      `${(rate(ours.states, ours.seconds) / Math.max(1, rate(pan.states, spinSeconds))).toFixed(4)}`,
    ]);
  }
  console.log(`deferred policy, ${PROFILE}, ${version}`);
  console.log(renderTable(['case', 'machine', 'Spin states', 'switchlab states', 'same', 'Spin states/s', 'switchlab states/s', 'ours/Spin'], rows));
  const first = cases[0];
  const out = { ...first, name: 'spin', case: first.name, cases, goal: 'switchlab states/s >= Spin states/s', goalMet: cases.every((x) => x.switchlab.statesPerSecond >= x.spin.statesPerSecond) };
  mkdirSync(RESULTS, { recursive: true });
  writeFileSync(`${RESULTS}spin.json`, JSON.stringify(out, null, 2) + '\n');
  if (!ok) {
    console.error('bench:spin: the two explorers disagree on the state space (see above)');
    process.exitCode = 1;
  }
}

main();
