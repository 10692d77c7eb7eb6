import { Command } from 'commander';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { InputError } from '../../arch/errors.js';
import type { CpuProfile } from '../../arch/profile.js';
import { loadProfile } from '../../arch/profiles/index.js';
import { checkProgress } from '../../check/check-progress.js';
import { CHECK_MODES, CheckFile, CheckMode, loadCheckConfig, SEED_MAX } from '../../check/config-file.js';
import { CheckConfig, DEFAULT_CONFIG, explore, Finding, MOVE_KINDS, MoveKind, replayPath, Target, TRACKABLE } from '../../check/explore.js';
import { Counterexample, loadCounterexample } from '../../check/counterexample.js';
import { minimizeConfig, minimizePath } from '../../check/minimize.js';
import { mutant, MUTANTS } from '../../check/mutants/index.js';
import { exploreParallel } from '../../check/parallel.js';
import { randomWalks } from '../../check/random-walk.js';
import { resolveTarget, TargetSpec } from '../../check/target-spec.js';
import { loadMutantFile } from '../../check/mutant-file.js';
import { formatFtrace } from '../../kernel/trace/ftrace.js';
import { counterexamplePerfetto } from '../../report/check-perfetto.js';
import { checkText, storyText } from '../../report/check-report.js';
import { walkText } from '../../report/walk-report.js';
import { toJson } from '../json.js';
import { intOption } from '../options.js';
import { NEWEST_KERNEL, OLDEST_KERNEL } from '../../kernel/fpu/kernel-version.js';

interface Opts {
  config?: string;
  policy: string;
  mutant?: string;
  mutantFile?: string;
  allMutants?: boolean;
  xbuf?: string;
  pkru?: string;
  pasid?: string;
  kernel?: string;
  cpu: string;
  cpus: string;
  tasks: string;
  children: string;
  depth: string;
  moves?: string;
  comps: string;
  maxStates: string;
  warmup?: string;
  mode: string;
  seed: string;
  walks: string;
  walkDepth: string;
  workers?: string;
  out?: string;
  replay?: string;
  perfetto?: string;
  trace?: boolean;
  json?: boolean;
}

/** Everything a check run takes, flags and --config file merged (a flag given wins). */
interface Settings {
  spec: TargetSpec;
  cpu: string;
  cfg: CheckConfig;
  mode: CheckMode;
  seed: number;
  walks: number;
  walkDepth: number;
  workers: number;
  /** The bounds given on the command line or in the --config file: they win over a mutant's own. */
  given: ReadonlySet<keyof CheckConfig>;
}

const BOUNDS = ['cpus', 'tasks', 'children', 'depth', 'comps', 'moves', 'maxStates', 'warmup'] as const;

/** A mutant's own bounds over `s.cfg`, except those given on the command line or in the file. */
function boundsFor(s: Settings, own: Partial<CheckConfig> | undefined): CheckConfig {
  const cfg: CheckConfig = { ...s.cfg };
  const take = <K extends keyof CheckConfig>(b: K): void => {
    const v = own?.[b];
    if (v !== undefined && !s.given.has(b)) cfg[b] = v as CheckConfig[K];
  };
  for (const b of BOUNDS) take(b);
  return cfg;
}

function configFrom(o: Opts): CheckConfig {
  const moves = (o.moves ?? DEFAULT_CONFIG.moves.join(',')).split(',').map((s) => s.trim());
  for (const m of moves) if (!(MOVE_KINDS as readonly string[]).includes(m)) throw new InputError(`unknown move '${m}' (known: ${MOVE_KINDS.join(', ')})`, '--moves');
  const comps = o.comps.split(',').map((s) => intOption('--comps', s.trim(), 0, 18));
  for (const c of comps) if (!(TRACKABLE as readonly number[]).includes(c)) throw new InputError(`component ${c} cannot be tracked (trackable: ${TRACKABLE.join(', ')})`, '--comps');
  return {
    cpus: intOption('--cpus', o.cpus, 1, 8),
    tasks: intOption('--tasks', o.tasks, 1, 8),
    children: intOption('--children', o.children, 0, 4),
    depth: intOption('--depth', o.depth, 1, 64),
    comps,
    moves: moves as MoveKind[],
    maxStates: intOption('--max-states', o.maxStates, 1, 100_000_000),
    warmup: o.warmup === undefined ? undefined : intOption('--warmup', o.warmup, 0, 16),
  };
}

function mutantCpu(name: string | undefined): string | undefined {
  return name === undefined ? undefined : mutant(name)?.cpu;
}

