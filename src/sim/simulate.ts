/**
 * The discrete-event simulator: a scenario's tasks (workload/) run on the kernel model, driven only
 * through `step`. User code writes its components between kernel entries; the simulator keeps each
 * task's shadow of what it last wrote (init after exec or on entry to a signal handler, restored by
 * sigreturn, copied at fork) and checks it whenever the task is back in user mode — so every run is
 * also an integrity check of the policy. Same scenario, policy, profile and seed: same output.
 */
import { CpuProfile } from '../arch/profile.js';
import { createKernel, Kernel, Violation } from '../kernel/kernel.js';
import { FpuPolicy } from '../kernel/fpu/policy.js';
import { Designs } from '../kernel/designs.js';
import { Figures } from '../cost/figures.js';
import { CategoryCycles, CostMeter } from '../cost/model.js';
import { hasPkru, INIT_PKRU, pkruToken, pkruValue } from '../kernel/pkru.js';
import { pasidSupported } from '../kernel/pasid.js';
import { ARCH_REQ_XCOMP_PERM, XFEATURE_XTILEDATA } from '../kernel/fpu/dynamic.js';
import { KEvent, step } from '../kernel/step.js';
import { Counters, Task } from '../kernel/state.js';
import { valueToken } from '../kernel/entry.js';
import { PrevState, selectCpu } from '../kernel/sched.js';
import { TraceEvent } from '../kernel/trace/events.js';
import { chance, createPrng, nextInt, Prng } from '../util/prng.js';
import { EventQueue } from '../util/event-queue.js';
import { COMPONENT_FAMILIES, Scenario, TaskGroupSpec } from '../workload/scenario.js';
import { TimelineMark, TimelineMeter, TimelineSample } from './timeline-meter.js';

const US = 1000;
const VALUES_PER_TASK = 7;
/** The first pid of a scenario's tasks. */
const SIM_PID_BASE = 1000;
/** Components a task's shadow row holds (every component family's are below 32). */
const STRIDE = 32;
const NO_SHADOW = new Int32Array(0);

type Phase = 'new' | 'user' | 'blocked' | 'preempted' | 'syscall' | 'kthread' | 'guest' | 'guest-preempted' | 'dead';

interface SimTask {
  pid: number;
  group: TaskGroupSpec;
  comps: number[];
  phase: Phase;
  /** Queued events carry the generation they were made for; older ones are stale. */
  gen: number;
  /** The syscall it is in (to exit from when it runs again), or -1. */
  inSyscall: number;
  /** Its row in `shadows` (what it last wrote, by component), and the rows of interrupted contexts (signal handlers). */
  row: number;
  shadowStack: Int32Array[];
  handlerEnd: number;
  deathAt: number;
  nextFork: number;
  nextPtrace: number;
  writes: number;
  execOnFirstEntry: boolean;
  sliceStart: number;
  runtime: number;
  signals: number;
  wokeFromBlock: boolean;
  /** KVM vCPU: the guest's components, what the guest last wrote, VM exits left in this KVM_RUN. */
  guestComps: number[];
  guestShadow: Int32Array;
  exitsLeft: number;
  /** Components whose value the task knows (written since start, or fixed by the ABI), bit i for component i. */
  known: number;
  started: boolean;
}

/** Kinds of queued events (EventQueue's `kind`). */
const EV_ENTRY = 0;
const EV_WAKE = 1;
const EV_KDONE = 2;
const EV_IRQ = 3;
const EV_SIGNAL = 4;
const EV_START = 5;
const EV_PASID = 6;
type EvKind = typeof EV_ENTRY | typeof EV_WAKE | typeof EV_KDONE | typeof EV_IRQ | typeof EV_SIGNAL | typeof EV_START | typeof EV_PASID;

export interface SimOptions {
  seed: number;
  /** Buffer design, PKRU and PASID policies (default: none modeled; the CLI passes Linux's). */
  designs?: Partial<Designs>;
  /** Cost figures: when given, every operation is charged in cycles (result.cycles). */
  figures?: Figures;
  cpus?: number;
  version?: string;
  trace?: boolean;
  /** Record untraced operations (#NM, IPIs, flushes, allocations) and XSTATE bytes over time (result.timeline). */
  timeline?: boolean;
  /** Stop after this many context switches (benchmarks). */
  maxSwitches?: number;
}

