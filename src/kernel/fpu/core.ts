/**
 * The primitives of arch/x86/kernel/fpu that every policy is built from, acting on the model's CPUs
 * (real XSAVE-family instructions on the architectural register file) and tasks. Names follow Linux.
 * Each emits the tracepoint Linux emits at that point.
 */
import { charge } from '../meter.js';
import { forgetAllSlots, readU32, writeU32, XCOMP_BV, XSTATE_BV, XsaveArea } from '../../arch/xsave/area.js';
import { fxrstor, fxsave, xrstor, xrstors, xsave, xsavec, xsaveopt, xsaves } from '../../arch/xsave/instructions.js';
import { Outcome } from '../../arch/xsave/fault.js';
import { MXCSR_INIT } from '../../arch/xsave/values.js';
import type { Kernel } from '../kernel.js';
import { emit, violation } from '../kernel.js';
import { Cpu, FpState, Fpu, Task, TIF_NEED_FPU_LOAD } from '../state.js';
import { FpuEventName, fpuEventText } from '../trace/events.js';

/** Trace an x86_fpu event for `fpu` in the context of the task running on `cpu` (load = current's TIF_NEED_FPU_LOAD). */
export function traceFpu(k: Kernel, cpu: Cpu, name: FpuEventName, fpu: Fpu, flags = '.....'): void {
  if (!k.out) return;
  const cur = k.st.tasks.get(cpu.curr);
  const b = fpu.fpstate.area.bytes;
  const bv = (BigInt(readU32(b, XSTATE_BV + 4)) << 32n) | BigInt(readU32(b, XSTATE_BV));
  const xc = (BigInt(readU32(b, XCOMP_BV + 4)) << 32n) | BigInt(readU32(b, XCOMP_BV));
  emit(k, cpu, name, fpuEventText({ fpu: fpu.id, load: cur !== undefined && (cur.tif & TIF_NEED_FPU_LOAD) !== 0, xfeatures: bv, xcompBv: xc }), flags);
}

/** fpregs_state_valid(): this CPU's registers hold `fpu` and `fpu` was last loaded here. */
export function fpregsStateValid(cpu: Cpu, fpu: Fpu): boolean {
  return cpu.owner === fpu.id && fpu.lastCpu === cpu.id;
}

/** fpregs_activate(): owner := fpu (trace x86_fpu_regs_activated). */
export function fpregsActivate(k: Kernel, cpu: Cpu, fpu: Fpu, flags = 'd....'): void {
  cpu.owner = fpu.id;
  traceFpu(k, cpu, 'x86_fpu_regs_activated', fpu, flags);
}

/** fpregs_deactivate(): owner := NULL (trace x86_fpu_regs_deactivated). */
export function fpregsDeactivate(k: Kernel, cpu: Cpu, fpu: Fpu, flags = '...1.'): void {
  cpu.owner = 0;
  traceFpu(k, cpu, 'x86_fpu_regs_deactivated', fpu, flags);
}

/** __cpu_invalidate_fpregs_state(): this CPU's registers belong to nobody (they were clobbered). */
export function cpuInvalidateFpregsState(cpu: Cpu): void {
  cpu.owner = 0;
}

/** __fpu_invalidate_fpregs_state(): the memory image changed; no CPU's registers may be reused for it. */
export function fpuInvalidateFpregsState(fpu: Fpu): void {
  fpu.lastCpu = -1;
}

/** fpregs_mark_activate(): current's registers are live (owner, last_cpu) and TIF_NEED_FPU_LOAD clear. */
export function fpregsMarkActivate(k: Kernel, cpu: Cpu, t: Task, flags = 'b....'): void {
  fpregsActivate(k, cpu, t.fpu, flags);
  t.fpu.lastCpu = cpu.id;
  t.tif &= ~TIF_NEED_FPU_LOAD;
}

function kernelFault(k: Kernel, cpu: Cpu, t: Task | undefined, what: string, f: Outcome): void {
  if (f) violation(k, 'kernel-xsave-fault', `${what} raised ${f.vector}: ${f.reason}`, cpu.id, t ? t.pid : 0);
}

