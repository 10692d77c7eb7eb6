import { Command } from 'commander';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { InputError } from '../../arch/errors.js';
import { loadProfile } from '../../arch/profiles/index.js';
import { CheckConfig, DEFAULT_CONFIG, explore, MOVE_KINDS, MoveKind, replayPath, Target, TRACKABLE } from '../../check/explore.js';
import { Counterexample, DesignNames, loadCounterexample } from '../../check/counterexample.js';
import { mutant, mutantConfig, MUTANTS } from '../../check/mutants/index.js';
import { fpuPolicy } from '../../policies/fpu/index.js';
import { pasidPolicy } from '../../policies/pasid/index.js';
import { pkruPolicy } from '../../policies/pkru/index.js';
import { xbufDesign } from '../../policies/xbuf/index.js';
import { formatFtrace } from '../../kernel/trace/ftrace.js';
import { checkText, storyText } from '../../report/check-report.js';
import { toJson } from '../json.js';
import { intOption } from '../options.js';

interface Opts {
  policy: string;
  mutant?: string;
  allMutants?: boolean;
  xbuf?: string;
  pkru?: string;
  pasid?: string;
  cpu: string;
  cpus: string;
  tasks: string;
  children: string;
  depth: string;
  moves?: string;
  comps: string;
  maxStates: string;
  out?: string;
  replay?: string;
  trace?: boolean;
  json?: boolean;
}

/** The policy and designs checked, a label for reports, and the mutant's own bounds (if any). */
function targetFor(o: { policy: string; mutant?: string } & DesignNames): { target: Target; label: string; config?: Partial<CheckConfig>; cpu?: string } {
  if (o.mutant === undefined) {
    const designs = { xbuf: o.xbuf ? xbufDesign(o.xbuf) : null, pkru: o.pkru ? pkruPolicy(o.pkru) : null, pasid: o.pasid ? pasidPolicy(o.pasid) : null };
    const extra = (['xbuf', 'pkru', 'pasid'] as const).filter((d) => o[d]).map((d) => `${d} ${o[d]}`);
    return { target: { policy: fpuPolicy(o.policy), designs }, label: [o.policy, ...extra].join(', ') };
  }
  const m = mutant(o.mutant);
  if (!m) throw new InputError(`unknown mutant '${o.mutant}' (known: ${MUTANTS.map((x) => x.name).join(', ')})`, '--mutant');
  return { target: m, label: `${m.name} (mutant of ${m.of})`, config: m.config, cpu: m.cpu };
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
  };
}