export interface TaskResult {
  pid: number;
  comm: string;
  group: string;
  kind: string;
  contextSwitches: number;
  saves: number;
  restores: number;
  signals: number;
  runtimeNs: number;
  exited: boolean;
}

export interface SimResult {
  scenario: string;
  cpu: string;
  policy: { fpu: string; xbuf: string; pkru: string; pasid: string };
  seed: number;
  simulatedNs: number;
  totals: Counters & { violations: Violation[]; integrityChecks: number; enqcmds: number };
  tasks: TaskResult[];
  trace: TraceEvent[];
  /** Cycles by category (total, per CPU, per task) when cost figures were given. */
  cycles?: { total: number; byCategory: CategoryCycles; perCpu: CategoryCycles[]; perTask: Record<number, CategoryCycles> };
  /** With `timeline`: what no tracepoint shows, with the model's clock. */
  timeline?: { marks: TimelineMark[]; samples: TimelineSample[] };
}

export function simulate(profile: CpuProfile, policy: FpuPolicy, sc: Scenario, o: SimOptions): SimResult {
  const ncpu = o.cpus ?? sc.cpus;
  const meter = o.figures ? new CostMeter(o.figures) : undefined;
  const timeline = o.timeline ? new TimelineMeter(meter) : undefined;
  const k: Kernel = createKernel(profile, policy, { cpus: ncpu, version: o.version ?? '6.18', designs: o.designs, meter: timeline ?? meter });
  const rng: Prng = createPrng(o.seed);
  const heap = new EventQueue();
  const sims = new Map<number, SimTask>();
  /** The same tasks by pid - SIM_PID_BASE (the hot path's lookup). */
  const simByPid: (SimTask | undefined)[] = [];
  /** Every task's shadow in one array (row r at r * STRIDE): what it last wrote, by component. */
  let shadows = new Int32Array(STRIDE * 1024);
  let rows = 0;
  const results = new Map<number, TaskResult>();
  const violations: Violation[] = [];
  const traceOut: TraceEvent[] = [];
  const end = sc.durationMs * 1e6;
  let now = 0;
  let integrityChecks = 0;
  let enqcmds = 0;
  let pendingChange: number | undefined;
  const enabled = k.cfg.xcr0;

  // The hot events are reused objects (the simulator allocates nothing per switch on its hot path).
  // They carry no `ts`: the clock is set directly (a time in an event's field is read back boxed).
  const evSyscall = { type: 'syscall' as const, pid: 0, nr: 0 };
  const evSysexit = { type: 'sysexit' as const, pid: 0, nr: 0, ret: 0 };
  const evReturn = { type: 'return' as const, pid: 0 };
  const evSchedule = { type: 'schedule' as const, cpu: 0, prevState: 'R' as PrevState };
  const evRead = { type: 'user-read' as const, pid: 0, comp: 0 };
  // moreOf[n]: n reused [component, tag] pairs (the user-write event's `more`), made on first use.
  const moreOf: [number, number][][] = [[]];
  const evWrite = { type: 'user-write' as const, pid: 0, comp: 0, tag: 0, more: moreOf[0] as readonly (readonly [number, number])[] };
  const pick = new Int32Array(64);
  const syscall = (pid: number, nr: number): void => {
    evSyscall.pid = pid;
    evSyscall.nr = nr;
    run(evSyscall);
  };
  const sysexit = (pid: number, nr: number, ret: number): void => {
    evSysexit.pid = pid;
    evSysexit.nr = nr;
    evSysexit.ret = ret;
    run(evSysexit);
  };
  const run = (ev: KEvent): void => {
    k.st.now = now; // what step does with ev.ts
    const r = step(k, ev, o.trace === true);
    if (r.violations.length) for (const v of r.violations) if (violations.length < 1000) violations.push(v);
    if (o.trace) for (const e of r.trace) traceOut.push(e);
  };
  const push = (t: number, kind: EvKind, id: number, gen = 0): void => heap.push(t, kind, id, gen);
  const draw = (r: readonly [number, number]): number => Math.round((r[0] + (r[1] > r[0] ? nextInt(rng, Math.round((r[1] - r[0]) * 1000) + 1) / 1000 : 0)) * US);
  const task = (pid: number): Task | undefined => k.st.tasks.get(pid);
  const simOf = (pid: number): SimTask | undefined => (pid >= SIM_PID_BASE ? simByPid[pid - SIM_PID_BASE] : sims.get(pid));

  function compsOfFamilies(fams: readonly (keyof typeof COMPONENT_FAMILIES)[]): number[] {
    const out: number[] = [];
    for (const f of fams) for (const i of COMPONENT_FAMILIES[f]) if ((enabled >> BigInt(i)) & 1n) out.push(i);
    if (out.some((i) => i >= STRIDE)) throw new Error(`component families beyond ${STRIDE - 1}: ${out.join(', ')}`);
    return out;
  }

  function compsOf(g: TaskGroupSpec): number[] {
    return compsOfFamilies(g.components);
  }

  function newSim(pid: number, g: TaskGroupSpec, shadowOf?: SimTask): SimTask {
    if ((rows + 1) * STRIDE > shadows.length) {
      const grown = new Int32Array(shadows.length * 2);
      grown.set(shadows);
      shadows = grown;
    }
    const row = rows++;
    if (shadowOf) shadows.copyWithin(row * STRIDE, shadowOf.row * STRIDE, (shadowOf.row + 1) * STRIDE);
    const s: SimTask = {
      pid,
      group: g,
      comps: compsOf(g),
      phase: 'new',
      gen: 0,
      inSyscall: -1,
      row,
      shadowStack: [],
      handlerEnd: 0,
      deathAt: g.lifetimeUs ? now + draw(g.lifetimeUs) : Infinity,
      nextFork: g.forkExec ? now + g.forkExec.everyUs * US : Infinity,
      nextPtrace: g.ptrace ? now + g.ptrace.everyUs * US : Infinity,
      writes: 0,
      execOnFirstEntry: false,
      sliceStart: now,
      runtime: 0,
      signals: 0,
      wokeFromBlock: false,
      guestComps: g.kvm ? compsOfFamilies(g.kvm.guestComponents) : [],
      guestShadow: g.kvm ? new Int32Array(64) : NO_SHADOW,
      exitsLeft: 0,
      known: 0,
      started: false,
    };
    sims.set(pid, s);
    if (pid >= SIM_PID_BASE) {
      while (simByPid.length < pid - SIM_PID_BASE) simByPid.push(undefined);
      simByPid[pid - SIM_PID_BASE] = s;
    }
    const t = task(pid)!;
    results.set(pid, { pid, comm: t.comm, group: g.name, kind: t.kind, contextSwitches: 0, saves: 0, restores: 0, signals: 0, runtimeNs: 0, exited: false });
    return s;
  }

  /** The task now current on `cpu` continues where it stopped. */
  function resume(cpuId: number): void {
    const cpu = k.st.cpus[cpuId];
    const t = task(cpu.curr);
    if (!t || t.kind === 'idle') return;
    const s = simOf(t.pid);
    if (!s) return;
    s.sliceStart = now;
    s.gen++;
    if (t.kind === 'kthread') {
      s.phase = 'kthread';
      if (chance(rng, s.group.kernelFpuProbability)) run({ type: 'kfpu', cpu: cpuId, ctx: 'task' });
      push(now + draw(s.group.computeUs), EV_KDONE, t.pid, s.gen);
      return;
    }
    if (s.phase === 'guest-preempted') return guestStretch(t, s);
    if (s.inSyscall >= 0 && s.phase === 'preempted' && s.wokeFromBlock && chance(rng, s.group.kernelReblockProbability)) {
      // Woken only to wait again: kernel code runs, the task blocks without reaching user mode.
      s.phase = 'blocked';
      s.gen++;
      push(now + draw(s.group.sleepUs), EV_WAKE, t.pid);
      schedule(cpuId, 'S');
      return;
    }
    s.wokeFromBlock = false;
    if (!s.started) {
      s.started = true;
      const g = s.group;
      if (g.sigaltstackBytes !== undefined) run({ type: 'sigaltstack', pid: t.pid, size: g.sigaltstackBytes });
      if (g.amxPermission ?? g.components.includes('amx')) run({ type: 'arch-prctl', pid: t.pid, code: ARCH_REQ_XCOMP_PERM, arg: XFEATURE_XTILEDATA });
      if (g.enqcmd && pasidSupported(k)) {
        run({ type: 'pasid-bind', pid: t.pid }); // iommu_sva_bind_device: the mm's PASID (allocated once)
        if (g.enqcmd.changeAtUs !== undefined && pendingChange === undefined) {
          pendingChange = t.pid;
          push(g.enqcmd.changeAtUs * US, EV_PASID, t.pid);
        }
      }
    }
    if (s.inSyscall === 0 && chance(rng, s.group.uaccessProbability)) uaccess(t, s); // read() completing
    if (s.inSyscall >= 0) {
      sysexit(t.pid, s.inSyscall, 0);
      s.inSyscall = -1;
    }
    toUser(t, s);
  }

  /** exit_to_user_mode, then the ABI check and a stretch of user work. */
  function toUser(t: Task, s: SimTask): void {
    const frames = t.frames.length;
    evReturn.pid = t.pid;
    run(evReturn);
    if (!k.st.tasks.has(t.pid)) return;
    for (let f = frames; f < t.frames.length; f++) {
      // Handler entry: the interrupted state is in the frame; the handler starts from init state.
      const base = s.row * STRIDE;
      s.shadowStack.push(shadows.slice(base, base + STRIDE));
      shadows.fill(0, base, base + STRIDE);
      if (hasPkru(k)) shadows[base + 9] = pkruToken(k, INIT_PKRU); // fpu__clear_user_states: pkru_write_default()
      s.signals++;
      s.handlerEnd = now + draw(s.group.signals?.handlerUs ?? [5, 20]);
    }
    if (t.pending.includes(11) || t.pending.includes(4)) return die(t, s);
    s.phase = 'user';
    work(t, s);
  }

  function check(t: Task, s: SimTask): void {
    const base = s.row * STRIDE;
    const comps = s.comps;
    for (let j = 0; j < comps.length; j++) {
      const i = comps[j];
      if (((s.known >>> i) & 1) === 0) continue;
      integrityChecks++;
      evRead.pid = t.pid;
      evRead.comp = i;
      k.st.now = now;
      const seen = step(k, evRead, false).observed;
      if (seen !== shadows[base + i] && violations.length < 1000) {
        violations.push({ rule: 'integrity', detail: `${t.comm}-${t.pid} sees component ${i} = token ${seen}, expected ${shadows[base + i]}`, cpu: t.cpu, pid: t.pid });
      }
    }
  }

  function work(t: Task, s: SimTask): void {
    if (s.comps.length > 0 && (s.group.fpuProbability >= 1 || chance(rng, s.group.fpuProbability))) {
      // A stretch that uses the FPU first finds its registers as it left them (the check reads them,
      // which is itself an FPU access: under lazy switching it takes the #NM), then changes some.
      check(t, s);
      // A stretch of user code writes some of the task's components (each with probability 1/2, at least
      // one): the others stay as they were loaded, which is what the modified optimization exploits.
      // Each task cycles through VALUES_PER_TASK values per component: a stale or foreign value is still
      // seen as wrong, and the value pool stays bounded. One user-write event writes them all.
      const tag = ((t.pid & 0xfffff) << 8) | (++s.writes % VALUES_PER_TASK);
      const comps = s.comps;
      let n = 0;
      for (let j = 0; j < comps.length; j++) if (((s.known >>> comps[j]) & 1) === 0 || chance(rng, 0.5)) pick[n++] = comps[j];
      if (n === 0) pick[n++] = comps[nextInt(rng, comps.length)];
      while (moreOf.length < n) moreOf.push(Array.from({ length: moreOf.length }, (): [number, number] => [0, 0]));
      const more = moreOf[n - 1];
      for (let j = 1; j < n; j++) {
        more[j - 1][0] = pick[j];
        more[j - 1][1] = tag;
      }
      evWrite.pid = t.pid;
      evWrite.comp = pick[0];
      evWrite.tag = tag;
      evWrite.more = more;
      run(evWrite);
      if (t.pending.includes(4)) return die(t, s); // SIGILL: AMX without permission
      const base = s.row * STRIDE;
      for (let j = 0; j < n; j++) {
        const i = pick[j];
        shadows[base + i] = valueToken(k, i, tag);
        s.known |= 1 << i;
      }
    }
    const stretch = draw(s.group.computeUs);
    const at = s.handlerEnd > 0 ? Math.min(now + stretch, Math.max(now + 1000, s.handlerEnd)) : now + stretch;
    s.runtime += at - now;
    push(at, EV_ENTRY, t.pid, s.gen);
  }

  function schedule(cpuId: number, prevState: PrevState): void {
    const cpu = k.st.cpus[cpuId];
    const prev = cpu.curr;
    evSchedule.cpu = cpuId;
    evSchedule.prevState = prevState;
    run(evSchedule);
    if (cpu.rq.length === 0 && cpu.curr === cpu.idle) pull(cpuId);
    if (cpu.curr !== prev) resume(cpuId);
  }

  /** Idle balancing: an idle CPU takes a waiting task from the busiest run queue. */
  function pull(cpuId: number): void {
    let busiest = -1;
    for (const c of k.st.cpus) if (c.rq.length > 0 && (busiest < 0 || c.rq.length > k.st.cpus[busiest].rq.length)) busiest = c.id;
    if (busiest < 0 || busiest === cpuId) return;
    const pid = k.st.cpus[busiest].rq[k.st.cpus[busiest].rq.length - 1];
    run({ type: 'migrate', pid, cpu: cpuId, on: cpuId });
    run({ type: 'schedule', cpu: cpuId, prevState: 'R' });
  }

  function wake(pid: number): void {
    const t = task(pid);
    if (!t) return;
    const target = selectCpu(k, t.cpu);
    run({ type: 'wakeup', pid, cpu: target, by: t.cpu });
    const cpu = k.st.cpus[target];
    if (cpu.curr === cpu.idle) schedule(target, 'R');
  }

  function die(t: Task, s: SimTask): void {
    const cpuId = t.cpu;
    run({ type: 'syscall', pid: t.pid, nr: 231 });
    run({ type: 'exit', pid: t.pid });
    s.phase = 'dead';
    s.gen++;
    const res = results.get(t.pid)!;
    res.exited = true;
    res.contextSwitches = t.switches;
    res.saves = t.saves;
    res.restores = t.restores;
    schedule(cpuId, 'Z');
  }

  /** copy_to_user on the task's behalf: the kernel must use the task's own protection keys. */
  function uaccess(t: Task, s: SimTask): void {
    const used = step(k, { type: 'uaccess', pid: t.pid, ts: now }, false).observed;
    if (used < 0 || ((s.known >>> 9) & 1) === 0) return;
    integrityChecks++;
    const want = pkruValue(k, shadows[s.row * STRIDE + 9]);
    if (used !== want && violations.length < 1000) {
      violations.push({ rule: 'pkru', detail: `copy_to_user for ${t.comm}-${t.pid} used PKRU 0x${used.toString(16)}, the task's is 0x${want.toString(16)}`, cpu: t.cpu, pid: t.pid });
    }
  }

  /** VM entry: the guest checks its registers, then computes until the next VM exit. */
  function guestStretch(t: Task, s: SimTask): void {
    run({ type: 'vm-entry', pid: t.pid });
    s.phase = 'guest';
    const xs = k.st.cpus[t.cpu].xs;
    for (const i of s.guestComps) {
      integrityChecks++;
      if (xs.tok[i] !== s.guestShadow[i] && violations.length < 1000) {
        violations.push({ rule: 'integrity', detail: `guest of ${t.comm}-${t.pid} sees component ${i} = token ${xs.tok[i]}, expected ${s.guestShadow[i]}`, cpu: t.cpu, pid: t.pid });
      }
    }
    for (const i of s.guestComps) {
      const tag = ((t.pid & 0xfffff) << 8) | (0x40 + (++s.writes % VALUES_PER_TASK));
      run({ type: 'guest-write', pid: t.pid, comp: i, tag });
      s.guestShadow[i] = valueToken(k, i, tag);
    }
    const at = now + draw(s.group.kvm!.guestUs);
    s.runtime += at - now;
    push(at, EV_ENTRY, t.pid, s.gen);
  }

  /** A VM exit: back into the guest, preempted, or out of KVM_RUN to user space. */
  function vmExit(t: Task, s: SimTask): void {
    run({ type: 'vm-exit', pid: t.pid });
    const cpu = k.st.cpus[t.cpu];
    if (now - s.sliceStart >= sc.sliceUs * US && cpu.rq.length > 0) {
      s.phase = 'guest-preempted';
      s.gen++;
      schedule(t.cpu, 'R');
      if (k.st.cpus[t.cpu].curr === t.pid) resume(t.cpu);
      return;
    }
    if (--s.exitsLeft > 0) return guestStretch(t, s);
    run({ type: 'kvm-put', pid: t.pid });
    run({ type: 'sysexit', pid: t.pid, nr: 16, ret: 0 });
    toUser(t, s);
  }

  function entry(pid: number): void {
    const t = task(pid);
    const s = simOf(pid);
    if (t && s && s.phase === 'guest') return vmExit(t, s);
    if (!t || !s || s.phase !== 'user') return;
    const cpuId = t.cpu;
    const g = s.group;
    if (g.kvm && s.handlerEnd === 0 && chance(rng, 0.5)) {
      // ioctl(KVM_RUN)
      run({ type: 'syscall', pid, nr: 16 });
      run({ type: 'kvm-run', pid });
      s.exitsLeft = Math.max(1, Math.round(draw(g.kvm.exitsPerRun) / US));
      return guestStretch(t, s);
    }
    if (s.handlerEnd > 0 && now >= s.handlerEnd) {
      run({ type: 'sigreturn', pid });
      const saved = s.shadowStack.pop();
      if (saved) shadows.set(saved, s.row * STRIDE);
      else shadows.fill(0, s.row * STRIDE, (s.row + 1) * STRIDE);
      s.handlerEnd = s.shadowStack.length > 0 ? now + draw(g.signals?.handlerUs ?? [5, 20]) : 0;
      return toUser(t, s);
    }
    if (now >= s.deathAt) return die(t, s);
    if (s.execOnFirstEntry) {
      s.execOnFirstEntry = false;
      run({ type: 'syscall', pid, nr: 59 });
      run({ type: 'exec', pid, filename: '/bin/true' });
      shadows.fill(0, s.row * STRIDE, (s.row + 1) * STRIDE);
      if (hasPkru(k)) shadows[s.row * STRIDE + 9] = pkruToken(k, INIT_PKRU);
      run({ type: 'sysexit', pid, nr: 59, ret: 0 });
      return toUser(t, s);
    }
    if (now >= s.nextFork && g.forkExec) {
      s.nextFork = now + g.forkExec.everyUs * US;
      run({ type: 'syscall', pid, nr: 56 });
      const child = k.st.nextPid;
      run({ type: 'fork', pid, child, thread: false });
      const c = task(child);
      if (c) {
        const cs = newSim(child, { ...g, forkExec: undefined, lifetimeUs: g.forkExec.lifetimeUs }, s);
        cs.known = s.known;
        cs.started = true;
        // fpu_clone saves into the child's default-sized buffer: dynamic state (TILEDATA) is not inherited.
        shadows[cs.row * STRIDE + 18] = 0;
        cs.inSyscall = 56;
        cs.execOnFirstEntry = g.forkExec.exec;
        cs.phase = 'preempted';
        const target = k.st.cpus[c.cpu];
        if (target.curr === target.idle) schedule(c.cpu, 'R');
      }
      run({ type: 'sysexit', pid, nr: 56, ret: child });
      return toUser(t, s);
    }
    if (now >= s.nextPtrace && g.ptrace) {
      s.nextPtrace = now + g.ptrace.everyUs * US;
      const target = [...sims.values()].find((x) => x.group.name === g.ptrace!.target && x.phase !== 'dead');
      const tt = target ? task(target.pid) : undefined;
      run({ type: 'syscall', pid, nr: 101 });
      if (tt && target && tt.run !== 'running') {
        // PTRACE_GETREGSET, and for a writer PTRACE_SETREGSET with a new value of the tracee's first component.
        const comp = target.comps[target.comps.length > 1 ? 1 : 0];
        const tag = ((tt.pid & 0xfffff) << 8) | (0x80 + (++target.writes % VALUES_PER_TASK));
        const ok = step(k, { type: 'ptrace', pid, target: tt.pid, write: g.ptrace.write, set: g.ptrace.write && comp !== undefined ? { comp, tag } : undefined, ts: now }, false).observed === 0;
        if (ok && g.ptrace.write && comp !== undefined) shadows[target.row * STRIDE + comp] = valueToken(k, comp, tag);
      }
      run({ type: 'sysexit', pid, nr: 101, ret: 0 });
      return toUser(t, s);
    }
    if (g.enqcmd && pasidSupported(k) && chance(rng, g.enqcmd.probability)) {
      // ENQCMD: the kernel records a 'pasid' violation when it carries another PASID than the mm's.
      enqcmds++;
      const r = step(k, { type: 'enqcmd', pid, ts: now }, false);
      for (const v of r.violations) if (violations.length < 1000) violations.push(v);
      if (t.pending.includes(11)) return die(t, s);
    }
    if (chance(rng, g.syscallProbability)) {
      const block = chance(rng, g.blockProbability);
      const nr = block ? 0 : 1;
      syscall(pid, nr);
      // write(): copies from user memory now; read(): sleeps, then copies into user memory after waking.
      if (!block && chance(rng, g.uaccessProbability)) uaccess(t, s);
      if (block) {
        s.inSyscall = nr;
        s.phase = 'blocked';
        s.gen++;
        push(now + draw(g.sleepUs), EV_WAKE, pid);
        return schedule(cpuId, 'S');
      }
      sysexit(pid, nr, 0);
      return toUser(t, s);
    }
    if (chance(rng, g.pageFaultProbability)) {
      run({ type: 'fault', pid, address: 0x7f00_0000 + nextInt(rng, 1 << 20) * 4096 });
      return toUser(t, s);
    }
    const cpu = k.st.cpus[cpuId];
    const sliceUsed = now - s.sliceStart >= sc.sliceUs * US;
    if (chance(rng, g.yieldProbability) || (sliceUsed && cpu.rq.length > 0)) {
      const yielded = !sliceUsed;
      if (yielded) {
        syscall(pid, 24);
        s.inSyscall = 24;
      }
      s.phase = 'preempted';
      s.gen++;
      schedule(cpuId, yielded ? 'R' : 'R+');
      if (k.st.cpus[cpuId].curr === pid) resume(cpuId);
      return;
    }
    work(t, s);
  }

  // Start: every task exists asleep, and is woken at a random moment of the first 100 µs.
  let firstPid = SIM_PID_BASE;
  for (const g of sc.tasks) {
    let tgid = 0;
    for (let n = 0; n < g.count; n++) {
      const pid = firstPid++;
      if (n === 0 || !g.threads) tgid = pid;
      run({ type: 'spawn', pid, tgid, comm: g.count > 1 ? `${g.name}`.slice(0, 15) : g.name, kind: g.kind, cpu: pid % ncpu });
      const s = newSim(pid, g);
      s.phase = 'preempted';
      push(nextInt(rng, 100 * US), EV_START, pid);
      if (g.signals) push(g.signals.everyUs * US + nextInt(rng, 10 * US), EV_SIGNAL, pid);
    }
  }
  if (sc.irq) for (let c = 0; c < ncpu; c++) push(nextInt(rng, sc.irq.everyUs * US), EV_IRQ, c);

  for (;;) {
    if (!heap.pop() || heap.t > end) break;
    if (o.maxSwitches !== undefined && k.st.counters.contextSwitches >= o.maxSwitches) break;
    now = heap.t;
    const kind = heap.kind;
    const id = heap.id;
    const gen = heap.gen;
    const s = kind === EV_IRQ ? undefined : simOf(id);
    switch (kind) {
      case EV_START:
      case EV_WAKE:
        if (s && s.phase !== 'dead' && (kind === EV_START || s.phase === 'blocked')) {
          if (s.phase === 'blocked') {
            s.phase = 'preempted';
            s.wokeFromBlock = true;
          }
          wake(id);
        }
        break;
      case EV_ENTRY:
        if (s && gen === s.gen) entry(id);
        break;
      case EV_KDONE: {
        const t = task(id);
        if (s && t && gen === s.gen && s.phase === 'kthread') {
          s.phase = 'blocked';
          s.gen++;
          push(now + draw(s.group.sleepUs), EV_WAKE, id);
          schedule(t.cpu, 'S');
        }
        break;
      }
      case EV_SIGNAL:
        if (s && s.phase !== 'dead' && s.group.signals) {
          run({ type: 'kill', pid: id, sig: 10 });
          push(now + s.group.signals.everyUs * US, EV_SIGNAL, id);
        }
        break;
      case EV_PASID: {
        // The PASID change is made by the first thread whenever it next runs in the kernel: here, from
        // wherever it is (the model's event needs it running; if it is not, the change waits for it).
        const t = task(id);
        if (t && t.run === 'running' && k.st.cpus[t.cpu].curr === t.pid) {
          const mm = k.st.mms.get(t.mm);
          if (mm) run({ type: 'pasid-change', pid: t.pid, pasid: mm.pasid + 100 });
        } else if (t) push(now + 10 * US, EV_PASID, id);
        break;
      }
      case EV_IRQ: {
        const irq = sc.irq!;
        const cpu = k.st.cpus[id];
        const ctx = chance(rng, irq.hardirqFpuProbability) ? 'hardirq' : chance(rng, irq.softirqFpuProbability) ? 'softirq' : null;
        if (ctx) {
          run({ type: 'kfpu', cpu: id, ctx });
          // The interrupt returns to the user task it interrupted: exit_to_user_mode again.
          const t = task(cpu.curr);
          const st = t ? simOf(t.pid) : undefined;
          if (t && st && st.phase === 'user') {
            st.gen++;
            toUser(t, st);
          }
        }
        push(now + irq.everyUs * US, EV_IRQ, id);
        break;
      }
    }
  }

  const tasks: TaskResult[] = [...results.values()].map((r) => {
    const t = task(r.pid);
    const s = sims.get(r.pid)!;
    return t ? { ...r, comm: t.comm, contextSwitches: t.switches, saves: t.saves, restores: t.restores, signals: s.signals, runtimeNs: s.runtime } : { ...r, signals: s.signals, runtimeNs: s.runtime };
  });
  if (meter) meter.chargeCacheLines(k.st.counters.cacheLinesDirtied);
  timeline?.finish(Math.min(now, end), k.st.counters.xstateBytes);
  return {
    timeline: timeline ? { marks: timeline.marks, samples: timeline.samples } : undefined,
    cycles: meter
      ? { total: meter.totalCycles(), byCategory: { ...meter.total }, perCpu: meter.perCpu.map((c) => ({ ...c })), perTask: Object.fromEntries([...meter.perTask].map(([pid, c]) => [pid, { ...c }])) }
      : undefined,
    scenario: sc.name,
    cpu: profile.id,
    policy: { fpu: policy.name, xbuf: k.designs.xbuf?.name ?? 'none', pkru: k.designs.pkru?.name ?? 'none', pasid: k.designs.pasid?.name ?? 'none' },
    seed: o.seed,
    simulatedNs: Math.min(now, end),
    totals: { ...k.st.counters, violations, integrityChecks, enqcmds },
    tasks: tasks.sort((a, b) => a.pid - b.pid),
    trace: traceOut,
  };
}
