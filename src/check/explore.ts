/**
 * The checker's explorer: breadth-first over every interleaving of a small machine's events, within
 * bounds, from the kernel model's one step function. BFS, so the first counterexample found is a
 * shortest one. A state is the kernel model's canonical hash plus the oracle's shadow.
 *
 * The oracle: each task's shadow holds the token it last wrote to each tracked component (init at
 * start). Whenever a task returns to user mode it reads every tracked component:
 *  - integrity: it must see its own last value;
 *  - confidentiality: a value some other task, or kernel FPU code, wrote is a leak (reported as such).
 * Every rule the kernel model itself checks (kernel/kernel.ts `violation`) is an invariant too.
 */
import { CpuProfile } from '../arch/profile.js';
import { InputError } from '../arch/errors.js';
import { bufferOwnerFault } from './buffer-owners.js';
import { cloneArea } from '../arch/xsave/area.js';
import { fxrstor, xrstor, xrstors } from '../arch/xsave/instructions.js';
import { enabledXState } from '../arch/xsave/state.js';
import { NEWEST_KERNEL } from '../kernel/fpu/kernel-version.js';
import { valueToken } from '../kernel/entry.js';
import type { FpuPolicy } from '../kernel/fpu/policy.js';
import type { Designs } from '../kernel/designs.js';
import { KERNEL_TAG } from '../kernel/kfpu.js';
import { MXCSR_INIT } from '../arch/xsave/values.js';
import { INIT_PKRU, pkruToken, pkruValue } from '../kernel/pkru.js';
import { pasidSupported } from '../kernel/pasid.js';
import { createKernel, Kernel, Violation } from '../kernel/kernel.js';
import { StateStore } from '../kernel/snapshot.js';
import { KState } from '../kernel/state.js';
import { KEvent, step } from '../kernel/step.js';
import type { KfpuContext } from '../kernel/kfpu.js';
import type { TraceEvent } from '../kernel/trace/events.js';

/** One move of the explorer, in kernel terms. */
export type Move =
  | { op: 'write'; pid: number; comp: number }
  | { op: 'syscall'; pid: number }
  | { op: 'return'; pid: number }
  | { op: 'switch'; cpu: number; next: number }
  | { op: 'kfpu'; cpu: number; ctx: KfpuContext }
  | { op: 'migrate'; pid: number; cpu: number }
  | { op: 'signal'; pid: number }
  | { op: 'sigreturn'; pid: number }
  | { op: 'sigreturn-bad'; pid: number; bad: BadImage }
  /** The handler enters rt_sigreturn (its frame as written, or corrupted); the restore is a move of its own. */
  | { op: 'sigreturn-enter'; pid: number; bad?: BadImage }
  /** rt_sigreturn's restore from the frame (after sigreturn-enter); the task then returns with `return`. */
  | { op: 'sigreturn-restore'; pid: number }
  | { op: 'exec'; pid: number }
  | { op: 'fork'; pid: number; thread: boolean }
  | { op: 'exit'; pid: number }
  | { op: 'ptrace'; pid: number; target: number; how: PtraceHow; bad?: BadImage }
  | { op: 'uaccess'; pid: number }
  | { op: 'pasid'; pid: number; change: boolean }
  | { op: 'enqcmd'; pid: number }
  | { op: 'kvm'; pid: number; what: KvmStep }
  | { op: 'guest-write'; pid: number; comp: number }
  | { op: 'mxcsr'; pid: number }
  | { op: 'irq-in-lock'; cpu: number }
  | { op: 'coredump'; pid: number };

/** A vCPU thread's ioctl(KVM_RUN): enter it (vcpu_load), VM entry (the guest runs), VM exit. */
export type KvmStep = 'run' | 'entry' | 'exit';

/** A debugger's access: GETREGSET, SETREGSET of a new value, SETREGSET of an image with a bogus header. */
export type PtraceHow = 'get' | 'set' | 'bogus';

/**
 * How a signal frame or a ptrace image is corrupted: a reserved XSTATE_BV bit (63); XCOMP_BV with bit
 * 63 (a compacted image where the standard format is required: CVE-2017-15537); reserved MXCSR bits
 * with SSE marked present (catalogue E2). XRSTOR #GPs on each; the kernel must refuse or recover.
 */
export const BAD_IMAGES = ['xstate-bv', 'xcomp-bv', 'mxcsr'] as const;
export type BadImage = (typeof BAD_IMAGES)[number];

/** The byte edits that corrupt a standard-format image (legacy area + header at 512) that way. */
function badEdits(bad: BadImage): { offset: number; bytes: number[] }[] {
  if (bad === 'xstate-bv') return [{ offset: 512 + 7, bytes: [0x80] }];
  if (bad === 'xcomp-bv') return [{ offset: 520 + 7, bytes: [0x80] }];
  // MXCSR (legacy-area offset 24) 0xffff1f80, and XSTATE_BV[1] so the SSE state (with MXCSR) is used.
  return [
    { offset: 24, bytes: [0x80, 0x1f, 0xff, 0xff] },
    { offset: 512, bytes: [0x03] },
  ];
}

export const MOVE_KINDS = [
  'write',
  'syscall',
  'return',
  'switch',
  'kfpu-task',
  'kfpu-softirq',
  'kfpu-hardirq',
  'migrate',
  'signal',
  'sigreturn',
  'sigreturn-bad',
  'sigreturn-enter',
  'exec',
  'fork',
  'clone',
  'exit',
  'ptrace-get',
  'ptrace-set',
  'ptrace-bogus',
  'uaccess',
  'pasid',
  'pasid-change',
  'enqcmd',
  'kvm',
  'guest-write',
  'mxcsr',
  'irq-in-lock',
  'coredump',
] as const;
export type MoveKind = (typeof MOVE_KINDS)[number];

export interface CheckConfig {
  cpus: number;
  /** User tasks at the start. */
  tasks: number;
  /** Most tasks `fork` / `clone` may add. */
  children: number;
  /** Most moves on a path. */
  depth: number;
  /** XSAVE components user code writes and reads (0 x87, 1 SSE, 2 AVX, 9 PKRU, 17/18 AMX tile config/data). */
  comps: number[];
  moves: MoveKind[];
  /** Stop after this many distinct states (the result says the bound was hit). */
  maxStates: number;
  /**
   * History before the search: each task running at the start first uses the FPU in this many
   * consecutive time slices (write, syscall, switch to idle and back, return), so policies with history
   * (lazy-ts's fpu_counter preload after 5) start warmed. Default 0.
   */
  warmup?: number;
}

