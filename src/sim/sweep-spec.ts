/**
 * Sweeps: a grid of parameter values, each point a scenario changed by those values and run under every
 * policy set. The sweep file (YAML or JSON) is validated completely — every parameter name, every value
 * applied to the scenario, every policy, the CPU and the cost file — before anything runs.
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, isAbsolute, resolve } from 'node:path';
import { z } from 'zod';
import { InputError, parseYamlInput, readInputFile } from '../arch/errors.js';
import { CATEGORIES } from '../cost/model.js';
import { zodLine } from '../util/zod-line.js';
import { ComponentFamily, loadScenarioFile, Scenario, TaskGroupSpec, validateScenario } from '../workload/scenario.js';
import { builtinScenario, builtinScenarioNames } from '../workload/scenarios.js';
import { COUNT_KEYS } from './compare-runs.js';
import { parsePolicySets } from './policy-spec.js';

/** What a parameter does to the scenario. */
interface ParamDef {
  doc: string;
  apply(sc: Scenario, v: number): void;
}

const userGroups = (sc: Scenario): TaskGroupSpec[] => sc.tasks.filter((t) => t.kind === 'user');
const eachUser = (sc: Scenario, f: (g: TaskGroupSpec) => void): void => userGroups(sc).forEach(f);

/** The parameters a sweep can vary, applied in this order. */
export const PARAMETERS: Record<string, ParamDef> = {
  cpus: { doc: 'CPUs of the machine', apply: (sc, v) => void (sc.cpus = v) },
  durationMs: { doc: 'simulated time (ms)', apply: (sc, v) => void (sc.durationMs = v) },
  sliceUs: { doc: 'scheduler time slice (µs)', apply: (sc, v) => void (sc.sliceUs = v) },
  tasks: {
    doc: "user tasks in all, shared among the scenario's user groups in their proportions (each keeps at least one)",
    apply: (sc, v) => {
      const gs = userGroups(sc);
      const n = gs.reduce((s, g) => s + g.count, 0);
      for (const g of gs) g.count = Math.max(1, Math.round((v * g.count) / n));
    },
  },
  amxShare: {
    doc: "fraction of each user group's tasks that use AMX (the rest use the group's other components)",
    apply: (sc, v) => {
      const out: TaskGroupSpec[] = [];
      for (const g of sc.tasks) {
        if (g.kind !== 'user' || g.kvm) {
          out.push(g);
          continue;
        }
        const amx = Math.round(g.count * v);
        const plain = g.count - amx;
        const without = g.components.filter((c) => c !== 'amx');
        if (plain > 0) out.push({ ...g, count: plain, components: without.length ? without : ['sse'], amxPermission: false });
        const withAmx: ComponentFamily[] = [...without, 'amx'];
        if (amx > 0) out.push({ ...g, name: plain > 0 ? `${g.name.slice(0, 11)}-amx` : g.name, count: amx, components: withAmx, amxPermission: true });
      }
      sc.tasks = out;
    },
  },
  lifetimeUs: {
    doc: 'lifetime of user tasks (µs): of the children a group forks, else of the group’s own tasks',
    apply: (sc, v) =>
      eachUser(sc, (g) => {
        if (g.forkExec) g.forkExec.lifetimeUs = [v, v];
        else g.lifetimeUs = [v, v];
      }),
  },
  fpuProbability: { doc: 'probability that a stretch of user work touches the FPU', apply: (sc, v) => eachUser(sc, (g) => void (g.fpuProbability = v)) },
  syscallProbability: { doc: 'probability of a syscall after a stretch of user work', apply: (sc, v) => eachUser(sc, (g) => void (g.syscallProbability = v)) },
  blockProbability: { doc: 'probability that a syscall blocks', apply: (sc, v) => eachUser(sc, (g) => void (g.blockProbability = v)) },
  computeUs: { doc: 'mean length of a stretch of user work (µs; drawn from ±50%)', apply: (sc, v) => eachUser(sc, (g) => void (g.computeUs = [v / 2, (v * 3) / 2])) },
  irqEveryUs: {
    doc: 'interrupt period on every CPU (µs)',
    apply: (sc, v) => void (sc.irq = { ...(sc.irq ?? { softirqFpuProbability: 0, hardirqFpuProbability: 0 }), everyUs: v }),
  },
};

/** Parameters people will ask for that need the address-space model (not built yet). */
const NOT_YET: Record<string, string> = {
  asidsPerCpu: 'ASIDs per CPU',
  pcid: 'PCID',
  pti: 'page-table isolation',
};

/** The metrics a sweep records for each point and policy (means over its runs). */
export const METRICS: readonly string[] = [
  'cycles.total',
  ...CATEGORIES.map((c) => `cycles.${c}`),
  ...COUNT_KEYS.map((c) => `counts.${c}`),
  'bytes.saved',
  'bytes.restored',
  'bytes.copied',
  'memory.xstateBytesPeak',
  'memory.xstateBytesAllocated',
  'memory.allocations',
  'memory.frees',
  'ipis',
  'violations',
];

function closest(name: string, known: readonly string[]): string | undefined {
  const d = (a: string, b: string): number => {
    const m = Array.from({ length: b.length + 1 }, (_, j) => j);
    for (let i = 1; i <= a.length; i++) {
      let prev = m[0];
      m[0] = i;
      for (let j = 1; j <= b.length; j++) {
        const t = m[j];
        m[j] = Math.min(m[j] + 1, m[j - 1] + 1, prev + (a[i - 1].toLowerCase() === b[j - 1].toLowerCase() ? 0 : 1));
        prev = t;
      }
    }
    return m[b.length];
  };
  let best: string | undefined;
  let bd = 4;
  for (const k of known) {
    const x = d(name, k);
    if (x < bd) [best, bd] = [k, x];
  }
  return best;
}