export function checkCommand(): Command {
  return new Command('check')
    .description('explore every interleaving within bounds (breadth-first) and prove a policy keeps every task’s FPU state intact and private, or print a shortest counterexample')
    .option('--policy <name>', 'FPU policy: deferred, eager, lazy-ts, rfc-2016', 'deferred')
    .option('--mutant <name>', `a policy with a historical bug put back: ${MUTANTS.map((m) => m.name).join(', ')}`)
    .option('--all-mutants', 'check every mutant; each must be found')
    .option('--xbuf <design>', 'AMX buffer design checked beside the policy: vmalloc, vmalloc-cache, percpu-bounce, kmap-window')
    .option('--pkru <policy>', 'PKRU policy checked beside it: eager, in-xstate')
    .option('--pasid <policy>', 'PASID policy checked beside it: gp-fixup, switch-mm, switch-mm-cmp, ipi-all')
    .option('--cpu <profile>', 'CPU profile', 'zen4')
    .option('--cpus <n>', 'CPUs', String(DEFAULT_CONFIG.cpus))
    .option('--tasks <n>', 'user tasks', String(DEFAULT_CONFIG.tasks))
    .option('--children <n>', 'most tasks fork/clone may add', String(DEFAULT_CONFIG.children))
    .option('--depth <n>', 'most moves on a path', String(DEFAULT_CONFIG.depth))
    .option('--moves <list>', `moves to explore (${MOVE_KINDS.join(',')})`)
    .option('--comps <list>', 'XSAVE components user code writes and reads (0 x87, 1 SSE, 2 AVX, 9 PKRU, 17/18 AMX)', DEFAULT_CONFIG.comps.join(','))
    .option('--max-states <n>', 'stop after this many distinct states', String(DEFAULT_CONFIG.maxStates))
    .option('--out <dir>', 'write a counterexample there (counterexample.json to --replay, counterexample.trace as ftrace text)')
    .option('--replay <file>', 'replay a counterexample file and tell its story')
    .option('--trace', 'show the ftrace events of every step of a story')
    .option('--json', 'machine-readable output')
    .action((o: Opts) => {
      if (o.replay) {
        const cx = loadCounterexample(o.replay);
        const { target, label } = targetFor({ policy: cx.policy, mutant: cx.mutant, ...cx.designs });
        const r = replayPath(loadProfile(cx.cpu), target, cx.config, cx.path);
        if (o.json) process.stdout.write(toJson({ policy: label, reproduced: r.finding !== null, finding: r.finding, steps: r.steps.length }));
        else {
          process.stdout.write(`replay of ${o.replay}: ${label} on ${cx.cpu}, ${cx.path.length} moves\n`);
          process.stdout.write(storyText(r.steps, r.finding, o.trace === true));
          if (!r.finding) process.stdout.write(`does not reproduce: no invariant broken (the recorded finding was ${cx.finding.invariant})\n`);
        }
        process.exitCode = r.finding ? 1 : 0;
        return;
      }
      const cfg = configFrom(o);
      const profile = loadProfile(o.cpu);
      if (o.allMutants) {
        const rows = MUTANTS.map((m) => {
          const r = explore(m.cpu ? loadProfile(m.cpu) : profile, m, mutantConfig(m, cfg), () => performance.now());
          return { name: m.name, of: m.of, bug: m.bug, found: r.finding !== undefined, seconds: Number(r.seconds.toFixed(3)), steps: r.finding?.path.length ?? null, invariant: r.finding?.invariant ?? null, states: r.states };
        });
        if (o.json) process.stdout.write(toJson({ config: cfg, mutants: rows }));
        else for (const r of rows) process.stdout.write(`${r.found ? 'found ' : 'MISSED'} ${r.name.padEnd(28)} ${r.found ? `${r.invariant} in ${r.steps} moves` : ''} (${r.states} states, ${r.seconds} s) — ${r.bug}\n`);
        process.exitCode = rows.every((r) => r.found) ? 0 : 1;
        return;
      }
      const { target, label, config, cpu } = targetFor(o);
      const cfg1 = { ...cfg, ...config };
      if (cpu) o.cpu = cpu;
      const profile1 = loadProfile(o.cpu);
      const r = explore(profile1, target, cfg1, () => performance.now());
      let story = '';
      if (r.finding) {
        const rep = replayPath(profile1, target, cfg1, r.finding.path);
        story = storyText(rep.steps, r.finding, o.trace === true);
        if (o.out) {
          mkdirSync(o.out, { recursive: true });
          const cx: Counterexample = { format: 'switchlab-check-counterexample', version: 1, policy: o.policy, mutant: o.mutant, designs: o.mutant ? undefined : { xbuf: o.xbuf, pkru: o.pkru, pasid: o.pasid }, cpu: o.cpu, config: cfg1, finding: { invariant: r.finding.invariant, detail: r.finding.detail }, path: r.finding.path };
          writeFileSync(join(o.out, 'counterexample.json'), toJson(cx));
          writeFileSync(join(o.out, 'counterexample.trace'), formatFtrace(rep.steps.flatMap((s) => s.trace)));
        }
      }
      if (o.json) process.stdout.write(toJson({ ...r, policy: label }));
      else process.stdout.write(checkText(r, label) + story + (r.finding && o.out ? `counterexample: ${join(o.out, 'counterexample.json')} (switchlab check --replay it), ${join(o.out, 'counterexample.trace')}\n` : ''));
      process.exitCode = r.finding ? 1 : 0;
    });
}
