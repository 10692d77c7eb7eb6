/**
 * Signal delivery and sigreturn, FPU part (arch/x86/kernel/fpu/signal.c, 6.x): the frame is real
 * bytes in the task's (modeled) user memory — the standard-format XSAVE image of the live registers,
 * `_fpx_sw_bytes` in the legacy area's software-reserved bytes (magic1 0x46505853, extended_size,
 * xfeatures, xstate_size) and FP_XSTATE_MAGIC2 0x46505845 right after the image. sigreturn validates
 * what the handler left there; a frame that cannot be restored gives the task init FPU state and
 * SIGSEGV, and never touches another task's state or the kernel's.
 */
import { createArea, readU32, writeU32, XSTATE_BV } from '../arch/xsave/area.js';
import { fxrstor, xrstor, xrstors, xsave } from '../arch/xsave/instructions.js';
import { Outcome } from '../arch/xsave/fault.js';
import type { Kernel } from './kernel.js';
import { emit } from './kernel.js';
import { cpuInvalidateFpregsState, fpregsStateValid, traceFpu, xfdUpdateState, xrstorSupervisor } from './fpu/core.js';
import { Cpu, SignalFrame, Task, TIF_NEED_FPU_LOAD } from './state.js';
import { hasPkru, pkruWriteDefault, rdpkru, wrpkru } from './pkru.js';
import { atLeast } from './fpu/kernel-version.js';

export const FP_XSTATE_MAGIC1 = 0x46505853;
export const FP_XSTATE_MAGIC2 = 0x46505845;
/** struct _fpx_sw_bytes lives in fxregs_state.sw_reserved, bytes 464..511 of the legacy area. */
export const SW_BYTES = 464;
/** XFEATURE_MASK_USER_RESTORE: user features but PKRU (restored separately). */
const USER_RESTORE_LO = ~(1 << 9) >>> 0;
export const SIGSEGV = 11;

/** Where the next frame goes: a per-task user stack region, 64-byte aligned, never a kernel address. */
function frameAddress(t: Task): number {
  return 0x7ff0_0000 - (t.frames.length + 1) * 0x4000 - (t.pid % 64) * 64;
}

/** fpregs_lock(): local_bh_disable() on !PREEMPT_RT. */
export function fpregsLock(cpu: Cpu): void {
  cpu.fpregsLocked = true;
  cpu.softirq++;
}

export function fpregsUnlock(cpu: Cpu): void {
  cpu.fpregsLocked = false;
  cpu.softirq--;
}

/**
 * fpu__clear_user_states(): current's supervisor states are loaded if the registers are not its own,
 * the user registers get their init values (XRSTOR from init_fpstate for the user features but PKRU),
 * PKRU its default, and the registers are marked current's.
 */
export function clearUserStates(k: Kernel, cpu: Cpu, t: Task): void {
  fpregsLock(cpu);
  if (!fpregsStateValid(cpu, t.fpu)) xrstorSupervisor(k, cpu, t.fpu.fpstate);
  const xs = cpu.xs;
  const cpl = xs.cpl;
  xs.cpl = 0;
  xfdUpdateState(k, cpu, t.fpu.fpstate);
  const lo = (k.cfg.userMaxLo & USER_RESTORE_LO & k.initFpstate.xfeaturesLo) >>> 0;
  const hi = (k.cfg.userMaxHi & k.initFpstate.xfeaturesHi) >>> 0;
  if (k.cfg.restore === 'XRSTORS') xrstors(k.m, xs, k.initFpstate.area, lo, hi);
  else if (k.cfg.restore === 'XRSTOR') xrstor(k.m, xs, k.initFpstate.area, lo, hi);
  else fxrstor(k.m, xs, k.initFpstate.area);
  xs.cpl = cpl;
  pkruWriteDefault(k, cpu); // init_pkru_value: only key 0 accessible
  k.policy.markActivated(k, cpu, t);
  fpregsUnlock(cpu);
}

/**
 * Queue signal `sig` for `t` (__send_signal_locked): a standard signal already pending is not queued
 * again (legacy_queue()), so two #GPs before the task returns to user mode make one SIGSEGV.
 */