/** Components the oracle can track: x87, SSE, AVX, PKRU, AMX tile config and data. */
export const TRACKABLE = [0, 1, 2, 9, 17, 18] as const;

/** The moves of the default bounds: switching, entry/exit, kernel FPU, migration, exec. */
const DEFAULT_MOVES: MoveKind[] = ['write', 'syscall', 'return', 'switch', 'kfpu-task', 'kfpu-softirq', 'kfpu-hardirq', 'migrate', 'exec'];

/** The default bounds (the other moves multiply the space: `--moves` adds them). */
export const DEFAULT_CONFIG: CheckConfig = { cpus: 2, tasks: 2, children: 0, depth: 12, comps: [1, 2], moves: DEFAULT_MOVES, maxStates: 1_000_000 };

/** SIGUSR1: the handler runs and returns with rt_sigreturn. */
const SIGUSR1 = 10;
/** rt_sigreturn's syscall number. */
const NR_RT_SIGRETURN = 15;
/** arch_prctl(ARCH_REQ_XCOMP_PERM, XFEATURE_XTILEDATA): AMX permission, asked for at start. */
const ARCH_REQ_XCOMP_PERM = 0x1023;
const XFEATURE_XTILEDATA = 18;
const PKRU = 9;
/** A PASID per mm and generation: the `pasid` move toggles an mm's PASID between two values. */
const pasidFor = (mm: number, which: number): number => 1000 + mm * 2 + which;

export interface Finding {
  invariant: string;
  detail: string;
  /** The moves from the initial state, shortest first found. */
  path: Move[];
}

export interface CheckResult {
  policy: string;
  config: CheckConfig;
  states: number;
  transitions: number;
  /** Depth fully explored (== config.depth when no bound was hit). */
  depthReached: number;
  exhaustive: boolean;
  /** Why a search without a finding stopped short: the state bound, or the memory bound on stored XSAVE images. */
  stoppedBy?: 'states' | 'memory';
  finding?: Finding;
  seconds: number;
}

/** The most bytes of distinct XSAVE area images the explorer stores (AMX states are ~10 KiB each): it stops, not exhaustive, before the heap runs out. */
export const MAX_IMAGE_BYTES = 1 << 30;

/** What is checked: an FPU policy and the design alternatives beside it (a mutant is one too). */
export interface Target {
  policy: FpuPolicy;
  /** Buffer design, PKRU and PASID policies; missing ones are not modeled. */
  designs?: Partial<Designs>;
  /**
   * The Linux version whose kernel code runs around the policy (default 6.18): the boot configuration,
   * and the version-dependent code no policy reaches (ptrace's image checks, for one).
   */
  kernel?: string;
}

/** The invariants, each with the one line reports show. */
export const INVARIANTS: Readonly<Record<string, string>> = {
  integrity: 'whenever a task observes a component in user mode, it sees its own last value',
  confidentiality: 'no task ever observes a value written by another task or by kernel FPU code',
  pkru: 'every kernel access to user memory on a task’s behalf uses that task’s PKRU',
  pasid: 'every ENQCMD carries its mm’s current PASID',
  ptrace: 'regset reads (ptrace, core dumps) return the task’s exact state; an image a write leaves in its buffer can be restored',
  signal: 'sigreturn of a corrupted frame gives SIGSEGV and init state, never another task’s values',
  'kernel-xsave-fault': 'no kernel XSAVE/XRSTOR faults (buffer too small for its mask, bad header)',
  'free-embedded': 'the embedded default fpstate is never freed',
  'buffer-owner': 'every XSAVE buffer has one owner: none is shared by two tasks, freed twice or used after it was freed',
  'sleep-in-atomic': 'no sleeping allocation in atomic context',
  'kthread-fpu-load': 'kernel threads never load user FPU state',
  'guest-integrity': 'whenever a KVM guest runs, it sees its own last values',
  kvm: 'KVM runs a guest only inside KVM_RUN, and its register accesses do not fault',
  'kernel-mxcsr': 'kernel SIMD code runs with the default MXCSR, never the interrupted user’s',
};

const FIRST_PID = 101;
const idlePid = (cpu: number): number => -1 - cpu;

/** Two values per task and component, so the state space stays finite: the write toggles between them. */
const tagOf = (pid: number, which: number): number => pid * 2 + which;

/** The MXCSR user code loads: round toward zero, every exception masked (not the default 0x1f80). */
const USER_MXCSR = 0x1f80 | 0x6000;

/** Guest values: distinct from every host task's. */
const guestTagOf = (pid: number, which: number): number => 1_000_000 + pid * 2 + which;
/** Components a guest's view is checked for (its fpstate has the default user features). */
const GUEST_COMPS: ReadonlySet<number> = new Set([0, 1, 2]);

/** `inSys` values: not in a syscall, in one, in rt_sigreturn before its restore (honest frame, corrupted frame), after it. */
const IN_SYSCALL = 1;
const IN_SIGRETURN = 2;
const IN_SIGRETURN_BAD = 3;
const IN_SIGRETURN_DONE = 4;

/** Per task slot: never created, alive, exited. */
const UNBORN = 0;
const ALIVE = 1;
const DEAD = 2;

interface Node {
  /** Null once the last move from the node has taken it over. */
  st: KState | null;
  /** The oracle's arrays end to end: shadow, saved, guest, then inSys and alive (one word per slot). */
  oracle: Int32Array;
  parent: Node | null;
  move: Move | null;
  depth: number;
}

type Bad = { invariant: string; detail: string } | null;

export class Explorer {
  readonly k: Kernel;
  /** Every task slot's pid: the first `tasks` exist at the start, the rest are for fork/clone. */
  readonly pids: number[];
  private readonly nc: number;
  /** What each tracked component holds after exec, at handler entry, and at the start. */
  private readonly initTok: Int32Array;
  private readonly shadow: Int32Array;
  /** The shadow of the interrupted context while a signal handler runs (one level of frames). */
  private readonly saved: Int32Array;
  /** Per task: 0 user/kernel outside a syscall, 1 in a syscall (rt_sigreturn counts). */
  private readonly inSys: Uint8Array;
  private readonly alive: Uint8Array;
  /** Per task and component: what its KVM guest last wrote (init until then). */
  private readonly guest: Int32Array;
  /** Per task: the MXCSR it last loaded, and the interrupted one while a handler runs (with the `mxcsr` move). */
  private readonly mx: Int32Array;
  private owner = new Map<number, string>();
  private violations: Violation[] = [];
  private readonly on: ReadonlySet<MoveKind>;
  /** AMX components are tracked: tasks hold the XTILEDATA permission. */
  private readonly amx: boolean;
  /** When set, the trace events of every step (counterexample stories). */
  traceOut: TraceEvent[] | null = null;