function unknown(what: string, name: string, known: readonly string[]): string {
  const c = closest(name, known);
  return `unknown ${what} '${name}'${c ? ` (did you mean '${c}'?)` : ''}; known: ${known.join(', ')}`;
}

const SweepSchema = z.strictObject({
  name: z.string().min(1).optional(),
  /** A built-in scenario, or a scenario file (relative to the sweep file). */
  scenario: z.string().min(1),
  cpu: z.string().min(1).default('host'),
  policies: z.union([z.string().min(1), z.array(z.string().min(1)).min(1)]),
  runs: z.number().int().min(1).max(100).default(1),
  seed: z.number().int().min(0).max(0xffff_ffff).default(1),
  kernel: z.string().default('6.18'),
  /** Cost overrides file (relative to the sweep file). */
  costs: z.string().optional(),
  parameters: z.record(z.string(), z.array(z.number()).min(1)),
  plots: z.array(z.strictObject({ x: z.string(), y: z.string(), logX: z.boolean().optional(), logY: z.boolean().optional() })).optional(),
});

export interface SweepPlot {
  x: string;
  y: string;
  logX?: boolean;
  logY?: boolean;
}

export interface Sweep {
  name: string;
  file: string;
  scenario: Scenario;
  cpu: string;
  policies: string[];
  runs: number;
  seed: number;
  kernel: string;
  costs?: string;
  /** Parameter names in application order, each with its values. */
  params: [string, number[]][];
  plots: SweepPlot[];
  /** Identifies the sweep's inputs: results files of another sweep are refused. */
  hash: string;
}

export type Point = Record<string, number>;

/** The scenario at one point of the grid (validated). */
export function scenarioAt(base: Scenario, point: Point, where: string): Scenario {
  const sc = structuredClone(base);
  for (const [name, v] of Object.entries(point)) PARAMETERS[name].apply(sc, v);
  const at = Object.entries(point)
    .map(([k, v]) => `${k}=${v}`)
    .join(' ');
  return validateScenario(sc, `${where} at ${at}`);
}

/** Every point of the grid, the first parameter varying slowest. */
export function gridPoints(params: [string, number[]][]): Point[] {
  let pts: Point[] = [{}];
  for (const [name, values] of params) pts = pts.flatMap((p) => values.map((v) => ({ ...p, [name]: v })));
  return pts;
}

export function loadSweep(file: string): Sweep {
  const text = readInputFile(file, 'sweep file');
  const r = SweepSchema.safeParse(parseYamlInput(text, file));
  if (!r.success) throw new InputError(zodLine(r.error), file);
  const s = r.data;
  const rel = (p: string): string => (isAbsolute(p) ? p : resolve(dirname(file), p));

  const known = Object.keys(PARAMETERS);
  for (const name of Object.keys(s.parameters)) {
    if (NOT_YET[name]) throw new InputError(`${NOT_YET[name]} needs the address-space model, which switchlab does not have yet`, `${file}: parameters.${name}`);
    if (!PARAMETERS[name]) throw new InputError(unknown('parameter', name, known), `${file}: parameters.${name}`);
  }
  const params = known.filter((k) => s.parameters[k] !== undefined).map((k): [string, number[]] => [k, s.parameters[k]]);
  if (params.length === 0) throw new InputError('no parameters to sweep', `${file}: parameters`);

  const scenario = builtinScenario(s.scenario) ?? loadScenarioFileOrFail(rel(s.scenario), file);
  // Every point's scenario must be valid before the first one runs.
  for (const p of gridPoints(params)) scenarioAt(scenario, p, `${file}: parameters`);

  const policies = (Array.isArray(s.policies) ? s.policies : s.policies.split(',')).map((x) => x.trim());
  parsePolicySets(policies.join(','), `${file}: policies`);

  const plots = s.plots ?? params.map(([x]) => ({ x, y: 'cycles.total' }));
  plots.forEach((p, i) => {
    if (!params.some(([k]) => k === p.x)) throw new InputError(unknown('parameter', p.x, params.map(([k]) => k)), `${file}: plots.${i}.x`);
    if (!METRICS.includes(p.y)) throw new InputError(unknown('metric', p.y, METRICS), `${file}: plots.${i}.y`);
  });

  const name = s.name ?? file.replace(/^.*\//, '').replace(/\.(ya?ml|json)$/, '');
  const costs = s.costs === undefined ? undefined : rel(s.costs);
  const costsText = costs === undefined ? '' : readOr(costs);
  const hash = createHash('sha256')
    .update(JSON.stringify({ scenario, cpu: s.cpu, policies, runs: s.runs, seed: s.seed, kernel: s.kernel, costsText, params }))
    .digest('hex')
    .slice(0, 16);
  return { name, file, scenario, cpu: s.cpu, policies, runs: s.runs, seed: s.seed, kernel: s.kernel, costs, params, plots, hash };
}

function readOr(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return '';
  }
}

function loadScenarioFileOrFail(path: string, file: string): Scenario {
  if (!existsSync(path)) throw new InputError(`neither a built-in scenario (${builtinScenarioNames().join(', ')}) nor a file (${path})`, `${file}: scenario`);
  return loadScenarioFile(path);
}

/** Parameter documentation (for `switchlab sweep --list-parameters`). */
export function parameterDocs(): [string, string][] {
  return Object.entries(PARAMETERS).map(([k, d]) => [k, d.doc]);
}