export function sendSignal(t: Task, sig: number): void {
  if (sig < 32 && t.pending.includes(sig)) return;
  t.pending.push(sig);
}

/**
 * Signal delivery (signal_deliver, then copy_fpstate_to_sigframe and fpu__clear_user_states): the
 * live registers are XSAVEd into a new frame on the user stack; the handler starts with init state.
 */
export function deliverSignal(k: Kernel, cpu: Cpu, t: Task, sig: number): void {
  if (k.out) emit(k, cpu, 'signal_deliver', `sig=${sig} errno=0 code=0 sa_handler=0 sa_flags=4000000`, 'd..1.');
  k.st.counters.signals++;
  const fps = t.fpu.fpstate;
  const size = fps.userSize + 4;
  const area = createArea(frameAddress(t), size);
  // copy_fpstate_to_sigframe: registers live first (fpregs_lock; if TIF_NEED_FPU_LOAD, restore).
  fpregsLock(cpu);
  k.policy.makeRegistersValid(k, cpu, t); // fpregs_restore_userregs when TIF_NEED_FPU_LOAD (or the era's equivalent)
  // 6.12+ sig_prepare_pkru(): every key enabled while the frame is written (a pkey-protected stack).
  const pk = k.designs.pkru;
  const withPkru = pk?.sigframePkru !== undefined && hasPkru(k) && k.cfg.useXsave;
  const origPkru = withPkru ? rdpkru(k, cpu) : 0;
  if (withPkru) wrpkru(k, cpu, 0);
  const xs = cpu.xs;
  const cpl = xs.cpl;
  xs.cpl = 0;
  // xsave_to_user_sigframe: the header is cleared, then XSAVE with the task's user features.
  const f = k.cfg.useXsave ? xsave(k.m, xs, area, fps.userXfeaturesLo, fps.userXfeaturesHi) : null;
  xs.cpl = cpl;
  if (withPkru && !f) pk!.sigframePkru!(k, t, area, origPkru);
  if (withPkru && f) wrpkru(k, cpu, origPkru); // the failed setup puts the task's PKRU back
  fpregsUnlock(cpu);
  if (f) {
    // A frame the kernel cannot write: signal setup fails and the task gets SIGSEGV (force_sigsegv).
    sendSignal(t, SIGSEGV);
    return;
  }
  const b = area.bytes;
  if (k.cfg.useXsave) {
    // save_xstate_epilog: sw_bytes, MAGIC2, and FP|SSE always marked present in the header.
    writeU32(b, SW_BYTES, FP_XSTATE_MAGIC1);
    writeU32(b, SW_BYTES + 4, size);
    writeU32(b, SW_BYTES + 8, fps.userXfeaturesLo);
    writeU32(b, SW_BYTES + 12, fps.userXfeaturesHi);
    writeU32(b, SW_BYTES + 16, fps.userSize);
    writeU32(b, fps.userSize, FP_XSTATE_MAGIC2);
    writeU32(b, XSTATE_BV, readU32(b, XSTATE_BV) | 3);
  }
  const frame: SignalFrame = { sig, area };
  t.frames.push(frame);
  clearUserStates(k, cpu, t);
}

/** What check_xstate_in_sigframe() concludes from the frame's software bytes. */
interface SwCheck {
  fxOnly: boolean;
  xfeaturesLo: number;
  xfeaturesHi: number;
}