  constructor(
    profile: CpuProfile,
    readonly target: Target,
    readonly cfg: CheckConfig,
  ) {
    this.k = createKernel(profile, target.policy, { cpus: cfg.cpus, version: target.kernel ?? NEWEST_KERNEL, designs: target.designs });
    for (const c of cfg.comps) if ((this.k.cfg.xcr0 & (1n << BigInt(c))) === 0n) throw new InputError(`component ${c} is not enabled on ${profile.id} (XCR0 0x${this.k.cfg.xcr0.toString(16)})`, '--comps');
    this.on = new Set(cfg.moves);
    const pasidMoves = cfg.moves.filter((m) => m === 'pasid' || m === 'pasid-change' || m === 'enqcmd');
    if (pasidMoves.length > 0) {
      const need = `${pasidMoves.join(', ')} ${pasidMoves.length > 1 ? 'need' : 'needs'}`;
      // Without a PASID policy the kernel does nothing for PASID: every ENQCMD would be reported.
      if (!this.k.designs.pasid) throw new InputError(`${need} a PASID policy beside the FPU policy (--pasid gp-fixup, switch-mm, switch-mm-cmp or ipi-all)`, '--moves');
      if (!pasidSupported(this.k)) throw new InputError(`${need} a CPU with ENQCMD and the PASID state component; ${profile.id} has none (try sapphire-rapids)`, '--moves');
    }
    const slots = cfg.tasks + cfg.children;
    this.pids = Array.from({ length: slots }, (_, i) => FIRST_PID + i);
    this.nc = cfg.comps.length;
    this.initTok = Int32Array.from(cfg.comps, (c) => (c === PKRU ? pkruToken(this.k, INIT_PKRU) : 0));
    this.shadow = new Int32Array(slots * this.nc);
    this.saved = new Int32Array(slots * this.nc);
    this.mx = new Int32Array(2 * slots);
    for (let i = 0; i < slots; i++) this.resetShadow(i);
    this.inSys = new Uint8Array(slots);
    this.alive = new Uint8Array(slots);
    this.guest = new Int32Array(slots * this.nc);
    for (const c of cfg.comps) {
      this.owner.set(c * 1e6 + valueToken(this.k, c, KERNEL_TAG), 'kernel FPU code');
      for (const pid of this.pids)
        for (const w of [0, 1]) {
          this.owner.set(c * 1e6 + valueToken(this.k, c, tagOf(pid, w)), `task t${pid}`);
          if (this.on.has('guest-write') && GUEST_COMPS.has(c)) this.owner.set(c * 1e6 + valueToken(this.k, c, guestTagOf(pid, w)), `t${pid}'s KVM guest`);
        }
    }
    const amx = (this.amx = cfg.comps.some((c) => c >= 17));
    // Each task starts asleep on CPU (i mod cpus), then the first ones run and return to user mode.
    for (let i = 0; i < cfg.tasks; i++) {
      const pid = this.pids[i];
      this.apply({ type: 'spawn', pid, comm: `t${pid}`, kind: 'user', cpu: i % cfg.cpus });
      if (amx) this.apply({ type: 'arch-prctl', pid, code: ARCH_REQ_XCOMP_PERM, arg: XFEATURE_XTILEDATA });
      this.alive[i] = ALIVE;
    }
    for (let i = 0; i < cfg.tasks; i++) this.apply({ type: 'wakeup', pid: this.pids[i], by: 0 });
    for (let c = 0; c < cfg.cpus && c < cfg.tasks; c++) {
      this.apply({ type: 'switch', cpu: c, next: this.pids[c], prevState: 'R' });
      this.apply({ type: 'return', pid: this.pids[c] });
    }
    this.violations = [];
    for (let r = 0; r < (cfg.warmup ?? 0); r++)
      for (let c = 0; c < cfg.cpus && c < cfg.tasks; c++) {
        const pid = this.pids[c];
        const slice: Move[] = [{ op: 'write', pid, comp: cfg.comps[0] }, { op: 'syscall', pid }, { op: 'switch', cpu: c, next: idlePid(c) }, { op: 'switch', cpu: c, next: pid }, { op: 'return', pid }];
        for (const m of slice) {
          const bad = this.move(m);
          if (bad) throw new InputError(`the warm-up itself breaks ${bad.invariant} (slice ${r + 1} of t${pid}): ${bad.detail}; check with a smaller warmup`, 'warmup');
        }
      }
    this.violations = [];
  }

  private apply(ev: KEvent): number {
    ev.ts = this.k.st.now + 1000;
    const r = step(this.k, ev, this.traceOut !== null);
    if (r.violations.length) this.violations.push(...r.violations);
    if (this.traceOut) this.traceOut.push(...r.trace);
    return r.observed;
  }

  private idx(pid: number): number {
    return pid - FIRST_PID;
  }

  private resetShadow(i: number): void {
    this.shadow.set(this.initTok, i * this.nc);
    this.saved.set(this.initTok, i * this.nc);
    this.mx[2 * i] = this.mx[2 * i + 1] = MXCSR_INIT;
  }

  private compIndex(comp: number): number {
    return this.cfg.comps.indexOf(comp);
  }

  /** A task's next value for a component: the other of its two. */
  private nextTag(pid: number, comp: number): number {
    const i = this.idx(pid) * this.nc + this.compIndex(comp);
    // PKRU's two values: 0 (every key enabled, its init configuration) and one of the task's own.
    if (comp === PKRU) return this.shadow[i] === valueToken(this.k, PKRU, tagOf(pid, 1)) ? 0 : tagOf(pid, 1);
    return tagOf(pid, this.shadow[i] === valueToken(this.k, comp, tagOf(pid, 0)) ? 1 : 0);
  }

  private freeSlot(): number {
    return this.alive.indexOf(UNBORN);
  }

