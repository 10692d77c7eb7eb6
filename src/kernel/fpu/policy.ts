/**
 * The interface every FPU context-switch policy implements (src/policies/fpu/*). The kernel model calls
 * these hooks at the points where Linux's entry, scheduler, process and signal code call into
 * arch/x86/kernel/fpu; a policy decides what is saved, restored or invalidated there, using the
 * primitives of fpu/core.ts (which emit Linux's x86_fpu tracepoints).
 *
 * Writing a policy (or a mutant of one, for the checker): implement every hook; keep all state in the
 * kernel state (Task.fpu, Task.tif, Cpu.owner, Cpu.fpuActive, …) — a policy object itself is stateless,
 * so states can be cloned and hashed.
 */
import type { Kernel } from '../kernel.js';
import type { Cpu, Task } from '../state.js';
import type { KfpuContext } from '../kfpu.js';

export interface FpuPolicy {
  /** Short name used on the command line (`--policy deferred`). */
  readonly name: string;
  /** Which Linux versions or which patch series the policy reproduces. */
  readonly models: string;
  /** Uses CR0.TS and #NM on first use (lazy era). */
  readonly usesTs: boolean;
  /**
   * How KVM switches to guest FPU state in the policy's era: 'fpstate-swap' (5.16+,
   * fpu_swap_kvm_fpstate: the guest fpstate becomes the task's active one) or 'kernel-fpu' (before:
   * kvm_load_guest_fpu / kvm_put_guest_fpu inside a kernel FPU section, put and reloaded by preempt
   * notifiers when the vCPU thread is switched out and in).
   */
  readonly kvmApi: 'fpstate-swap' | 'kernel-fpu';
  /**
   * kernel_fpu_begin() loads the default MXCSR before kernel SIMD code runs (KFPU_MXCSR: 5.7+,
   * 7ad816762f9b "x86/fpu: Reset MXCSR to default in kernel_fpu_begin()"); before, kernel code ran
   * with the interrupted user's MXCSR (catalogue C1).
   */
  readonly kfpuMxcsr: boolean;

  /** __switch_to, in the context of `prev` (switch_fpu_prepare / switch_fpu). */
  switchOut(k: Kernel, cpu: Cpu, prev: Task, next: Task): void;
  /** End of __switch_to, current = next (switch_fpu_finish before 6.16, and the lazy eras' restore); may do nothing. */
  switchIn(k: Kernel, cpu: Cpu, prev: Task, next: Task): void;
  /** exit_to_user_mode_prepare: make current's user state live before user mode (switch_fpu_return). */
  returnToUser(k: Kernel, cpu: Cpu, t: Task): void;
  /** #NM from user mode because CR0.TS was set (lazy era); returns false when the trap is not the FPU's. */
  deviceNotAvailable(k: Kernel, cpu: Cpu, t: Task): boolean;

  /** The explicit state API (2016 RFC review): do current's registers hold its user state? */
  registersValid(k: Kernel, cpu: Cpu, t: Task): boolean;
  /**
   * Is the in-memory image the only current copy of the task's user state (its registers not live)?
   * Part of the explicit API the 2016 review asked for; no kernel path of the model consults it.
   */
  memoryValid(k: Kernel, t: Task): boolean;
  /** Load t's (current's) user state into the registers now (fpregs_restore_userregs / fpu__restore). */
  makeRegistersValid(k: Kernel, cpu: Cpu, t: Task): void;
  /**
   * Make the memory image current (fpu_sync_fpstate); with `forWrite` also guarantee the registers will
   * be reloaded from memory afterwards (fpu__prepare_write / fpu_force_restore).
   */
  makeMemoryValid(k: Kernel, cpu: Cpu | null, t: Task, forWrite: boolean): void;

  /**
   * irq_fpu_usable() of the policy's era, when it differs from the kernel's (5.18+, 59f5ede3bc0f: from
   * hardirq only when the interrupt did not hit a BH-disabled region such as fpregs_lock()).
   */
  readonly irqFpuUsable?: (cpu: Cpu, ctx: KfpuContext) => boolean;
  /** kernel_fpu_begin_mask: the kernel is about to clobber this CPU's registers. */
  kernelFpuBegin(k: Kernel, cpu: Cpu): void;
  /** kernel_fpu_end. */
  kernelFpuEnd(k: Kernel, cpu: Cpu): void;

  /** fpu_clone: the child's FPU context (minimal: kernel thread or user worker, no state inherited). */
  fork(k: Kernel, cpu: Cpu, parent: Task, child: Task, minimal: boolean): void;
  /** fpu_flush_thread at exec. */
  exec(k: Kernel, cpu: Cpu, t: Task): void;
  /** fpu__drop at exit. */
  exit(k: Kernel, cpu: Cpu, t: Task): void;
  /**
   * The registers were just loaded with a complete user state for current by the signal or sigreturn
   * code (fpregs_mark_activate).
   */
  markActivated(k: Kernel, cpu: Cpu, t: Task): void;
}