function checkXstateInSigframe(k: Kernel, t: Task, b: Uint8Array): SwCheck {
  const fps = t.fpu.fpstate;
  const magic1 = readU32(b, SW_BYTES);
  const extended = readU32(b, SW_BYTES + 4);
  const xstateSize = readU32(b, SW_BYTES + 16);
  // dc8aa31a7ac2 (6.15): magic1, then FP_XSTATE_MAGIC2 right after the task's own user_size bytes; the
  // frame's extended_size and xstate_size are no longer consulted. Before: both sizes checked, MAGIC2
  // looked for at xstate_size.
  const ok = atLeast(k.cfg.version, 6, 15)
    ? magic1 === FP_XSTATE_MAGIC1 && fps.userSize + 4 <= b.length && readU32(b, fps.userSize) === FP_XSTATE_MAGIC2
    : magic1 === FP_XSTATE_MAGIC1 &&
      xstateSize >= 576 &&
      xstateSize <= fps.userSize &&
      xstateSize <= extended &&
      xstateSize + 4 <= b.length &&
      readU32(b, xstateSize) === FP_XSTATE_MAGIC2;
  // Bad magic or sizes are not an error: the frame is taken as a legacy FXSAVE-only frame.
  if (!ok) return { fxOnly: true, xfeaturesLo: 3, xfeaturesHi: 0 };
  return { fxOnly: false, xfeaturesLo: readU32(b, SW_BYTES + 8), xfeaturesHi: readU32(b, SW_BYTES + 12) };
}

/**
 * rt_sigreturn's FPU part (__fpu_restore_sig, 64-bit path): XRSTOR (or FXRSTOR for a legacy frame)
 * straight from the user frame, the features the frame does not carry put in init state, then the
 * registers are marked current's. Returns false — the caller sends SIGSEGV — when the frame is missing
 * or the restore faults (#GP: reserved header bits, bad XSTATE_BV/XCOMP_BV, reserved MXCSR bits).
 */
export function sigreturn(k: Kernel, cpu: Cpu, t: Task): boolean {
  k.st.counters.sigreturns++;
  const frame = t.frames.pop();
  if (!frame) {
    clearUserStates(k, cpu, t);
    return false;
  }
  const fps = t.fpu.fpstate;
  const b = frame.area.bytes;
  const sw = k.cfg.useXsave ? checkXstateInSigframe(k, t, b) : { fxOnly: true, xfeaturesLo: 3, xfeaturesHi: 0 };
  if (k.cfg.useXsave && sw.fxOnly) traceFpu(k, cpu, 'x86_fpu_xstate_check_failed', t.fpu); // check_xstate_in_sigframe: setfx
  const rLo = (sw.xfeaturesLo & fps.userXfeaturesLo) >>> 0;
  const rHi = (sw.xfeaturesHi & fps.userXfeaturesHi) >>> 0;
  fpregsLock(cpu);
  // With CR0.TS set (lazy era) the kernel must own the FPU before it can XRSTOR.
  if (cpu.xs.cr0Ts) k.policy.makeRegistersValid(k, cpu, t);
  xfdUpdateState(k, cpu, fps);
  const xs = cpu.xs;
  const cpl = xs.cpl;
  xs.cpl = 0;
  let f: Outcome;
  if (sw.fxOnly) f = fxrstor(k.m, xs, frame.area);
  else f = xrstor(k.m, xs, frame.area, rLo, rHi);
  if (!f && k.cfg.useXsave) {
    // Features the frame did not ask for go to their init state (XRSTOR of init_fpstate for init_bv).
    const initLo = (fps.userXfeaturesLo & ~(sw.fxOnly ? 3 : rLo)) >>> 0;
    const initHi = (fps.userXfeaturesHi & ~(sw.fxOnly ? 0 : rHi)) >>> 0;
    if (initLo | initHi) {
      if (k.cfg.restore === 'XRSTORS') xrstors(k.m, xs, k.initFpstate.area, initLo & k.initFpstate.xfeaturesLo, initHi);
      else xrstor(k.m, xs, k.initFpstate.area, initLo, initHi);
    }
  }
  xs.cpl = cpl;
  if (f) {
    // The registers may hold part of the user's image: if they were not current's, nobody may reuse them.
    if (t.tif & TIF_NEED_FPU_LOAD) cpuInvalidateFpregsState(cpu);
    fpregsUnlock(cpu);
    clearUserStates(k, cpu, t);
    return false;
  }
  // restore_fpregs_from_user(): the user part came from the frame; the supervisor states come from the
  // kernel buffer when the registers were not current's.
  if (t.tif & TIF_NEED_FPU_LOAD) xrstorSupervisor(k, cpu, fps);
  k.policy.markActivated(k, cpu, t);
  fpregsUnlock(cpu);
  return true;
}
