/**
 * Running Spin on bench/spin/deferred.pml and our explorer on the equivalent configuration (checker
 * deliverable 6). Shared by `npm run bench:spin` (bench/spin.ts) and test/spin.test.ts.
 *
 * The Promela model is an exact abstraction of the explorer's state key for the `deferred` policy on
 * the zen3-vm profile, so pan's "states, stored" is the explorer's `states` + 1 (pan also stores the
 * all-zero state before the model's boot d_step). `spin -o2` keeps write-only variables in the state
 * vector (cpu->mm, the mm records, the oracle's inSys and the per-CPU PKRU are written and never read
 * by the model, but they are in our key); -DNOREDUCE turns partial-order reduction off.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadProfile } from '../../src/arch/profiles/index.js';
import { CheckConfig, Explorer, explore, MoveKind } from '../../src/check/explore.js';
import { valueToken } from '../../src/kernel/entry.js';
import { KERNEL_TAG } from '../../src/kernel/kfpu.js';
import { cloneArea, forgetAllSlots, readU32, XSTATE_BV, XsaveArea } from '../../src/arch/xsave/area.js';
import { loadComponent } from '../../src/arch/xsave/component-io.js';
import { deferred } from '../../src/policies/fpu/deferred.js';

export const PML = fileURLToPath(new URL(import.meta.url.includes('/dist/') ? '../../../bench/spin/deferred.pml' : './deferred.pml', import.meta.url));

/** The CPU profile both sides model: XSAVES/XRSTORS, XCR0 = x87|SSE|AVX (no PKRU component), AMD. */
export const PROFILE = 'zen3-vm';

export interface SpinCase {
  name: string;
  cpus: number;
  tasks: number;
  signals: boolean;
}

/** The benchmark's configurations: the issue's 2 CPUs x 3 tasks (no signals: see docs/spin.md), and signals on 1 CPU x 2 tasks. */
export const CASES: SpinCase[] = [
  { name: 'core', cpus: 2, tasks: 3, signals: false },
  { name: 'signals', cpus: 1, tasks: 2, signals: true },
];

export function checkConfig(c: SpinCase): CheckConfig {
  const moves: MoveKind[] = ['write', 'syscall', 'return', 'switch', 'kfpu-softirq'];
  if (c.signals) moves.push('signal', 'sigreturn');
  return { cpus: c.cpus, tasks: c.tasks, children: 0, depth: 1_000_000, comps: [1], moves, maxStates: 50_000_000 };
}