  /** The moves enabled in the current state. */
  enabled(): Move[] {
    const out: Move[] = [];
    const on = this.on;
    const st = this.k.st;
    for (const cpu of st.cpus) {
      const t = st.tasks.get(cpu.curr);
      const user = t !== undefined && t.kind === 'user';
      if (user && t.inUser) {
        if (on.has('write')) for (const comp of this.cfg.comps) out.push({ op: 'write', pid: t.pid, comp });
        if (on.has('syscall')) out.push({ op: 'syscall', pid: t.pid });
        if (on.has('enqcmd')) out.push({ op: 'enqcmd', pid: t.pid });
        if (on.has('mxcsr')) out.push({ op: 'mxcsr', pid: t.pid });
        // rt_sigreturn: a handler running in user mode returns (one level of handlers), its frame as
        // written or with a corrupted header.
        if (t.frames.length > 0) {
          if (on.has('sigreturn')) out.push({ op: 'sigreturn', pid: t.pid });
          if (on.has('sigreturn-bad')) for (const bad of BAD_IMAGES) out.push({ op: 'sigreturn-bad', pid: t.pid, bad });
          // rt_sigreturn as two steps: the kernel may be preempted, interrupted, migrated before the restore.
          if (on.has('sigreturn-enter')) {
            out.push({ op: 'sigreturn-enter', pid: t.pid });
            if (on.has('sigreturn-bad')) for (const bad of BAD_IMAGES) out.push({ op: 'sigreturn-enter', pid: t.pid, bad });
          }
        }
      }
      const vcpu = user ? t.vcpu : null;
      if (vcpu?.inGuest) {
        // The guest runs: it writes its registers, or a VM exit brings the thread back to the host.
        if (on.has('guest-write')) for (const comp of this.cfg.comps) if (GUEST_COMPS.has(comp)) out.push({ op: 'guest-write', pid: t!.pid, comp });
        if (on.has('kvm')) out.push({ op: 'kvm', pid: t!.pid, what: 'exit' });
        continue; // an interrupt exits the guest first: nothing else runs on this CPU meanwhile
      }
      if (user && !t.inUser && vcpu?.inRun) {
        if (on.has('kvm')) out.push({ op: 'kvm', pid: t.pid, what: 'entry' });
      }
      const sigreturning = user && !t.inUser && (this.inSys[this.idx(t.pid)] === IN_SIGRETURN || this.inSys[this.idx(t.pid)] === IN_SIGRETURN_BAD);
      if (sigreturning) out.push({ op: 'sigreturn-restore', pid: t.pid });
      if (user && !t.inUser && !sigreturning) {
        if (on.has('return')) out.push({ op: 'return', pid: t.pid });
        // In ioctl(KVM_RUN) the thread does nothing else but enter the guest or return.
        const sys = this.inSys[this.idx(t.pid)] === IN_SYSCALL && !vcpu?.inRun;
        // KVM is checked through the 5.16+ API (fpu_swap_kvm_fpstate); the model's pre-5.16 path is an
        // approximation of kvm_load_guest_fpu not faithful enough for a verdict.
        if (sys && on.has('kvm') && t.frames.length === 0 && this.k.policy.kvmApi === 'fpstate-swap') out.push({ op: 'kvm', pid: t.pid, what: 'run' });
        const noFrame = t.frames.length === 0;
        // The task's system call is execve() / fork() / clone() / exit() / one touching user memory.
        if (sys && noFrame && on.has('exec')) out.push({ op: 'exec', pid: t.pid });
        if (sys && noFrame && this.freeSlot() >= 0) {
          if (on.has('fork')) out.push({ op: 'fork', pid: t.pid, thread: false });
          if (on.has('clone')) out.push({ op: 'fork', pid: t.pid, thread: true });
        }
        if (sys && noFrame && on.has('exit')) out.push({ op: 'exit', pid: t.pid });
        if (sys && on.has('uaccess') && this.compIndex(PKRU) >= 0) out.push({ op: 'uaccess', pid: t.pid });
        if (sys && on.has('coredump')) out.push({ op: 'coredump', pid: t.pid });
        // SVA bind: the mm's first PASID (5.18+ keeps it until the mm goes); or a later change of it.
        const bound = (st.mms.get(t.mm)?.pasid ?? 0) !== 0;
        if (sys && on.has('pasid') && !bound) out.push({ op: 'pasid', pid: t.pid, change: false });
        if (sys && on.has('pasid-change') && bound) out.push({ op: 'pasid', pid: t.pid, change: true });
        if (sys && (on.has('ptrace-get') || on.has('ptrace-set') || on.has('ptrace-bogus')))
          for (const pid of this.pids) {
            const o = st.tasks.get(pid);
            // A stopped tracee is off every CPU (the debugger waited for it).
            if (!o || pid === t.pid || o.run !== 'runnable' || o.vcpu?.inRun || st.cpus.some((c) => c.curr === pid)) continue;
            if (on.has('ptrace-get')) out.push({ op: 'ptrace', pid: t.pid, target: pid, how: 'get' });
            if (on.has('ptrace-set')) out.push({ op: 'ptrace', pid: t.pid, target: pid, how: 'set' });
            if (on.has('ptrace-bogus')) for (const bad of BAD_IMAGES) out.push({ op: 'ptrace', pid: t.pid, target: pid, how: 'bogus', bad });
          }
      }
      const inKernel = !user || !t.inUser;
      if (inKernel && on.has('switch')) {
        for (const pid of this.pids) {
          const n = st.tasks.get(pid);
          if (n && n.run === 'runnable' && n.cpu === cpu.id && pid !== cpu.curr) out.push({ op: 'switch', cpu: cpu.id, next: pid });
        }
        if (user) out.push({ op: 'switch', cpu: cpu.id, next: idlePid(cpu.id) });
      }
      // A vCPU thread in KVM_RUN uses kvm_fpu_get/put (fpregs_lock), not kernel_fpu_begin.
      if (on.has('kfpu-task') && user && !t.inUser && !vcpu?.inRun) out.push({ op: 'kfpu', cpu: cpu.id, ctx: 'task' });
      if (on.has('kfpu-softirq')) out.push({ op: 'kfpu', cpu: cpu.id, ctx: 'softirq' });
      if (on.has('kfpu-hardirq')) out.push({ op: 'kfpu', cpu: cpu.id, ctx: 'hardirq' });
      // A hardirq that will arrive inside the next fpregs_lock() region on this CPU.
      if (on.has('irq-in-lock') && !cpu.irqArmed) out.push({ op: 'irq-in-lock', cpu: cpu.id });
    }
    if (on.has('signal'))
      for (const pid of this.pids) {
        const t = st.tasks.get(pid);
        if (t && t.run !== 'zombie' && t.pending.length === 0 && t.frames.length === 0) out.push({ op: 'signal', pid });
      }
    if (on.has('migrate'))
      for (const pid of this.pids) {
        const t = st.tasks.get(pid);
        if (!t || t.run !== 'runnable' || st.cpus[t.cpu].curr === pid) continue;
        for (const cpu of st.cpus) if (cpu.id !== t.cpu) out.push({ op: 'migrate', pid, cpu: cpu.id });
      }
    return out;
  }

