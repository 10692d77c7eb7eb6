/** One point of a sweep under one policy set: the scenario at that point, run `runs` times, as metrics. */
import { loadProfile } from '../arch/profiles/index.js';
import { figuresFor } from '../cost/profile-figures.js';
import { Scenario } from '../workload/scenario.js';
import { comparePolicies, PolicyComparison } from './compare-runs.js';
import { parsePolicySets } from './policy-spec.js';
import { METRICS, Point, scenarioAt } from './sweep-spec.js';

/** What a worker needs to run a point (plain data: it crosses to worker threads). */
export interface PointJob {
  scenario: Scenario;
  cpu: string;
  costs?: string;
  kernel: string;
  runs: number;
  seed: number;
  point: Point;
  policy: string;
}

/** One line of results.jsonl. */
export interface SweepLine {
  sweep: string;
  point: Point;
  policy: string;
  runs: number;
  seed: number;
  metrics: Record<string, number>;
}

export function flattenMetrics(p: PolicyComparison): Record<string, number> {
  const src: Record<string, unknown> = { cycles: p.cycles, counts: p.counts, bytes: p.bytes, memory: p.memory, ipis: p.ipis, violations: p.violations };
  const out: Record<string, number> = {};
  for (const m of METRICS) {
    const [a, b] = m.split('.');
    const v = b === undefined ? src[a] : (src[a] as Record<string, number>)[b];
    out[m] = typeof v === 'number' ? v : 0;
  }
  return out;
}

export function runPoint(job: PointJob, hash: string): SweepLine {
  const profile = loadProfile(job.cpu);
  const figures = figuresFor(profile, job.costs);
  const sc = scenarioAt(job.scenario, job.point, 'sweep');
  const [set] = parsePolicySets(job.policy);
  const c = comparePolicies(profile, sc, [set], { runs: job.runs, seed: job.seed, figures, version: job.kernel });
  return { sweep: hash, point: job.point, policy: job.policy, runs: job.runs, seed: job.seed, metrics: flattenMetrics(c.policies[0]) };
}

/** The identity of a result: which point and policy (the sweep's hash covers everything else). */
export function lineKey(point: Point, policy: string): string {
  return JSON.stringify([Object.entries(point), policy]);
}