function settingsFrom(o: Opts, cmd: Command): Settings {
  const file: CheckFile = o.config ? loadCheckConfig(o.config) : {};
  /** The file's value of a field, unless its flag was given. */
  const fromFile = <K extends keyof CheckFile>(k: K): CheckFile[K] | undefined => (cmd.getOptionValueSource(k) === 'cli' ? undefined : file[k]);
  const flags = configFrom(o);
  const cfg: CheckConfig = {
    cpus: fromFile('cpus') ?? flags.cpus,
    tasks: fromFile('tasks') ?? flags.tasks,
    children: fromFile('children') ?? flags.children,
    depth: fromFile('depth') ?? flags.depth,
    comps: fromFile('comps') ?? flags.comps,
    moves: fromFile('moves') ?? flags.moves,
    maxStates: fromFile('maxStates') ?? flags.maxStates,
    warmup: fromFile('warmup') ?? flags.warmup,
  };
  if (!(CHECK_MODES as readonly string[]).includes(o.mode)) throw new InputError(`unknown mode '${o.mode}' (known: ${CHECK_MODES.join(', ')})`, '--mode');
  const mode = fromFile('mode') ?? (o.mode as CheckMode);
  const workersFlag = o.workers === undefined ? undefined : intOption('--workers', o.workers, 1, 256);
  // One thread unless asked: with the single-thread explorer's exact state store, the workers' merge
  // (string keys, messages) costs more than it saves on 2 cores (docs/checker.md, Worker threads).
  const workers = workersFlag ?? file.workers ?? 1;
  const pick = (k: 'policy' | 'mutant' | 'xbuf' | 'pkru' | 'pasid' | 'kernel'): string | undefined => fromFile(k) ?? o[k];
  return {
    spec: { policy: pick('policy') ?? 'deferred', mutant: pick('mutant'), xbuf: pick('xbuf'), pkru: pick('pkru'), pasid: pick('pasid'), kernel: pick('kernel') },
    // A mutant brings the CPU its bug needs (AMX, ENQCMD) unless one is named.
    cpu: fromFile('cpu') ?? (cmd.getOptionValueSource('cpu') !== 'cli' ? mutantCpu(pick('mutant')) : undefined) ?? o.cpu,
    cfg,
    mode,
    seed: fromFile('seed') ?? intOption('--seed', o.seed, 0, SEED_MAX),
    walks: fromFile('walks') ?? intOption('--walks', o.walks, 1, 1_000_000_000),
    walkDepth: fromFile('walkDepth') ?? intOption('--walk-depth', o.walkDepth, 1, 100_000),
    workers,
    given: new Set(BOUNDS.filter((b) => cmd.getOptionValueSource(b) === 'cli' || file[b] !== undefined)),
  };
}

/** counterexample.json (to --replay), .trace (ftrace text) and .perfetto.json (ui.perfetto.dev) in `dir`. */
function writeCounterexample(dir: string, cx: Counterexample, profile: CpuProfile, target: Target, label: string): string {
  const rep = replayPath(profile, target, cx.config, cx.path);
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'counterexample.json'), toJson(cx));
  writeFileSync(join(dir, 'counterexample.trace'), formatFtrace(rep.steps.flatMap((s) => s.trace)));
  writeFileSync(join(dir, 'counterexample.perfetto.json'), JSON.stringify(counterexamplePerfetto(rep.steps, rep.finding, cx.config.cpus, `switchlab check: ${label}`)));
  return `counterexample: ${join(dir, 'counterexample.json')} (switchlab check --replay it), ${join(dir, 'counterexample.trace')}, ${join(dir, 'counterexample.perfetto.json')}\n`;
}

function counterexampleOf(s: Settings, cfg: CheckConfig, finding: Finding): Counterexample {
  const { spec } = s;
  return {
    format: 'switchlab-check-counterexample',
    version: 1,
    policy: spec.policy,
    mutant: spec.mutant,
    designs: spec.mutant ? undefined : { xbuf: spec.xbuf, pkru: spec.pkru, pasid: spec.pasid },
    cpu: s.cpu,
    kernel: spec.kernel,
    config: cfg,
    mode: s.mode,
    seed: s.seed,
    finding: { invariant: finding.invariant, detail: finding.detail },
    path: finding.path,
  };
}