  /** Applies a move; returns the first invariant it breaks. */
  move(m: Move): Bad {
    this.violations = [];
    const bad = this.apply1(m);
    if (bad) return bad;
    const v = this.violations[0];
    if (v) return { invariant: v.rule, detail: v.detail };
    const shared = bufferOwnerFault(this.k);
    return shared ? { invariant: 'buffer-owner', detail: shared } : null;
  }

  private apply1(m: Move): Bad {
    const nc = this.nc;
    switch (m.op) {
      case 'write': {
        const tag = this.nextTag(m.pid, m.comp);
        this.apply({ type: 'user-write', pid: m.pid, comp: m.comp, tag });
        this.shadow[this.idx(m.pid) * nc + this.compIndex(m.comp)] = valueToken(this.k, m.comp, tag);
        return null;
      }
      case 'syscall':
        this.apply({ type: 'syscall', pid: m.pid, nr: 39 });
        this.inSys[this.idx(m.pid)] = 1;
        return null;
      case 'return': {
        const i = this.idx(m.pid);
        // ioctl(KVM_RUN) returns: the host's state is installed again (kvm_put_guest_fpu / fpstate swap).
        if (this.k.st.tasks.get(m.pid)?.vcpu?.inRun) this.apply({ type: 'kvm-put', pid: m.pid });
        if (this.inSys[i] === IN_SYSCALL) this.apply({ type: 'sysexit', pid: m.pid, nr: 39, ret: m.pid });
        this.inSys[i] = 0;
        this.returnToUser(m.pid);
        return this.observe(m.pid);
      }
      case 'signal':
        this.apply({ type: 'kill', pid: m.pid, sig: SIGUSR1 });
        return null;
      case 'exec': {
        this.apply({ type: 'exec', pid: m.pid, filename: '/bin/true' });
        // exec drops the AMX permission; the new program asks for it again before it uses AMX.
        if (this.amx) this.apply({ type: 'arch-prctl', pid: m.pid, code: ARCH_REQ_XCOMP_PERM, arg: XFEATURE_XTILEDATA });
        this.shadow.set(this.initTok, this.idx(m.pid) * nc);
        this.mx[2 * this.idx(m.pid)] = MXCSR_INIT; // fpu_flush_thread: init state, MXCSR 0x1f80
        return null;
      }
      case 'sigreturn':
      case 'sigreturn-bad':
      case 'sigreturn-enter': {
        const bad = m.op === 'sigreturn' ? undefined : m.bad;
        // The handler may corrupt its frame first: a reserved XSTATE_BV bit makes XRSTOR #GP.
        if (bad) for (const e of badEdits(bad)) this.apply({ type: 'frame-edit', pid: m.pid, ...e });
        // The handler's rt_sigreturn: the kernel restores the interrupted context from the frame — at
        // once, or (sigreturn-enter) in a move of its own, with preemption possible before and after.
        this.apply({ type: 'syscall', pid: m.pid, nr: NR_RT_SIGRETURN });
        if (m.op === 'sigreturn-enter') {
          this.inSys[this.idx(m.pid)] = bad ? IN_SIGRETURN_BAD : IN_SIGRETURN;
          return null;
        }
        this.sigreturnRestore(m.pid, bad === undefined);
        this.inSys[this.idx(m.pid)] = 0;
        this.returnToUser(m.pid);
        return this.observe(m.pid);
      }
      case 'sigreturn-restore':
        this.sigreturnRestore(m.pid, this.inSys[this.idx(m.pid)] === IN_SIGRETURN);
        this.inSys[this.idx(m.pid)] = IN_SIGRETURN_DONE;
        return null;
      case 'switch':
        this.apply({ type: 'switch', cpu: m.cpu, next: m.next, prevState: 'R' });
        return null;
      case 'kfpu': {
        // An interrupt from user mode runs its softirq/hardirq FPU section, then exits to user mode
        // (irqentry_exit_to_user_mode), where the interrupted task's state must come back.
        const t = this.k.st.tasks.get(this.k.st.cpus[m.cpu].curr);
        const fromUser = t !== undefined && t.kind === 'user' && t.inUser;
        this.apply({ type: 'kfpu', cpu: m.cpu, ctx: m.ctx });
        if (!fromUser) return null;
        this.returnToUser(t.pid);
        return this.observe(t.pid);
      }
      case 'migrate':
        this.apply({ type: 'migrate', pid: m.pid, cpu: m.cpu, on: this.k.st.tasks.get(m.pid)!.cpu });
        return null;
      case 'fork': {
        const slot = this.freeSlot();
        const child = this.pids[slot];
        const p = this.idx(m.pid) * nc;
        this.apply({ type: 'fork', pid: m.pid, child, thread: m.thread, comm: `t${child}` });
        this.alive[slot] = ALIVE;
        // fpu_clone: the child starts with the parent's registers, but not its dynamic (AMX tile) state.
        for (let c = 0; c < nc; c++) this.shadow[slot * nc + c] = this.cfg.comps[c] === XFEATURE_XTILEDATA ? this.initTok[c] : this.shadow[p + c];
        this.inSys[slot] = 1; // it returns from the fork() call
        this.guest.fill(0, slot * nc, slot * nc + nc);
        this.mx[2 * slot] = this.mx[2 * this.idx(m.pid)];
        this.mx[2 * slot + 1] = MXCSR_INIT;
        return null;
      }
      case 'exit': {
        const t = this.k.st.tasks.get(m.pid)!;
        const slot = this.idx(m.pid);
        this.apply({ type: 'exit', pid: m.pid });
        // do_task_dead(): the final switch away; the zombie is released after it.
        this.apply({ type: 'switch', cpu: t.cpu, next: idlePid(t.cpu), prevState: 'X' });
        this.alive[slot] = DEAD;
        this.inSys[slot] = 0;
        this.resetShadow(slot);
        return null;
      }
      case 'ptrace':
        return this.ptrace(m.pid, m.target, m.how, m.bad ?? 'xstate-bv');
      case 'uaccess': {
        const seen = this.apply({ type: 'uaccess', pid: m.pid });
        const want = pkruValue(this.k, this.shadow[this.idx(m.pid) * nc + this.compIndex(PKRU)]);
        if (seen === -1 || seen >>> 0 === want) return null;
        return { invariant: 'pkru', detail: `the kernel accesses t${m.pid}'s user memory with PKRU 0x${(seen >>> 0).toString(16)}, not its PKRU 0x${want.toString(16)}` };
      }
      case 'pasid': {
        const t = this.k.st.tasks.get(m.pid)!;
        const mm = this.k.st.mms.get(t.mm);
        if (!m.change || !mm) this.apply({ type: 'pasid-bind', pid: m.pid });
        else this.apply({ type: 'pasid-change', pid: m.pid, pasid: pasidFor(mm.id, mm.pasid === pasidFor(mm.id, 0) ? 1 : 0) });
        return null;
      }
      case 'irq-in-lock':
        this.apply({ type: 'irq-arm', cpu: m.cpu });
        return null;
      case 'coredump': {
        // The task dumps core from the kernel (its own note, its registers possibly live): every tracked
        // component there must be its current value. (Here the task goes on, to keep exploring.)
        const i = this.idx(m.pid) * nc;
        for (const [ci, comp] of this.cfg.comps.entries()) {
          const seen = this.apply({ type: 'coredump', pid: m.pid, read: comp });
          const want = this.shadow[i + ci];
          if (seen === want || seen === -1 || this.violations.length) continue;
          return this.regsetMismatch(`t${m.pid}'s core dump`, m.pid, comp, seen);
        }
        return null;
      }
      case 'mxcsr': {
        // The task toggles between its own MXCSR and the default one.
        const i = 2 * this.idx(m.pid);
        const value = this.mx[i] === USER_MXCSR ? MXCSR_INIT : USER_MXCSR;
        this.apply({ type: 'user-mxcsr', pid: m.pid, value });
        this.mx[i] = value;
        return null;
      }
      case 'kvm': {
        if (m.what === 'run') this.apply({ type: 'kvm-run', pid: m.pid });
        else if (m.what === 'exit') this.apply({ type: 'vm-exit', pid: m.pid });
        else {
          this.apply({ type: 'vm-entry', pid: m.pid });
          return this.observeGuest(m.pid);
        }
        return null;
      }
      case 'guest-write': {
        const i = this.idx(m.pid) * nc + this.compIndex(m.comp);
        const tag = guestTagOf(m.pid, this.guest[i] === valueToken(this.k, m.comp, guestTagOf(m.pid, 0)) ? 1 : 0);
        this.apply({ type: 'guest-write', pid: m.pid, comp: m.comp, tag });
        this.guest[i] = valueToken(this.k, m.comp, tag);
        return null;
      }
      case 'enqcmd': {
        const t = this.k.st.tasks.get(m.pid)!;
        const want = this.k.st.mms.get(t.mm)?.pasid ?? 0;
        const seen = this.apply({ type: 'enqcmd', pid: m.pid });
        if (want === 0 || seen === want || this.violations.length) return null;
        return { invariant: 'pasid', detail: `ENQCMD by t${m.pid} ${seen === -1 ? 'took #GP and was not fixed up' : `carried PASID ${seen}`}; its mm's PASID is ${want}` };
      }
    }
  }

