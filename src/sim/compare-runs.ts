/**
 * `switchlab compare`: every policy set on identical inputs (same scenario, profile and seeds),
 * repeated, with cycles per category, event counts, bytes moved, memory and IPIs, and their spread
 * across runs.
 */
import { CpuProfile } from '../arch/profile.js';
import { Figures } from '../cost/figures.js';
import { CATEGORIES, Category } from '../cost/model.js';
import { Scenario } from '../workload/scenario.js';
import { PolicySet } from './policy-spec.js';
import { simulate, SimResult } from './simulate.js';

export interface Spread {
  min: number;
  max: number;
  stddev: number;
}

export interface PolicyComparison {
  name: string;
  runs: number;
  /** Means over the runs. */
  cycles: { total: number } & Record<Category, number>;
  counts: Record<string, number>;
  bytes: { saved: number; restored: number; copied: number };
  memory: { xstateBytesPeak: number; xstateBytesAllocated: number; allocations: number; frees: number };
  ipis: number;
  violations: number;
  spread: { total: Spread } & Partial<Record<Category, Spread>>;
  /** Per-run totals (for distributions). */
  perRun: number[];
}

export interface Comparison {
  scenario: string;
  cpu: string;
  seed: number;
  runs: number;
  policies: PolicyComparison[];
}

const mean = (xs: number[]): number => xs.reduce((a, b) => a + b, 0) / Math.max(1, xs.length);
function spread(xs: number[]): Spread {
  const m = mean(xs);
  return { min: Math.min(...xs), max: Math.max(...xs), stddev: Math.sqrt(mean(xs.map((x) => (x - m) ** 2))) };
}

export const COUNT_KEYS = ['contextSwitches', 'saves', 'restores', 'restoresSkipped', 'nmTraps', 'signals', 'kernelFpuSections', 'modifiedOptHits', 'msrWrites', 'gpTraps', 'pkruWrites', 'invlpgs', 'pageTableUpdates', 'integrityChecks'] as const;

export interface CompareOptions {
  runs: number;
  seed: number;
  figures: Figures;
  cpus?: number;
  version?: string;
  /** Called after each run (progress). */
  onRun?: (done: number, total: number) => void;
}

export function comparePolicies(profile: CpuProfile, sc: Scenario, sets: PolicySet[], o: CompareOptions): Comparison {
  const total = sets.length * o.runs;
  let done = 0;
  const policies = sets.map((set): PolicyComparison => {
    const results: SimResult[] = [];
    for (let r = 0; r < o.runs; r++) {
      results.push(simulate(profile, set.fpu, sc, { seed: o.seed + r, cpus: o.cpus, version: o.version, designs: set.designs, figures: o.figures }));
      o.onRun?.(++done, total);
    }
    const cyc = (f: (x: SimResult) => number): number => mean(results.map(f));
    const cycles = { total: cyc((x) => x.cycles!.total) } as { total: number } & Record<Category, number>;
    for (const c of CATEGORIES) cycles[c] = cyc((x) => x.cycles!.byCategory[c]);
    const counts: Record<string, number> = {};
    for (const key of COUNT_KEYS) counts[key] = mean(results.map((x) => x.totals[key]));
    const sp = { total: spread(results.map((x) => x.cycles!.total)) } as PolicyComparison['spread'];
    for (const c of CATEGORIES) sp[c] = spread(results.map((x) => x.cycles!.byCategory[c]));
    return {
      name: set.label,
      runs: o.runs,
      cycles,
      counts,
      bytes: { saved: cyc((x) => x.totals.bytesSaved), restored: cyc((x) => x.totals.bytesRestored), copied: cyc((x) => x.totals.bytesCopied) },
      memory: {
        xstateBytesPeak: cyc((x) => x.totals.xstateBytesPeak),
        xstateBytesAllocated: cyc((x) => x.totals.xstateBytesAllocated),
        allocations: cyc((x) => x.totals.allocations),
        frees: cyc((x) => x.totals.frees),
      },
      ipis: cyc((x) => x.totals.ipis),
      violations: results.reduce((a, x) => a + x.totals.violations.length, 0),
      spread: sp,
      perRun: results.map((x) => x.cycles!.total),
    };
  });
  return { scenario: sc.name, cpu: profile.id, seed: o.seed, runs: o.runs, policies };
}