function replayCommand(o: Opts, cmd: Command): void {
  const cx = loadCounterexample(o.replay!);
  // --policy or --mutant with --replay: the same moves against another policy (a mutant's path on its parent).
  const other = cmd.getOptionValueSource('policy') === 'cli' || cmd.getOptionValueSource('mutant') === 'cli';
  const { target, label } = other
    ? resolveTarget({ policy: o.policy, mutant: o.mutant, xbuf: o.xbuf, pkru: o.pkru, pasid: o.pasid, kernel: o.kernel ?? cx.kernel })
    : resolveTarget({ policy: cx.policy, mutant: cx.mutant, ...cx.designs, kernel: cx.kernel });
  const r = replayPath(loadProfile(cx.cpu), target, cx.config, cx.path);
  if (o.perfetto) writeFileSync(o.perfetto, JSON.stringify(counterexamplePerfetto(r.steps, r.finding, cx.config.cpus, `switchlab check --replay ${o.replay}: ${label}`)));
  if (o.json) process.stdout.write(toJson({ policy: label, reproduced: r.finding !== null, finding: r.finding, steps: r.steps.length, mode: cx.mode, seed: cx.seed }));
  else {
    const warm = cx.config.warmup ? ` (after a warm-up of ${cx.config.warmup} FPU-using slices per running task)` : '';
    process.stdout.write(`replay of ${o.replay}: ${label} on ${cx.cpu}, ${cx.path.length} moves${warm}\n`);
    process.stdout.write(storyText(r.steps, r.finding, o.trace === true));
    if (!r.finding) process.stdout.write(`does not reproduce: no invariant broken (the recorded finding was ${cx.finding.invariant})\n`);
  }
  process.exitCode = r.finding ? 1 : 0;
}

/** Random walks; a violation is minimized (path by delta debugging, then the configuration). */
function walkCommand(o: Opts, s: Settings, profile: CpuProfile, target: Target, label: string, cfg: CheckConfig): void {
  const now = (): number => performance.now();
  const bar = checkProgress(s.walks, 'walk', o.json === true, now);
  const r = randomWalks(profile, target, cfg, { walks: s.walks, walkDepth: s.walkDepth, seed: s.seed }, now, (w, states) => bar.update(w, states));
  bar.stop();
  let tail = '';
  let min: { from: number; tests: number } | undefined;
  let cxCfg = cfg;
  if (r.finding) {
    const walked = r.finding.path.length;
    const m = minimizePath(profile, target, cfg, r.finding.path, r.finding.invariant);
    min = { from: walked, tests: m.tests };
    const rep0 = replayPath(profile, target, cfg, m.path);
    r.finding = { invariant: r.finding.invariant, detail: rep0.finding?.detail ?? r.finding.detail, path: m.path };
    const small = minimizeConfig(profile, target, cfg, m.path, r.finding.invariant);
    cxCfg = { ...small, depth: Math.min(64, Math.max(small.depth, m.path.length)) };
    const rep = replayPath(profile, target, cxCfg, m.path);
    if (small !== cfg) tail += `it reproduces with ${small.cpus} CPUs, ${small.tasks} tasks, moves ${small.moves.join(' ')}\n`;
    tail = storyText(rep.steps, rep.finding, o.trace === true) + tail;
    if (o.out) tail += writeCounterexample(o.out, counterexampleOf(s, cxCfg, r.finding), profile, target, label);
  }
  if (o.json) process.stdout.write(toJson({ ...r, policy: label, mode: 'random', minimizedFrom: min?.from, minimizedConfig: r.finding ? cxCfg : undefined }));
  else process.stdout.write(walkText(r, label, min) + tail);
  process.exitCode = r.finding ? 1 : 0;
}