  /** rt_sigreturn's restore from the frame: the task's values are the interrupted ones again, or init state and SIGSEGV. */
  private sigreturnRestore(pid: number, honest: boolean): void {
    const nc = this.nc;
    const i = this.idx(pid) * nc;
    this.apply({ type: 'sigreturn', pid });
    // A frame that cannot be restored: init state (fpu__clear_user_states), then SIGSEGV's handler.
    this.shadow.set(honest ? this.saved.subarray(i, i + nc) : this.initTok, i);
    this.saved.set(this.initTok, i);
    const j = 2 * this.idx(pid);
    this.mx[j] = honest ? this.mx[j + 1] : MXCSR_INIT;
    this.mx[j + 1] = MXCSR_INIT;
  }

  /** A regset image of task `pid` (`what`) shows `seen` for `comp`, not its current value: someone else's, or stale. */
  private regsetMismatch(what: string, pid: number, comp: number, seen: number): Bad {
    const who = this.owner.get(comp * 1e6 + seen);
    if (who !== undefined && who !== `task t${pid}`) return { invariant: 'confidentiality', detail: `${what} shows component ${comp} = a value written by ${who}` };
    return { invariant: 'ptrace', detail: `${what} shows component ${comp} = ${seen === 0 ? 'init state' : who ? 'an older value of its own' : `token ${seen}`}, not its current value` };
  }

  /** A debugger (the task in a syscall) reads or writes the stopped tracee's FPU regset. */
  private ptrace(pid: number, target: number, how: PtraceHow, bad: BadImage): Bad {
    const nc = this.nc;
    const ti = this.idx(target) * nc;
    if (how === 'get') {
      for (const [ci, comp] of this.cfg.comps.entries()) {
        const seen = this.apply({ type: 'ptrace', pid, target, write: false, read: comp });
        const want = this.shadow[ti + ci];
        if (seen === want) continue;
        if (seen === -1) return { invariant: 'ptrace', detail: `PTRACE_GETREGSET of the stopped t${target} was refused` };
        return this.regsetMismatch(`PTRACE_GETREGSET of t${target}`, target, comp, seen);
      }
      return null;
    }
    if (how === 'set') {
      // The debugger changes the first tracked component PTRACE_SETREGSET can carry.
      const ci = this.cfg.comps.findIndex((c) => c >= 1);
      if (ci < 0) return null;
      const comp = this.cfg.comps[ci];
      const tag = this.nextTag(target, comp);
      const r = this.apply({ type: 'ptrace', pid, target, write: true, set: { comp, tag } });
      if (r !== 0) return { invariant: 'ptrace', detail: `PTRACE_SETREGSET of a valid image for the stopped t${target} was refused` };
      this.shadow[ti + ci] = valueToken(this.k, comp, tag);
      return null;
    }
    // A corrupted image: refused (-EINVAL, the tracee unchanged), or made harmless (older kernels masked
    // MXCSR): what the write leaves in the tracee's buffer must never make the kernel's restore fault.
    const r = this.apply({ type: 'ptrace', pid, target, write: true, edits: badEdits(bad) });
    const fault = r === 0 ? this.restoreFault(target) : null;
    if (fault) return { invariant: 'ptrace', detail: `PTRACE_SETREGSET accepted an image with a bad ${bad.toUpperCase().replace('-', '_')} for t${target}; its buffer now makes ${fault}` };
    return null;
  }