/** Bytes an image of `fps` holds for the components set in its XSTATE_BV (what a save or restore moves). */
function movedBytes(k: Kernel, fps: FpState): number {
  const b = fps.area.bytes;
  let lo = readU32(b, XSTATE_BV) & ~3;
  const g = k.m.g;
  let n = 576;
  while (lo !== 0) {
    const bit = lo & -lo;
    lo ^= bit;
    n += g.size[31 - Math.clz32(bit)];
  }
  return n;
}

/**
 * os_xsave(): save this CPU's registers into `fps` with the instruction the kernel chose at boot and
 * the buffer's feature mask (save_fpregs_to_fpstate without the bookkeeping). The CPU runs at CPL 0.
 */
export function osXsave(k: Kernel, cpu: Cpu, fps: FpState, t?: Task): void {
  const skips = k.m.stats.modifiedSkips;
  if (fps.isValloc && !fps.isGuest && k.designs.xbuf) k.designs.xbuf.save(k, cpu, fps, t);
  else xsaveInto(k, cpu, fps, fps.area, t);
  if (k.m.stats.modifiedSkips !== skips) k.st.counters.modifiedOptHits++;
  k.st.counters.saves++;
  k.st.counters.bytesSaved += movedBytes(k, fps);
  if (t) t.saves++;
}

/**
 * The save instruction the kernel chose at boot, with the buffer's feature mask, into `area` (the
 * buffer itself, or a per-CPU bounce buffer or window a buffer design puts in front of it).
 */
export function xsaveInto(k: Kernel, cpu: Cpu, fps: FpState, area: XsaveArea, t?: Task): void {
  const xs = cpu.xs;
  const cpl = xs.cpl;
  xs.cpl = 0;
  let f: Outcome;
  switch (k.cfg.save) {
    case 'XSAVES':
      f = xsaves(k.m, xs, area, fps.xfeaturesLo, fps.xfeaturesHi);
      break;
    case 'XSAVEC':
      f = xsavec(k.m, xs, area, fps.xfeaturesLo, fps.xfeaturesHi);
      break;
    case 'XSAVEOPT':
      f = xsaveopt(k.m, xs, area, fps.xfeaturesLo, fps.xfeaturesHi);
      break;
    case 'XSAVE':
      f = xsave(k.m, xs, area, fps.xfeaturesLo, fps.xfeaturesHi);
      break;
    default:
      f = fxsave(k.m, xs, area);
  }
  xs.cpl = cpl;
  kernelFault(k, cpu, t, k.cfg.save, f);
  if (k.meter) charge(k, cpu, SAVE_OP[k.cfg.save], k.m.stats.lastSaveBytes);
}

const SAVE_OP = { XSAVES: 'xsaves', XSAVEC: 'xsavec', XSAVEOPT: 'xsaveopt', XSAVE: 'xsave', FXSAVE: 'fxsave' } as const;
const RESTORE_OP = { XRSTORS: 'xrstors', XRSTOR: 'xrstor', FXRSTOR: 'fxrstor' } as const;

/** save_fpregs_to_fpstate(fpu): save and, with XSAVE, the registers are preserved (5.14+). */
export function saveFpregsToFpstate(k: Kernel, cpu: Cpu, fpu: Fpu, t?: Task): void {
  osXsave(k, cpu, fpu.fpstate, t);
}

/** xfd_update_state(): write IA32_XFD only when the per-CPU cache differs from the fpstate's value. */
export function xfdUpdateState(k: Kernel, cpu: Cpu, fps: FpState): void {
  if (!k.m.hasXfd) return;
  if (cpu.xfdCacheLo === fps.xfdLo && cpu.xfdCacheHi === fps.xfdHi) return;
  k.st.counters.msrWrites++;
  charge(k, cpu, 'wrmsr-xfd');
  cpu.xfdCacheLo = fps.xfdLo;
  cpu.xfdCacheHi = fps.xfdHi;
  cpu.xs.xfdLo = fps.xfdLo;
  cpu.xs.xfdHi = fps.xfdHi;
}

