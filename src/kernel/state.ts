/**
 * The kernel model's whole state as plain data: CPUs (with their XSAVE register files), tasks (with
 * their FPU context: struct fpu / struct fpstate and its XSAVE buffer), counters and the clock.
 * Everything the step function reads or writes lives here, so a state can be cloned, hashed
 * canonically and serialized (see snapshot.ts); the CPU profile and the token pool are the
 * environment (`Kernel`, kernel.ts), shared by all states of one run.
 */
import { XsaveArea } from '../arch/xsave/area.js';
import { XState } from '../arch/xsave/state.js';

/** PF_KTHREAD / PF_USER_WORKER / the per-CPU idle task / an ordinary user thread. */
export type TaskKind = 'user' | 'kthread' | 'user-worker' | 'idle';

/** Scheduler state (TASK_RUNNING on a CPU or queued, sleeping, ptrace-stopped, exited). */
export type RunState = 'running' | 'runnable' | 'sleeping' | 'stopped' | 'zombie';

/** Thread flags (arch/x86/include/asm/thread_info.h). */
export const TIF_NEED_FPU_LOAD = 1;
export const TIF_NEED_RESCHED = 2;
export const TIF_SIGPENDING = 4;

/** struct fpstate: one XSAVE buffer and what it holds (5.16+; earlier kernels had one fixed buffer). */
export interface FpState {
  /** Allocation id (what a pointer would be); the embedded default buffer has the task's own id. */
  id: number;
  area: XsaveArea;
  /** Kernel buffer size and the UABI (standard format) size. */
  size: number;
  userSize: number;
  /** XSAVE(S)/XRSTOR(S) feature mask for this buffer (kernel view, lo/hi halves). */
  xfeaturesLo: number;
  xfeaturesHi: number;
  /** user_xfeatures: what signal frames and ptrace expose. */
  userXfeaturesLo: number;
  userXfeaturesHi: number;
  /** The IA32_XFD value this context runs with. */
  xfdLo: number;
  xfdHi: number;
  /** vzalloc'ed (must be vfreed) rather than the embedded __fpstate. */
  isValloc: boolean;
  isGuest: boolean;
}

/** struct fpu plus the era-specific fields older policies need. */
export interface Fpu {
  /** Stable identity of the struct fpu (what %p prints, before hashing). */
  id: number;
  /** The CPU whose registers last held this context, -1 for none (fpregs_state_valid). */
  lastCpu: number;
  fpstate: FpState;
  /** The embedded default buffer (__fpstate). */
  embedded: FpState;
  /** KVM: the task's own fpstate while a guest fpstate is installed. */
  taskFpstate: FpState | null;
  /** Permitted features (group leader's copy is authoritative) and the guest permission. */
  permLo: number;
  permHi: number;
  guestPermLo: number;
  guestPermHi: number;
  /** Pre-4.9 lazy era: fpstate_active (used math), fpregs_active (registers live), counter (u8). */
  fpstateActive: boolean;
  fpregsActive: boolean;
  counter: number;
}

export interface Task {
  pid: number;
  tgid: number;
  comm: string;
  kind: TaskKind;
  run: RunState;
  /** CPU the task runs on, or last ran on / is queued on. */
  cpu: number;
  /** True while it executes user code (not in the kernel). */
  inUser: boolean;
  /** Thread flags (TIF_*). */
  tif: number;
  fpu: Fpu;
  /** thread.pkru: the PKRU of a task that is not running (5.14+). */
  pkru: number;
  /** Address-space identity (threads share it). */
  mm: number;
  parent: number;
  /** Remaining time slice (ns) and accumulated run time, for the scheduler. */
  slice: number;
  runtime: number;
  /** Pending signal numbers, and the stack of live signal frames (user memory the handler may edit). */
  pending: number[];
  frames: SignalFrame[];
  /** Traced and stopped (ptrace). */
  traced: boolean;
  /** Number of consecutive kernel FPU sections or other per-task counters policies keep. */
  nmCount: number;
  /** The installed sigaltstack's size (sas_ss_size), 0 for none. */
  altstackSize: number;
  /** PASID: this thread's IA32_PASID was loaded by the #GP fix-up (task->pasid_activated). */
  pasidActivated: boolean;
  /** A KVM vCPU thread: its guest fpstate and whether it is inside KVM_RUN (guest state installed). */
  vcpu: { fpstate: FpState; inRun: boolean; inGuest: boolean; loaded: boolean } | null;
  /** XSAVE*s into and XRSTOR*s from this task's buffer, and its switch-outs (for reports). */
  saves: number;
  restores: number;
  switches: number;
}

/**
 * A signal frame the kernel wrote to the user stack: its FPU part as real bytes (the standard-format
 * XSAVE image with _fpx_sw_bytes in the legacy area's software-reserved bytes, then FP_XSTATE_MAGIC2),
 * at buf_fx (64-byte aligned). The handler may edit it before sigreturn (see signal.ts).
 */
export interface SignalFrame {
  sig: number;
  area: XsaveArea;
}

