/**
 * Kernel-mode FPU use (kernel_fpu_begin_mask / kernel_fpu_end, arch/x86/kernel/fpu/core.c) from task,
 * softirq and hardirq context, with irq_fpu_usable()'s rules (5.18+). Between begin and end the kernel
 * really uses the registers: it loads MXCSR's default and writes its own values into SSE and AVX, so
 * a policy that forgets to save or reload the user state leaks or loses values the checker can see.
 */
import { writeComponent, writeMxcsr } from '../arch/xsave/registers.js';
import { MXCSR_INIT } from '../arch/xsave/values.js';
import type { Kernel } from './kernel.js';
import { violation } from './kernel.js';
import { valueToken } from './entry.js';
import { Cpu } from './state.js';

export type KfpuContext = 'task' | 'softirq' | 'hardirq';

/** The tag of values the kernel's own FPU code leaves in registers. */
export const KERNEL_TAG = 0x6b65_726e; // "kern"

/**
 * irq_fpu_usable(): not while a kernel FPU section is open; always from task or softirq context; from
 * hardirq only when the interrupt did not hit a BH-disabled region (softirq_count() == 0), e.g. an
 * fpregs_lock() section or a softirq in progress.
 */
export function irqFpuUsable(cpu: Cpu, ctx: KfpuContext): boolean {
  if (cpu.inKernelFpu) return false;
  if (ctx !== 'hardirq') return true;
  return cpu.softirq === 0;
}

/**
 * A kernel FPU section in context `ctx` on `cpu` (begin, use, end in one step, as irq code does).
 * Returns false when irq_fpu_usable() refused and the caller fell back to non-FPU code.
 */
export function kernelFpuSection(k: Kernel, cpu: Cpu, ctx: KfpuContext): boolean {
  if (!(k.policy.irqFpuUsable ?? irqFpuUsable)(cpu, ctx)) return false;
  if (ctx === 'softirq') cpu.softirq++;
  if (ctx === 'hardirq') cpu.hardirq++;
  cpu.preempt++;
  k.policy.kernelFpuBegin(k, cpu);
  cpu.inKernelFpu = true;
  k.st.counters.kernelFpuSections++;
  const xs = cpu.xs;
  const cpl = xs.cpl;
  xs.cpl = 0;
  // KFPU_MXCSR: ldmxcsr(MXCSR_DEFAULT) (5.7+); before, kernel SIMD code ran with the user's MXCSR
  // (its rounding, FTZ/DAZ and unmasked exceptions: catalogue C1). Then SIMD code clobbers XMM/YMM.
  let f1 = null;
  if (k.policy.kfpuMxcsr) f1 = writeMxcsr(xs, MXCSR_INIT, k.m.profile.quirks.mxcsrMask);
  else if (xs.mxcsr !== MXCSR_INIT) violation(k, 'kernel-mxcsr', `kernel SIMD code in ${ctx} context runs with the user's MXCSR 0x${xs.mxcsr.toString(16)}, not the default 0x${MXCSR_INIT.toString(16)}`, cpu.id, cpu.curr);
  const f2 = writeComponent(xs, 1, valueToken(k, 1, KERNEL_TAG));
  const f3 = (xs.xcr0Lo & 4) !== 0 ? writeComponent(xs, 2, valueToken(k, 2, KERNEL_TAG)) : null;
  xs.cpl = cpl;
  for (const f of [f1, f2, f3]) if (f) violation(k, 'kernel-fpu-fault', `kernel FPU use raised ${f.vector}: ${f.reason}`, cpu.id, cpu.curr);
  cpu.inKernelFpu = false;
  k.policy.kernelFpuEnd(k, cpu);
  cpu.preempt--;
  if (ctx === 'softirq') cpu.softirq--;
  if (ctx === 'hardirq') cpu.hardirq--;
  return true;
}

/**
 * A point where the kernel has moved this CPU's FPU registers but not yet marked whose they are. When
 * the checker armed an interrupt on this CPU and interrupts are on, it arrives here: inside an
 * fpregs_lock() region (BH off) only its hardirq part runs, with a kernel FPU section if
 * irq_fpu_usable() allows it; outside one, the softirq it raises runs on its exit too — which is why
 * the code must hold fpregs_lock() there.
 */
export function irqWindow(k: Kernel, cpu: Cpu): void {
  if (!cpu.irqArmed || cpu.irqsOff) return;
  cpu.irqArmed = false;
  kernelFpuSection(k, cpu, cpu.fpregsLocked ? 'hardirq' : 'softirq');
}