  /** A dry run of the kernel's restore of `pid`'s buffer (on scratch registers and a copy): the fault it raises, or null. */
  private restoreFault(pid: number): string | null {
    const k = this.k;
    const a = cloneArea(k.st.tasks.get(pid)!.fpu.fpstate.area);
    const xs = enabledXState(k.cfg.xcr0, k.cfg.xss, 0);
    const how = k.cfg.restore;
    const f = how === 'XRSTORS' ? xrstors(k.m, xs, a, k.cfg.kernelMaxLo, k.cfg.kernelMaxHi) : how === 'XRSTOR' ? xrstor(k.m, xs, a, k.cfg.kernelMaxLo, k.cfg.kernelMaxHi) : fxrstor(k.m, xs, a);
    return f ? `${how} raise ${f.vector} (${f.reason})` : null;
  }

  /** exit_to_user_mode: a pending signal is delivered there; its handler starts from init state. */
  private returnToUser(pid: number): void {
    const t = this.k.st.tasks.get(pid)!;
    const before = t.frames.length;
    this.apply({ type: 'return', pid });
    if (t.frames.length > before) {
      const i = this.idx(pid) * this.nc;
      this.saved.set(this.shadow.subarray(i, i + this.nc), i);
      this.shadow.set(this.initTok, i); // the handler's registers: init state (fpu__clear_user_states)
      const j = 2 * this.idx(pid);
      this.mx[j + 1] = this.mx[j];
      this.mx[j] = MXCSR_INIT;
    }
  }

  /** At VM entry the guest reads its registers: its own last values, nobody else's. */
  private observeGuest(pid: number): Bad {
    for (const [ci, comp] of this.cfg.comps.entries()) {
      if (!GUEST_COMPS.has(comp)) continue;
      const seen = this.apply({ type: 'guest-read', pid, comp });
      const want = this.guest[this.idx(pid) * this.nc + ci];
      if (seen === want || seen === -1) continue; // a faulting read is the kernel's 'kvm' rule
      const who = this.owner.get(comp * 1e6 + seen);
      if (who !== undefined && who !== `t${pid}'s KVM guest`) return { invariant: 'confidentiality', detail: `t${pid}'s KVM guest enters and reads component ${comp} = a value written by ${who}` };
      return { invariant: 'guest-integrity', detail: `t${pid}'s KVM guest enters and reads component ${comp} = ${who ? 'an older value of its own' : seen === 0 ? 'init state' : `token ${seen}`}, not the value it last wrote` };
    }
    return null;
  }

  /** The task, back in user mode, reads every tracked component: its own last value, nobody else's. */
  private observe(pid: number): Bad {
    return this.observeComps(pid) ?? (this.on.has('mxcsr') ? this.observeMxcsr(pid) : null);
  }

  /** STMXCSR: the MXCSR the task last loaded (the default after exec and at handler entry). */
  private observeMxcsr(pid: number): Bad {
    // An SSE access first, so a lazy policy's #NM brings the task's state in.
    if (this.compIndex(1) < 0) this.apply({ type: 'user-read', pid, comp: 1 });
    const t = this.k.st.tasks.get(pid)!;
    const seen = this.k.st.cpus[t.cpu].xs.mxcsr;
    const want = this.mx[2 * this.idx(pid)];
    if (seen === want) return null;
    return { invariant: 'integrity', detail: `t${pid} returned to user mode and reads MXCSR 0x${seen.toString(16)}, not 0x${want.toString(16)} (${want === MXCSR_INIT ? 'the default, which it should have' : 'the value it last loaded'})` };
  }

  private observeComps(pid: number): Bad {
    for (const [ci, comp] of this.cfg.comps.entries()) {
      const seen = this.apply({ type: 'user-read', pid, comp });
      const want = this.shadow[this.idx(pid) * this.nc + ci];
      if (seen === want) continue;
      const who = this.owner.get(comp * 1e6 + seen);
      const mine = who === `task t${pid}`;
      const what = `component ${comp}${comp === PKRU && seen >= 0 ? ` (PKRU 0x${pkruValue(this.k, seen).toString(16)})` : ''}`;
      if (who !== undefined && !mine) return { invariant: 'confidentiality', detail: `t${pid} returned to user mode and reads ${what} = a value written by ${who}, not its own` };
      if (comp === PKRU && seen >= 0)
        return { invariant: 'integrity', detail: `t${pid} returned to user mode and reads PKRU 0x${pkruValue(this.k, seen).toString(16)}, not 0x${pkruValue(this.k, want).toString(16)} (${want === this.initTok[ci] ? 'init_pkru_value, a new program’s or a handler’s' : 'the value it last wrote'})` };
      const should = want === this.initTok[ci] ? 'init state, which it should see' : 'the value it last wrote';
      return { invariant: 'integrity', detail: `t${pid} returned to user mode and reads ${what} = ${mine ? 'an older value of its own' : seen === this.initTok[ci] ? 'init state' : `a value nobody wrote (token ${seen})`}, not ${should}` };
    }
    return null;
  }

  /**
   * The oracle's view of task slot `i` (read-only; valid until the next move): what it last wrote to
   * each tracked component, the interrupted values while a handler runs, whether it is in a syscall.
   */
  oracleOf(i: number): { shadow: ArrayLike<number>; saved: ArrayLike<number>; inSys: boolean } {
    const n = this.nc;
    return { shadow: this.shadow.subarray(i * n, i * n + n), saved: this.saved.subarray(i * n, i * n + n), inSys: this.inSys[i] === 1 };
  }