/**
 * restore_fpregs_from_fpstate(fps, mask): XFD first (so dynamic components are not forced to init),
 * then XRSTOR(S) with mask & fpu_kernel_cfg.max_features — not fps->xfeatures, so components another
 * task left in the registers are put in their init state.
 */
export function restoreFpregsFromFpstate(k: Kernel, cpu: Cpu, fps: FpState, maskLo: number, maskHi: number, t?: Task): void {
  xfdUpdateState(k, cpu, fps);
  const lo = (maskLo & k.cfg.kernelMaxLo) >>> 0;
  const hi = (maskHi & k.cfg.kernelMaxHi) >>> 0;
  if (fps.isValloc && !fps.isGuest && k.designs.xbuf) k.designs.xbuf.restore(k, cpu, fps, lo, hi, t);
  else xrstorFrom(k, cpu, fps.area, lo, hi, t);
  k.st.counters.restores++;
  k.st.counters.bytesRestored += movedBytes(k, fps);
  if (t) t.restores++;
}

/** The restore instruction the kernel chose at boot, from `area`, with an already-masked feature mask. */
export function xrstorFrom(k: Kernel, cpu: Cpu, area: XsaveArea, lo: number, hi: number, t?: Task): void {
  const xs = cpu.xs;
  const cpl = xs.cpl;
  xs.cpl = 0;
  let f: Outcome;
  if (k.cfg.restore === 'XRSTORS') f = xrstors(k.m, xs, area, lo, hi);
  else if (k.cfg.restore === 'XRSTOR') f = xrstor(k.m, xs, area, lo, hi);
  else f = fxrstor(k.m, xs, area);
  xs.cpl = cpl;
  kernelFault(k, cpu, t, k.cfg.restore, f);
  if (k.meter) charge(k, cpu, RESTORE_OP[k.cfg.restore], k.m.stats.lastRestoreBytes, k.m.stats.lastRestoreInits);
}

/**
 * os_xrstor_supervisor(fpstate): XRSTORS of the supervisor components alone (PASID, CET) from the
 * task's buffer — the paths that load the user part from elsewhere (a signal frame, init_fpstate) need
 * the rest from the kernel's copy when the registers are not the task's (5.8+).
 */
export function xrstorSupervisor(k: Kernel, cpu: Cpu, fps: FpState): void {
  const lo = (k.cfg.kernelMaxLo & ~k.cfg.userMaxLo) >>> 0;
  const hi = (k.cfg.kernelMaxHi & ~k.cfg.userMaxHi) >>> 0;
  if ((lo | hi) === 0 || k.cfg.restore !== 'XRSTORS') return;
  xrstorFrom(k, cpu, fps.area, lo, hi);
}

/** XFEATURE_MASK_FPSTATE: every user and supervisor feature except PKRU (PKRU is switched eagerly, 5.14+). */
export const MASK_FPSTATE_LO = ~(1 << 9) >>> 0;
export const MASK_FPSTATE_HI = 0xffff_ffff;

/**
 * The image of init_fpstate in `fps` (fpstate_init_user / memcpy of init_fpstate): FCW 037FH and MXCSR
 * 1F80H in the legacy area, XSTATE_BV = 0 (every component in its init configuration) and, for
 * compacted buffers, XCOMP_BV = bit 63 | the buffer's features.
 */
export function initFpstateImage(k: Pick<Kernel, 'cfg' | 'm'>, fps: FpState): void {
  const b = fps.area.bytes;
  b.fill(0, 0, Math.min(b.length, 576));
  b[0] = 0x7f;
  b[1] = 0x03;
  writeU32(b, 24, MXCSR_INIT);
  writeU32(b, 28, k.m.profile.quirks.mxcsrMask);
  if (k.cfg.compacted) {
    writeU32(b, XCOMP_BV, fps.xfeaturesLo);
    writeU32(b, XCOMP_BV + 4, (fps.xfeaturesHi | 0x8000_0000) >>> 0);
  }
  forgetAllSlots(fps.area);
}