function onPath(cmd: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${cmd}`], { encoding: 'utf8' }).status === 0;
}

/** Why Spin cannot run here, or null. With `install`, tries `apt-get install -y spin` first. */
export function spinUnavailable(install: boolean): string | null {
  if (!onPath('cc')) return 'no C compiler (cc) on PATH';
  if (onPath('spin')) return null;
  if (!install) return '`spin` is not on PATH (Debian: apt-get install spin)';
  if (!onPath('apt-get')) return '`spin` is not on PATH and there is no apt-get to install it';
  console.log('spin not found: apt-get install -y spin');
  const r = spawnSync('apt-get', ['install', '-y', 'spin'], { stdio: 'inherit' });
  if (r.status !== 0 || !onPath('spin')) return `apt-get install -y spin failed (exit ${r.status}${r.error ? `: ${r.error.message}` : ''}; root needed)`;
  return null;
}

export function spinVersion(): string {
  const out = spawnSync('spin', ['-V'], { encoding: 'utf8' });
  return (out.stdout || out.stderr).trim();
}

export interface PanResult {
  /** "states, stored" minus the pre-boot state: comparable with the explorer's `states`. */
  states: number;
  storedRaw: number;
  transitions: number;
  errors: number;
  depth: number;
  /** pan's own "elapsed time" (search only; 0.01 s resolution) and the wall time of the pan process. */
  panSeconds: number;
  wallSeconds: number;
  /** Compile time (spin -a + cc), not counted in the rates. */
  buildSeconds: number;
  output: string;
  /** With `dump`: every state pan reached, one line each (deferred.pml's DUMPSTATE format). */
  dumped?: string[];
}

/** spin -a, cc, ./pan for one case in a fresh directory. */
export function runPan(c: SpinCase, opts: { dump?: boolean } = {}): PanResult {
  const dir = mkdtempSync(join(tmpdir(), 'switchlab-spin-'));
  try {
    copyFileSync(PML, join(dir, 'deferred.pml'));
    const defs = [`-DNCPU=${c.cpus}`, `-DNTASK=${c.tasks}`, ...(c.signals ? ['-DSIGNALS'] : []), ...(opts.dump ? ['-DDUMP'] : [])];
    const b0 = performance.now();
    execFileSync('spin', ['-o2', ...defs, '-a', 'deferred.pml'], { cwd: dir, stdio: 'pipe' });
    execFileSync('cc', ['-O2', '-DNOREDUCE', '-DSAFETY', ...(opts.dump ? ['-DPRINTF'] : []), '-w', '-o', 'pan', 'pan.c'], { cwd: dir, stdio: 'pipe' });
    const buildSeconds = (performance.now() - b0) / 1000;
    const t0 = performance.now();
    const r = spawnSync('./pan', ['-m10000000'], { cwd: dir, encoding: 'utf8', maxBuffer: 1 << 30 });
    const wallSeconds = (performance.now() - t0) / 1000;
    const output = r.stdout + r.stderr;
    const num = (re: RegExp): number => {
      const m = re.exec(output);
      return m ? Number(m[1]) : NaN;
    };
    const storedRaw = num(/(\d+) states, stored/);
    const res: PanResult = {
      states: storedRaw - 1,
      storedRaw,
      // stored + matched counts the root as stored: minus it and the boot d_step, the explorer's edges.
      transitions: num(/(\d+) transitions \(= stored\+matched\)/) - 2,
      errors: num(/errors: (\d+)/),
      depth: num(/depth reached (\d+)/),
      panSeconds: num(/pan: elapsed time ([\d.e+]+) seconds/),
      wallSeconds,
      buildSeconds,
      output: opts.dump ? output.split('\n').filter((l) => !/^\d/.test(l)).join('\n') : output,
    };
    if (opts.dump) res.dumped = output.split('\n').filter((l) => /^\d/.test(l));
    if (Number.isNaN(storedRaw)) throw new Error(`pan output not understood:\n${output}`);
    return res;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export interface OursResult {
  states: number;
  transitions: number;
  depthReached: number;
  seconds: number;
  /** The frontier emptied: every reachable state was explored. */
  fixpoint: boolean;
  finding?: string;
}

export function runOurs(c: SpinCase): OursResult {
  const cfg = checkConfig(c);
  const r = explore(loadProfile(PROFILE), { policy: deferred }, cfg, () => performance.now());
  return {
    states: r.states,
    transitions: r.transitions,
    depthReached: r.depthReached,
    seconds: r.seconds,
    fixpoint: r.exhaustive && r.depthReached < cfg.depth && !r.finding,
    finding: r.finding && `${r.finding.invariant}: ${r.finding.detail}`,
  };
}

// ---------------------------------------------------------------------------------------------
// Differential mode: the explorer's states projected onto the Promela variables, in DUMPSTATE's
// format, so the two state sets can be compared line by line (not only counted).

const FIRST_PID = 101;
const NONE = 255;
const IDLE = 254;

/** Every state the explorer reaches, as deferred.pml's DUMPSTATE would print it (sorted). */
export function projectedStates(c: SpinCase): string[] {
  const cfg = checkConfig(c);
  const x = new Explorer(loadProfile(PROFILE), { policy: deferred }, cfg);
  const k = x.k;
  const tokens = new Map<number, number>([[0, 0], [valueToken(k, 1, KERNEL_TAG), 1]]);
  for (let t = 0; t < c.tasks; t++) for (const w of [0, 1]) tokens.set(valueToken(k, 1, (FIRST_PID + t) * 2 + w), 2 + 2 * t + w);
  const tok = (v: number): number => {
    const r = tokens.get(v);
    if (r === undefined) throw new Error(`projection: unexpected SSE token ${v}`);
    return r;
  };
  const avxKern = valueToken(k, 2, KERNEL_TAG);
  const avx = (v: number): number => {
    if (v !== 0 && v !== avxKern) throw new Error(`projection: unexpected AVX token ${v}`);
    return v === 0 ? 0 : 1;
  };
  const tix = (pid: number): number => (pid < 0 ? IDLE : pid - FIRST_PID);
  const fpuTask = new Map<number, number>();
  const trkOf = new Map<number, number>([[k.initFpstate.area.address, 16]]);
  for (const t of k.st.tasks.values()) {
    if (t.kind !== 'user') continue;
    fpuTask.set(t.fpu.id, tix(t.pid));
    trkOf.set(t.fpu.fpstate.area.address, tix(t.pid));
    trkOf.set(0x7ff0_0000 - 0x4000 - (t.pid % 64) * 64, 32 + tix(t.pid)); // signal.ts frameAddress, one level
  }
  const slots = (a: XsaveArea): number[] => {
    const copy = cloneArea(a);
    forgetAllSlots(copy);
    const bv = readU32(a.bytes, XSTATE_BV);
    return [(bv >>> 1) & 1, (bv >>> 2) & 1, tok(loadComponent(k.m, copy, 1, 160)), avx(loadComponent(k.m, copy, 2, 576))];
  };
  const project = (): string => {
    const st = k.st;
    let s = '';
    for (const cpu of st.cpus) {
      const rq = Array.from({ length: c.tasks }, (_, i) => (i < cpu.rq.length ? tix(cpu.rq[i]) : 0));
      const trk = trkOf.get(cpu.xs.trkAddr);
      if (trk === undefined || !cpu.xs.trkValid) throw new Error('projection: unexpected XRSTOR_INFO');
      s += `${tix(cpu.curr)},${cpu.owner === 0 ? NONE : fpuTask.get(cpu.owner)},${cpu.rq.length}${rq.map((p) => `.${p}`).join('')},`;
      s += `${tok(cpu.xs.tok[1])},${avx(cpu.xs.tok[2])},${(cpu.xs.xmodLo >>> 1) & 1},${(cpu.xs.xmodLo >>> 2) & 1},${trk},${cpu.pkru ? 1 : 0},${tix(cpu.mm)},`;
    }
    for (let t = 0; t < c.tasks; t++) {
      const task = st.tasks.get(FIRST_PID + t)!;
      const [bv1, bv2, s1, s2] = slots(task.fpu.fpstate.area);
      const fr = task.frames[0];
      const o = x.oracleOf(t); // comps [1]: one word per task
      const [, fbv2, f1, f2] = fr ? slots(fr.area) : [0, 0, 0, 0];
      s += `${task.tif & 1},${task.inUser ? 1 : 0},${task.fpu.lastCpu < 0 ? NONE : task.fpu.lastCpu},${st.mms.has(task.mm) ? 1 : 0},${bv1},${bv2},${s1},${s2},`;
      s += `${task.pending.length},${fr ? 1 : 0},${f1},${f2},${fbv2},${tok(o.shadow[0])},${tok(o.saved[0])},${o.inSys ? 1 : 0},`;
    }
    return s;
  };
  const seen = new Set<string>([x.key()]);
  const out = new Set<string>([project()]);
  let frontier = [x.snapshot(null, null, 0)];
  while (frontier.length > 0) {
    const next: typeof frontier = [];
    for (const n of frontier) {
      x.restore(n);
      const moves = x.enabled();
      for (const [i, m] of moves.entries()) {
        if (i > 0) x.restore(n, i === moves.length - 1);
        if (x.move(m)) throw new Error('projection: the explorer found a violation');
        const key = x.key();
        if (seen.has(key)) continue;
        seen.add(key);
        out.add(project());
        next.push(x.snapshot(n, m, 0));
      }
    }
    frontier = next;
  }
  if (out.size !== seen.size) throw new Error(`projection is not injective: ${seen.size} states, ${out.size} projections`);
  return [...out].sort();
}