  /** Stored states and the set of states visited (see `visit`). */
  private readonly store = new StateStore();
  /** The oracle's arrays, as `visit` records them beside the kernel state. */
  private get extra(): readonly (Int32Array | Uint8Array)[] {
    return (this.extraArrays ??= [this.shadow, this.saved, this.inSys, this.alive, this.guest, this.mx]);
  }
  private extraArrays: readonly (Int32Array | Uint8Array)[] | null = null;

  /**
   * The current state as a node. The node takes the state over and stores it (its area bytes become
   * shared images, never written again): call `restore` or `view` before the next move.
   */
  snapshot(parent: Node | null, move: Move | null, depth: number): Node {
    this.store.freeze(this.k.st);
    const { shadow, saved, guest, inSys, alive, mx } = this;
    const a = shadow.length;
    const oracle = new Int32Array(3 * a + 2 * inSys.length + mx.length);
    oracle.set(shadow, 0);
    oracle.set(saved, a);
    oracle.set(guest, 2 * a);
    let o = 3 * a;
    for (let i = 0; i < inSys.length; i++) oracle[o++] = inSys[i];
    for (let i = 0; i < alive.length; i++) oracle[o++] = alive[i];
    oracle.set(mx, o);
    return { st: this.k.st, oracle, parent, move, depth };
  }

  /** The explorer's oracle arrays := `n`'s. */
  private unpack(n: Node): void {
    const { shadow, saved, guest, inSys, alive, mx } = this;
    const src = n.oracle;
    const a = shadow.length;
    for (let i = 0; i < a; i++) {
      shadow[i] = src[i];
      saved[i] = src[a + i];
      guest[i] = src[2 * a + i];
    }
    let o = 3 * a;
    for (let i = 0; i < inSys.length; i++) inSys[i] = src[o++];
    for (let i = 0; i < alive.length; i++) alive[i] = src[o++];
    for (let i = 0; i < mx.length; i++) mx[i] = src[o++];
  }

  /** Makes `n`'s state current as a working copy; with `last` (no further move from `n`) the node lets its state go. */
  restore(n: Node, last = false): void {
    if (!n.st) throw new Error('explorer: node state already consumed');
    this.k.st = this.store.thaw(n.st);
    if (last) n.st = null;
    this.unpack(n);
  }

  /** Makes `n`'s stored state current to be looked at (`enabled`), not moved from: `restore` before a move. */
  view(n: Node): void {
    if (!n.st) throw new Error('explorer: node state already consumed');
    this.k.st = n.st;
    this.unpack(n);
  }

  /** Records the current state and oracle; true when it was not visited before (exact: no hashing collisions). */
  visit(): boolean {
    return this.store.visit(this.k.st, this.extra);
  }

  /** Distinct states `visit` has recorded. */
  get visited(): number {
    return this.store.size;
  }

  /** Bytes of distinct XSAVE area images stored. */
  get imageBytes(): number {
    return this.store.imageBytes;
  }

  /** A string naming the current state and oracle: a 64-bit digest of the kernel state, the oracle exactly (same in every worker thread). */
  key(): string {
    return `${this.store.digest(this.k.st)}|${this.shadow.join(',')}|${this.saved.join(',')}|${this.inSys.join('')}${this.alive.join('')}|${this.guest.join(',')}|${this.mx.join(',')}`;
  }
}

function pathOf(n: Node, last: Move): Move[] {
  const out: Move[] = [last];
  for (let p: Node | null = n; p && p.move; p = p.parent) out.push(p.move);
  return out.reverse();
}

/** Breadth-first exploration; stops at the first violation (a shortest counterexample) or the bounds. */
export function explore(profile: CpuProfile, target: Target, cfg: CheckConfig, now: () => number = () => 0, onProgress?: (depth: number, states: number) => void): CheckResult {
  const t0 = now();
  const policy = target.policy;
  const x = new Explorer(profile, target, cfg);
  x.visit();
  const root = x.snapshot(null, null, 0);
  let frontier: Node[] = [root];
  let transitions = 0;
  let depthReached = 0;
  for (let d = 0; d < cfg.depth && frontier.length > 0; d++) {
    const next: Node[] = [];
    for (const n of frontier) {
      x.view(n);
      const moves = x.enabled();
      for (const [i, m] of moves.entries()) {
        // Each move runs on a working copy; the last one lets the node's stored state go.
        x.restore(n, i === moves.length - 1);
        transitions++;
        if (onProgress && (transitions & 4095) === 0) onProgress(d, x.visited);
        const bad = x.move(m);
        if (bad) {
          return { policy: policy.name, config: cfg, states: x.visited, transitions, depthReached: d, exhaustive: false, finding: { ...bad, path: pathOf(n, m) }, seconds: (now() - t0) / 1000 };
        }
        if (!x.visit()) continue;
        if (x.visited >= cfg.maxStates) return { policy: policy.name, config: cfg, states: x.visited, transitions, depthReached: d, exhaustive: false, stoppedBy: 'states', seconds: (now() - t0) / 1000 };
        if (x.imageBytes > MAX_IMAGE_BYTES) return { policy: policy.name, config: cfg, states: x.visited, transitions, depthReached: d, exhaustive: false, stoppedBy: 'memory', seconds: (now() - t0) / 1000 };
        next.push(x.snapshot(n, m, d + 1));
      }
    }
    frontier = next;
    depthReached = d + 1;
  }
  return { policy: policy.name, config: cfg, states: x.visited, transitions, depthReached, exhaustive: true, seconds: (now() - t0) / 1000 };
}

/** Replays a path from the initial state; returns the violation it reaches (if any) and each move's outcome. */
export interface ReplayedMove {
  move: Move;
  trace: TraceEvent[];
}

export function replayPath(
  profile: CpuProfile,
  target: Target,
  cfg: CheckConfig,
  path: readonly Move[],
): { finding: { invariant: string; detail: string; at: number } | null; steps: ReplayedMove[] } {
  const x = new Explorer(profile, target, cfg);
  const steps: ReplayedMove[] = [];
  for (const [i, m] of path.entries()) {
    x.traceOut = [];
    const bad = x.move(m);
    steps.push({ move: m, trace: x.traceOut });
    if (bad) return { finding: { ...bad, at: i }, steps };
  }
  return { finding: null, steps };
}
