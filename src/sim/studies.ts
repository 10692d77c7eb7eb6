/**
 * The built-in studies: each answers one seed's question of cost with `compare` runs over scenarios
 * chosen to separate the designs, a sweep of the condition that decides the winner, and the
 * sensitivity of each verdict to the cost figures (the key figures scaled by 0.5 and 1.5).
 */
import { CpuProfile } from '../arch/profile.js';
import { FigureKey, Figures } from '../cost/figures.js';
import { scaleFigures } from '../cost/overrides.js';
import { Category } from '../cost/model.js';
import { builtinProfile } from '../arch/profiles/builtin.js';
import { Scenario, validateScenario } from '../workload/scenario.js';
import { builtinScenario } from '../workload/scenarios.js';
import { Comparison, comparePolicies } from './compare-runs.js';
import { parsePolicySets } from './policy-spec.js';

export interface StudyDef {
  name: string;
  title: string;
  seed: string;
  /** The question, in the thread's own words. */
  quote: string;
  quoteBy: string;
  policies: string;
  /** Scenarios (built-in names, or inline definitions). */
  scenarios: (string | Record<string, unknown>)[];
  /** A profile that has the hardware the study needs, used when the requested one lacks it. */
  needs?: { feature: 'amxTile' | 'enqcmd'; fallback: string };
  /** Cost categories that make the design's cost (kernel paths common to all designs are left out). */
  categories: Category[];
  /** The figures whose uncertainty could change the verdict. */
  sensitive: FigureKey[];
  /** A sweep of one scenario parameter (what decides the winner). */
  sweep?: { scenario: Record<string, unknown>; param: 'fpuProbability'; values: number[] };
}

const LAZY_WORKLOAD = (fpuProbability: number): Record<string, unknown> => ({
  name: `fpu-use-${fpuProbability}`,
  description: 'six tasks on two CPUs, blocking syscalls; each stretch of user work touches the FPU with this probability',
  cpus: 2,
  durationMs: 20,
  tasks: [{ name: 'app', count: 6, components: ['sse', 'avx', 'avx512'], fpuProbability, syscallProbability: 0.6, blockProbability: 0.5, sleepUs: [20, 200] }],
});

export const STUDIES: readonly StudyDef[] = [
  {
    name: 'lazy-restore',
    title: 'Is restoring the FPU state only on return to user worth it?',
    seed: 'seeds/002 (2016 RFC "x86,fpu: make FPU context switching much lazier")',
    quote:
      'By only reloading the FPU context when a task switches to user mode, we can avoid switching FPU context for tasks that spin in kernel mode, and avoid reloading the FPU context for tasks that get interrupted by a kernel thread or briefly go idle.',
    quoteBy: 'Rik van Riel, [PATCH RFC 0/5], 2016-10-01',
    policies: 'deferred,eager,lazy-ts,rfc-2016',
    scenarios: ['avx-threads', 'kfpu-softirq', 'signals', 'forkexec', 'kvm'],
    categories: ['fpu-save', 'fpu-restore', 'fpu-trap', 'msr'],
    sensitive: ['xrstors.base', 'xsaves.base', 'nm.trap', 'cr0.write'],
    sweep: { scenario: LAZY_WORKLOAD(1), param: 'fpuProbability', values: [0.02, 0.05, 0.1, 0.2, 0.5, 1] },
  },
  {
    name: 'amx-buffers',
    title: 'vmalloc, a cache, a per-CPU bounce buffer or a kmap window for AMX state?',
    seed: 'seeds/000 (Dave Hansen and Andy Lutomirski on dynamic XSAVE buffers)',
    quote: "For ~12k of state, I suspect the ~400-500 cycles for 3 INVLPG's might beat out a memcpy() of 12k of state.",
    quoteBy: 'Dave Hansen, 2020-10-14 (and Andy Lutomirski: "I have a problem with vfree() due to the IPIs that result. We need a cache or something.")',
    policies: 'xbuf:vmalloc,xbuf:vmalloc-cache,xbuf:percpu-bounce,xbuf:kmap-window',
    scenarios: ['amx-pool', 'amx-churn', 'amx-signals'],
    needs: { feature: 'amxTile', fallback: 'sapphire-rapids' },
    categories: ['fpu-save', 'fpu-restore', 'fpu-trap', 'msr', 'tlb', 'memcpy', 'alloc'],
    sensitive: ['invlpg', 'memcpy.bytesPerCycle', 'vzalloc', 'ipi.base'],
  },
  {
    name: 'pasid',
    title: 'PASID: a lazy #GP fix-up, or switch_mm plus IPIs?',
    seed: 'seeds/003 (Andy Lutomirski and Dave Hansen on ENQCMD and PASID)',
    quote: "I think we first need to answer the bigger question of why we're doing a lazy fixup in the first place.",
    quoteBy: 'Andy Lutomirski, 2020-08-03 (proposing switch_mm_irqs_off() writes plus on_each_cpu_mask(mm_cpumask(mm), load_mm_pasid))',
    policies: 'pasid:gp-fixup,pasid:switch-mm,pasid:switch-mm-cmp,pasid:ipi-all',
    scenarios: ['enqcmd', 'enqcmd-change'],
    needs: { feature: 'enqcmd', fallback: 'sapphire-rapids' },
    categories: ['pasid', 'tlb', 'fpu-save', 'fpu-restore'],
    sensitive: ['gp.trap', 'wrmsr.pasid', 'ipi.base', 'cacheline'],
  },
];