export function checkCommand(): Command {
  return new Command('check')
    .description('explore every interleaving within bounds (breadth-first) and prove a policy keeps every task’s FPU state intact and private, or print a shortest counterexample')
    .option('--config <file>', 'bounds and settings from a YAML or JSON file (fields: cpus, tasks, depth, comps, moves, maxStates, policy, mutant, xbuf, pkru, pasid, cpu, kernel, seed, mode, walks, walkDepth, workers); flags given win')
    .option('--policy <name>', 'FPU policy: deferred, eager, lazy-ts, rfc-2016', 'deferred')
    .option('--mutant <name>', `a policy with a historical bug put back: ${MUTANTS.map((m) => m.name).join(', ')}`)
    .option('--all-mutants', 'check every mutant; each must be found')
    .option('--mutant-file <file>', 'an ES module (.js/.mjs) exporting mutants written against the policy interfaces: one is checked like --mutant; with several (or --all-mutants) each is reported like --all-mutants')
    .option('--xbuf <design>', 'AMX buffer design checked beside the policy: vmalloc, vmalloc-cache, percpu-bounce, kmap-window')
    .option('--pkru <policy>', 'PKRU policy checked beside it: eager, xstate-eager, in-xstate')
    .option('--pasid <policy>', 'PASID policy checked beside it: gp-fixup, switch-mm, switch-mm-cmp, ipi-all')
    .option('--cpu <profile>', 'CPU profile', 'zen4')
    .option('--kernel <version>', `Linux version of the kernel code around the policy (${OLDEST_KERNEL} .. ${NEWEST_KERNEL}; default ${NEWEST_KERNEL}, a mutant's own when it names one)`)
    .option('--cpus <n>', 'CPUs', String(DEFAULT_CONFIG.cpus))
    .option('--tasks <n>', 'user tasks', String(DEFAULT_CONFIG.tasks))
    .option('--children <n>', 'most tasks fork/clone may add', String(DEFAULT_CONFIG.children))
    .option('--depth <n>', 'most moves on a path', String(DEFAULT_CONFIG.depth))
    .option('--moves <list>', `moves to explore (${MOVE_KINDS.join(',')})`)
    .option('--comps <list>', 'XSAVE components user code writes and reads (0 x87, 1 SSE, 2 AVX, 9 PKRU, 17/18 AMX)', DEFAULT_CONFIG.comps.join(','))
    .option('--max-states <n>', 'stop after this many distinct states', String(DEFAULT_CONFIG.maxStates))
    .option('--warmup <n>', 'each task running at the start first uses the FPU in n consecutive time slices (history for lazy-ts preloading: 6)')
    .option('--mode <mode>', 'bfs (exhaustive, breadth-first) or random (seeded random walks, for configurations too large for bfs)', 'bfs')
    .option('--seed <n>', 'seed of the random walks (recorded in counterexample files)', '1')
    .option('--walks <n>', 'random walks to take (--mode random)', '1000')
    .option('--walk-depth <n>', 'most moves of a random walk', '100')
    .option('--workers <n>', 'worker threads for breadth-first search (default 1); the result is the same for any number')
    .option('--out <dir>', 'write a counterexample there (counterexample.json to --replay, counterexample.trace as ftrace text, counterexample.perfetto.json)')
    .option('--replay <file>', 'replay a counterexample file and tell its story (with --policy or --mutant: its moves against that one instead)')
    .option('--perfetto <file>', 'with --replay: write the counterexample as a timeline for ui.perfetto.dev')
    .option('--trace', 'show the ftrace events of every step of a story')
    .option('--json', 'machine-readable output')
    .action(async (o: Opts, cmd: Command) => {
      const own = o.mutantFile ? await loadMutantFile(o.mutantFile) : [];
      if (o.replay) return replayCommand(o, cmd);
      // A file's single mutant is checked like --mutant (on one thread: workers resolve names from the corpus).
      if (own.length === 1 && !o.allMutants && o.mutant === undefined) {
        o.mutant = own[0].name;
        if (o.workers === undefined) o.workers = '1';
      }
      if (o.perfetto) throw new InputError('only with --replay (a check writes counterexample.perfetto.json with --out)', '--perfetto');
      const s = settingsFrom(o, cmd);
      const profile = loadProfile(s.cpu);
      const now = (): number => performance.now();
      if (o.allMutants || own.length > 1) {
        const rows = (own.length > 0 ? own : MUTANTS).map((m) => {
          const r = explore(m.cpu ? loadProfile(m.cpu) : profile, m, boundsFor(s, m.config), now);
          return { name: m.name, of: m.of, bug: m.bug, found: r.finding !== undefined, seconds: Number(r.seconds.toFixed(3)), steps: r.finding?.path.length ?? null, invariant: r.finding?.invariant ?? null, states: r.states };
        });
        if (o.json) process.stdout.write(toJson({ config: s.cfg, mutants: rows }));
        else for (const r of rows) process.stdout.write(`${r.found ? 'found ' : 'MISSED'} ${r.name.padEnd(28)} ${r.found ? `${r.invariant} in ${r.steps} moves` : ''} (${r.states} states, ${r.seconds} s) — ${r.bug}\n`);
        process.exitCode = rows.every((r) => r.found) ? 0 : 1;
        return;
      }
      const { target, label, config } = resolveTarget(s.spec);
      const cfg1 = boundsFor(s, config);
      if (s.mode === 'random') return walkCommand(o, s, profile, target, label, cfg1);
      const bar = checkProgress(cfg1.depth, 'depth', o.json === true, now);
      const r =
        s.workers > 1
          ? await exploreParallel(profile, s.cpu, s.spec, cfg1, { workers: s.workers, now, onLevel: (states, d) => bar.update(d, states) })
          : { ...explore(profile, target, cfg1, now, (d, states) => bar.update(d, states)), workers: 1 };
      bar.stop();
      let story = '';
      if (r.finding) {
        const rep = replayPath(profile, target, cfg1, r.finding.path);
        story = storyText(rep.steps, r.finding, o.trace === true);
        if (o.out) story += writeCounterexample(o.out, counterexampleOf(s, cfg1, r.finding), profile, target, label);
      }
      if (o.json) process.stdout.write(toJson({ ...r, policy: label }));
      else process.stdout.write(checkText(r, label) + (r.workers > 1 ? `${r.workers} worker threads\n` : '') + story);
      process.exitCode = r.finding ? 1 : 0;
    });
}
