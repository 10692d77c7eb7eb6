/**
 * Dynamically enabled features (AMX TILEDATA, Linux 5.16+; arch/x86/kernel/fpu/xstate.c): per-process
 * permission (arch_prctl ARCH_REQ_XCOMP_PERM and its guest variant, kept in the group leader,
 * inherited at fork, reset at exec, refused when an installed sigaltstack is too small), XFD armed in
 * every task's fpstate until the task has a buffer large enough, the first use taking #NM with
 * IA32_XFD_ERR, and fpstate_realloc() growing the buffer in preemptible context.
 */
import { charge } from '../meter.js';
import { compactedSize, standardSize } from '../../arch/layout.js';
import type { Kernel } from '../kernel.js';
import { violation } from '../kernel.js';
import { Cpu, FpState, Task, TIF_NEED_FPU_LOAD } from '../state.js';
import { newFpstate } from '../task.js';
import { fpregsLock, fpregsUnlock, sendSignal } from '../signal.js';
import { initFpstateImage, xfdUpdateState } from './core.js';
import { minSigaltstackForPermission } from './sigframe.js';
import { toBig } from '../../arch/mask.js';

export const ARCH_GET_XCOMP_SUPP = 0x1021;
export const ARCH_GET_XCOMP_PERM = 0x1022;
export const ARCH_REQ_XCOMP_PERM = 0x1023;
export const ARCH_GET_XCOMP_GUEST_PERM = 0x1024;
export const ARCH_REQ_XCOMP_GUEST_PERM = 0x1025;
export const XFEATURE_XTILEDATA = 18;
export const EINVAL = -22;
export const ENOSPC = -28;
export const ENOMEM = -12;
export const EBUSY = -16;
export const SIGILL = 4;

/** The group leader holds the process's permissions (fpu->perm / guest_perm). */
export function groupLeader(k: Kernel, t: Task): Task {
  return k.st.tasks.get(t.tgid) ?? t;
}

function permitted(k: Kernel, t: Task, guest: boolean): number {
  const l = groupLeader(k, t).fpu;
  return guest ? l.guestPermLo : l.permLo;
}

/** Whether `t`'s process may use TILEDATA. */
export function amxPermitted(k: Kernel, t: Task): boolean {
  return (permitted(k, t, false) & (1 << XFEATURE_XTILEDATA)) !== 0;
}

/** validate_sigaltstack(): no thread of the group may have an installed stack too small for `perm`. */
function sigaltstacksFit(k: Kernel, t: Task, permLo: number): boolean {
  const need = minSigaltstackForPermission(k.m.profile, k.cfg.version, toBig(permLo & k.cfg.userMaxLo, 0));
  if (need === null) return true;
  for (const o of k.st.tasks.values()) if (o.tgid === t.tgid && o.altstackSize > 0 && o.altstackSize < need) return false;
  return true;
}

/**
 * arch_prctl(code, arg) of the FPU permission interface; returns the value or a negative errno. The
 * masks fit in 32 bits on every CPU the model knows (highest feature: APX, 19).
 */
export function archPrctl(k: Kernel, t: Task, code: number, arg: number): number {
  const c = k.cfg;
  const supported = c.userMaxLo;
  switch (code) {
    case ARCH_GET_XCOMP_SUPP:
      return supported;
    case ARCH_GET_XCOMP_PERM:
      return permitted(k, t, false) & supported;
    case ARCH_GET_XCOMP_GUEST_PERM:
      return permitted(k, t, true) & supported;
    case ARCH_REQ_XCOMP_PERM:
    case ARCH_REQ_XCOMP_GUEST_PERM: {
      const guest = code === ARCH_REQ_XCOMP_GUEST_PERM;
      // Only a dynamic feature can be requested; the default features are always permitted.
      if (arg < 0 || arg > 31 || ((supported >>> arg) & 1) === 0) return EINVAL;
      const req = 1 << arg;
      const l = groupLeader(k, t).fpu;
      const cur = guest ? l.guestPermLo : l.permLo;
      if ((cur & req) !== 0) return 0;
      if ((c.dynamicLo & req) === 0) return 0; // not dynamic: permitted by default
      if (guest && (l.guestPermHi & 0x8000_0000) !== 0) return EBUSY; // FPU_GUEST_PERM_LOCKED once a vCPU exists
      // AMX TILEDATA comes with TILECFG (both are XFEATURE_MASK_XTILE).
      const next = (cur | req | (arg === XFEATURE_XTILEDATA ? 1 << 17 : 0)) >>> 0;
      if (!guest && !sigaltstacksFit(k, t, next)) return ENOSPC;
      if (guest) l.guestPermLo = next;
      else l.permLo = next;
      return 0;
    }
    default:
      return EINVAL;
  }
}

/**
 * sigaltstack(): with dynamic features permitted, a stack smaller than the signal frame the process
 * may need is refused (-ENOMEM, 5.16 "Prevent sigaltstack out of bounds").
 */
export function sigaltstack(k: Kernel, t: Task, size: number): number {
  if (size > 0) {
    const perm = permitted(k, t, false);
    const need = minSigaltstackForPermission(k.m.profile, k.cfg.version, toBig(perm & k.cfg.userMaxLo, 0));
    if (need !== null && (perm & k.cfg.dynamicLo) !== 0 && size < need) return ENOMEM;
  }
  t.altstackSize = Math.max(0, size);
  return 0;
}