export interface ScenarioVerdict {
  scenario: string;
  comparison: Comparison;
  /** The design cost (study categories) per policy, mean cycles. */
  cost: Record<string, number>;
  /** Policies whose runs broke a model rule (stale PASID, lost state): they cannot win. */
  broken: string[];
  winner: string;
  /** Winner under each scaled figure set ("invlpg ×0.5" -> policy). */
  sensitivity: Record<string, string>;
}

export interface StudyResult {
  study: StudyDef;
  cpu: string;
  runs: number;
  seed: number;
  verdicts: ScenarioVerdict[];
  sweep?: { param: string; points: { value: number; cost: Record<string, number>; winner: string }[] };
}

function designCost(c: Comparison, cats: Category[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const p of c.policies) out[p.name] = cats.reduce((s, cat) => s + p.cycles[cat], 0);
  return out;
}

function winnerOf(cost: Record<string, number>, broken: string[]): string {
  const ok = Object.entries(cost).filter(([n]) => !broken.includes(n));
  if (ok.length === 0) return 'none';
  return ok.reduce((a, b) => (b[1] < a[1] ? b : a))[0];
}

export function studyDef(name: string): StudyDef | undefined {
  return STUDIES.find((s) => s.name === name);
}

/** The profile a study runs on: the requested one, or its fallback when it lacks the hardware. */
export function studyProfile(s: StudyDef, requested: CpuProfile): { profile: CpuProfile; note: string | null } {
  if (s.needs && !requested.features[s.needs.feature]) {
    return { profile: builtinProfile(s.needs.fallback)!, note: `${requested.id} has no ${s.needs.feature}: the study runs on ${s.needs.fallback}` };
  }
  return { profile: requested, note: null };
}

export interface StudyOptions {
  runs: number;
  seed: number;
  figures: Figures;
  onRun?: () => void;
}

export function runStudy(s: StudyDef, profile: CpuProfile, o: StudyOptions): StudyResult {
  const sets = parsePolicySets(s.policies);
  const scen = (x: string | Record<string, unknown>): Scenario => (typeof x === 'string' ? builtinScenario(x)! : validateScenario(x, `study ${s.name}`));
  const verdicts = s.scenarios.map((x): ScenarioVerdict => {
    const sc = scen(x);
    const c = comparePolicies(profile, sc, sets, { runs: o.runs, seed: o.seed, figures: o.figures, onRun: o.onRun });
    const cost = designCost(c, s.categories);
    const broken = c.policies.filter((p) => p.violations > 0).map((p) => p.name);
    const sensitivity: Record<string, string> = {};
    for (const key of s.sensitive) {
      for (const f of [0.5, 1.5]) {
        const cs = comparePolicies(profile, sc, sets, { runs: o.runs, seed: o.seed, figures: scaleFigures(o.figures, [key], f) });
        sensitivity[`${key} ×${f}`] = winnerOf(designCost(cs, s.categories), broken);
      }
    }
    return { scenario: sc.name, comparison: c, cost, broken, winner: winnerOf(cost, broken), sensitivity };
  });
  let sweep: StudyResult['sweep'];
  if (s.sweep) {
    const points = s.sweep.values.map((v) => {
      const def = { ...s.sweep!.scenario, name: `${String(s.sweep!.scenario.name)}`, tasks: (s.sweep!.scenario.tasks as Record<string, unknown>[]).map((t) => ({ ...t, [s.sweep!.param]: v })) };
      const c = comparePolicies(profile, validateScenario(def, `study ${s.name} sweep`), sets, { runs: o.runs, seed: o.seed, figures: o.figures, onRun: o.onRun });
      const cost = designCost(c, s.categories);
      return { value: v, cost, winner: winnerOf(cost, c.policies.filter((p) => p.violations > 0).map((p) => p.name)) };
    });
    sweep = { param: s.sweep.param, points };
  }
  return { study: s, cpu: profile.id, runs: o.runs, seed: o.seed, verdicts, sweep };
}

/** Plain-words conclusions from the numbers. */
export function conclusions(r: StudyResult): string[] {
  const out: string[] = [];
  for (const v of r.verdicts) {
    const ranked = Object.entries(v.cost)
      .filter(([n]) => !v.broken.includes(n))
      .sort((a, b) => a[1] - b[1]);
    if (ranked.length === 0) continue;
    const [w, wc] = ranked[0];
    const rest = ranked.slice(1).map(([n, c]) => `${n} ${wc > 0 ? `${((c / wc - 1) * 100).toFixed(0)}% more` : `${Math.round(c)} cycles`}`);
    const flips = Object.entries(v.sensitivity).filter(([, win]) => win !== v.winner);
    const stable = flips.length === 0 ? 'The verdict holds with each key figure halved or increased by half.' : `The verdict changes when ${flips.map(([k, win]) => `${k} (then ${win} wins)`).join(', ')}.`;
    const broken = v.broken.length ? ` Broken (model rules violated, excluded): ${v.broken.join(', ')}.` : '';
    out.push(`In ${v.scenario}, ${w} costs least (${Math.round(wc)} cycles of ${r.study.categories.join('/')} work${rest.length ? `; ${rest.join(', ')}` : ''}).${broken} ${stable}`);
  }
  if (r.sweep) {
    const ws = r.sweep.points.map((p) => `${p.value}: ${p.winner}`).join(', ');
    out.push(`Sweeping ${r.sweep.param} (${ws}): the winner depends on it as shown.`);
  }
  return out;
}