export interface Cpu {
  id: number;
  /** pid of the task running on it. */
  curr: number;
  /** pid of its idle task (swapper/N). */
  idle: number;
  /** fpu_fpregs_owner_ctx: the struct fpu id whose state the registers hold, 0 for none. */
  owner: number;
  /** The architectural XSAVE register file. */
  xs: XState;
  /** per-CPU in_kernel_fpu. */
  inKernelFpu: boolean;
  /** softirq_count() and hardirq nesting, preempt_count() for the context rules. */
  softirq: number;
  hardirq: number;
  preempt: number;
  /** Per-CPU xfd_state cache of IA32_XFD. */
  xfdCacheLo: number;
  xfdCacheHi: number;
  /** The PKRU register (WRPKRU/RDPKRU). */
  pkru: number;
  /** Pre-5.2 lazy era: CR0.TS mirror (fpu_active in the 2016 RFC). */
  fpuActive: boolean;
  /** switch_fpu_prepare's decision handed to switch_fpu_finish (lazy era "preload"). */
  preload: boolean;
  /** fpregs_lock() held (local_bh_disable on !PREEMPT_RT). */
  fpregsLocked: boolean;
  /**
   * An interrupt is due at the next point where the kernel moves this CPU's FPU registers with IRQs on
   * (kfpu.ts irqWindow): the checker's way to interrupt a step in the middle (catalogue C2).
   */
  irqArmed: boolean;
  /** Local interrupts disabled (arch_exit_to_user_mode_prepare runs so; VM entry too): no interrupt arrives. */
  irqsOff: boolean;
  /** Run queue (pids), in order. */
  rq: number[];
  /** The mm whose page tables are loaded (switch_mm; kernel threads borrow the previous one), 0 for init_mm. */
  mm: number;
}

export interface XbufState {
  /** Per-CPU contiguous buffers (percpu-bounce) or windows (kmap-window), by CPU. */
  percpu: XsaveArea[];
  /** Free dynamic buffers kept for reuse (vmalloc-cache). */
  cache: FpState[];
  /** vmap areas freed but not yet purged (pages, vmalloc's lazy purge). */
  lazyFreedPages: number;
}

/** An address space (struct mm_struct): what PASID and the TLB code need of it. */
export interface MmState {
  id: number;
  /** mm->pasid (the IOMMU PASID bound to it), 0 for none. */
  pasid: number;
  /** mm_cpumask: CPUs that have had this mm loaded (a superset of where its threads run). */
  cpumask: number[];
  /** Threads using it. */
  users: number;
}

/** Event counters for reports (`totals` in the simulate JSON). */
export interface Counters {
  contextSwitches: number;
  saves: number;
  restores: number;
  restoresSkipped: number;
  nmTraps: number;
  bytesSaved: number;
  bytesRestored: number;
  signals: number;
  sigreturns: number;
  forks: number;
  execs: number;
  exits: number;
  kernelFpuSections: number;
  migrations: number;
  syscalls: number;
  pageFaults: number;
  /** Successful PTRACE_GETREGSET/SETREGSET of FPU regsets. */
  ptraceAccesses: number;
  /** Inter-processor interrupts sent, INVLPGs, page-table entries written (buffer designs, TLB flushes, PASID). */
  ipis: number;
  invlpgs: number;
  pageTableUpdates: number;
  /** Bytes memcpy'd by buffer designs (bounce copies, realloc copies). */
  bytesCopied: number;
  /** XSAVE buffer memory: currently allocated, the peak, and everything ever allocated. */
  xstateBytes: number;
  xstateBytesPeak: number;
  xstateBytesAllocated: number;
  allocations: number;
  frees: number;
  /** XSAVEOPT/XSAVES saves that the modified optimization could skip (tracking tuple matched). */
  modifiedOptHits: number;
  /** WRMSRs (XFD, PASID), #GP traps taken, WRPKRUs. */
  msrWrites: number;
  gpTraps: number;
  pkruWrites: number;
  /** Cache lines the kernel dirtied for PASID and similar per-mm state updates. */
  cacheLinesDirtied: number;
}

export function newCounters(): Counters {
  return {
    contextSwitches: 0,
    saves: 0,
    restores: 0,
    restoresSkipped: 0,
    nmTraps: 0,
    bytesSaved: 0,
    bytesRestored: 0,
    signals: 0,
    sigreturns: 0,
    forks: 0,
    execs: 0,
    exits: 0,
    kernelFpuSections: 0,
    migrations: 0,
    syscalls: 0,
    pageFaults: 0,
    ptraceAccesses: 0,
    ipis: 0,
    invlpgs: 0,
    pageTableUpdates: 0,
    bytesCopied: 0,
    xstateBytes: 0,
    xstateBytesPeak: 0,
    xstateBytesAllocated: 0,
    allocations: 0,
    frees: 0,
    modifiedOptHits: 0,
    msrWrites: 0,
    gpTraps: 0,
    pkruWrites: 0,
    cacheLinesDirtied: 0,
  };
}

export interface KState {
  /** Model time, ns. */
  now: number;
  cpus: Cpu[];
  /** Tasks by pid (dead tasks are removed). */
  tasks: Map<number, Task>;
  nextPid: number;
  /** Next struct fpu / fpstate id. */
  nextId: number;
  /** Next linear address for a kernel buffer (each buffer gets its own, 64-byte aligned). */
  nextAddr: number;
  counters: Counters;
  /** Address spaces by id. */
  mms: Map<number, MmState>;
  /** State of the buffer design (see src/policies/xbuf): per-CPU bounce areas, a size-class cache, vmap lazy-purge backlog. */
  xbuf: XbufState;
  /**
   * Bytes in the BLAKE2s buffer of random.c's input pool (0..64). add_device_randomness() appends to it
   * (fork: 8 bytes, release_task: 16); a compression, which on x86 runs in kernel_fpu_begin(), happens
   * when the buffer is full and more input arrives.
   */
  entropyBuf: number;
}