/** Allocation accounting shared by every buffer design. */
export function accountAlloc(k: Kernel, bytes: number): void {
  const c = k.st.counters;
  c.allocations++;
  c.xstateBytes += bytes;
  c.xstateBytesAllocated += bytes;
  if (c.xstateBytes > c.xstateBytesPeak) c.xstateBytesPeak = c.xstateBytes;
}

export function accountFree(k: Kernel, bytes: number): void {
  k.st.counters.frees++;
  k.st.counters.xstateBytes -= bytes;
}

/** The rules of a sleeping allocation: not with preemption or bottom halves disabled, not in interrupts. */
function checkMaySleep(k: Kernel, cpu: Cpu, t: Task, what: string): void {
  if (cpu.preempt > 0 || cpu.fpregsLocked || cpu.softirq > 0 || cpu.hardirq > 0 || cpu.inKernelFpu) {
    violation(k, 'sleep-in-atomic', `${what} may sleep but runs in atomic context (preempt ${cpu.preempt}, softirq ${cpu.softirq}, hardirq ${cpu.hardirq}, fpregs_lock ${cpu.fpregsLocked})`, cpu.id, t.pid);
  }
}

/** A dynamic buffer of `size` bytes for `t`: the buffer design's allocation, or a plain vzalloc. */
function allocateBuffer(k: Kernel, cpu: Cpu, t: Task, size: number): FpState {
  checkMaySleep(k, cpu, t, 'vzalloc of an XSAVE buffer');
  if (k.designs.xbuf) return k.designs.xbuf.allocate(k, cpu, t, size);
  accountAlloc(k, size);
  charge(k, cpu, 'vzalloc', size);
  return newFpstate(k, size, true);
}

/** Free a dynamic buffer; freeing the embedded default buffer is a bug the model reports. */
export function freeBuffer(k: Kernel, cpu: Cpu, t: Task, fps: FpState): void {
  if (fps === t.fpu.embedded || !fps.isValloc) {
    violation(k, 'free-embedded', `free of ${t.comm}-${t.pid}'s embedded default fpstate`, cpu.id, t.pid);
    return;
  }
  if (k.designs.xbuf) k.designs.xbuf.free(k, cpu, fps);
  else {
    accountFree(k, fps.size);
    charge(k, cpu, 'vfree', fps.size);
  }
}

/**
 * fpstate_realloc(): a larger buffer for `t` with `xfeatures` added. The allocation may sleep and
 * happens first, in preemptible context; then, under fpregs_lock, the registers are made current's if
 * they are not (the old buffer's content moves through them), the new fpstate is installed with those
 * features disarmed in XFD, and the old buffer is freed if it was itself allocated (never the
 * embedded one). The buffer never shrinks.
 */
export function fpstateRealloc(k: Kernel, cpu: Cpu, t: Task, xfeaturesLo: number): void {
  const fpu = t.fpu;
  const cur = fpu.fpstate;
  const lo = (cur.xfeaturesLo | xfeaturesLo) >>> 0;
  const hi = cur.xfeaturesHi;
  const ksize = k.cfg.compacted ? compactedSize(k.m.profile, lo, hi) : standardSize(k.m.profile, lo, hi);
  if (ksize <= cur.size && (cur.xfeaturesLo & xfeaturesLo) === xfeaturesLo) return;
  const nfs = allocateBuffer(k, cpu, t, Math.max(ksize, cur.size));
  fpregsLock(cpu);
  if (t.tif & TIF_NEED_FPU_LOAD && cpu.curr === t.pid) k.policy.makeRegistersValid(k, cpu, t);
  nfs.xfeaturesLo = lo;
  nfs.xfeaturesHi = hi;
  nfs.userXfeaturesLo = (cur.userXfeaturesLo | (xfeaturesLo & k.cfg.userMaxLo)) >>> 0;
  nfs.userXfeaturesHi = cur.userXfeaturesHi;
  nfs.userSize = standardSize(k.m.profile, nfs.userXfeaturesLo, nfs.userXfeaturesHi);
  nfs.xfdLo = (cur.xfdLo & ~xfeaturesLo) >>> 0;
  nfs.xfdHi = cur.xfdHi;
  initFpstateImage(k, nfs); // xstate_init_xcomp_bv for the new feature set
  fpu.fpstate = nfs;
  if (cpu.curr === t.pid) xfdUpdateState(k, cpu, nfs);
  // The registers hold the state now; the new buffer's image is not current yet.
  fpu.lastCpu = cpu.curr === t.pid && (t.tif & TIF_NEED_FPU_LOAD) === 0 ? cpu.id : -1;
  fpregsUnlock(cpu);
  if (cur.isValloc) freeBuffer(k, cpu, t, cur);
}

/**
 * handle_xfd_event(): #NM with IA32_XFD_ERR set. The handler reads and clears XFD_ERR; without
 * permission the task gets SIGILL; otherwise the buffer grows (interrupts enabled again first:
 * cond_local_irq_enable) and the instruction is retried. Returns true when it may be retried.
 */
export function handleXfdEvent(k: Kernel, cpu: Cpu, t: Task): boolean {
  const err = cpu.xs.xfdErrLo;
  cpu.xs.xfdErrLo = 0;
  cpu.xs.xfdErrHi = 0;
  k.st.counters.msrWrites++; // wrmsrl(MSR_IA32_XFD_ERR, 0)
  charge(k, cpu, 'wrmsr-xfd');
  if (err === 0) return false;
  if ((permitted(k, t, false) & err) !== err) {
    sendSignal(t, SIGILL);
    return false;
  }
  fpstateRealloc(k, cpu, t, err);
  return true;
}
