/**
 * Trace events with Linux's names and fields (include/trace/events/sched.h, signal.h, raw_syscalls.h,
 * arch/x86/include/asm/trace/fpu.h and exceptions.h). The model emits them; the ftrace text codec
 * (ftrace.ts) writes and reads them in the shape of /sys/kernel/tracing/trace.
 */

/** The x86_fpu tracepoints (arch/x86/include/asm/trace/fpu.h), all of class x86_fpu. */
export const FPU_EVENTS = [
  'x86_fpu_before_save',
  'x86_fpu_after_save',
  'x86_fpu_regs_activated',
  'x86_fpu_regs_deactivated',
  'x86_fpu_init_state',
  'x86_fpu_dropped',
  'x86_fpu_copy_src',
  'x86_fpu_copy_dst',
  'x86_fpu_xstate_check_failed',
] as const;
export type FpuEventName = (typeof FPU_EVENTS)[number];

export type EventName =
  | FpuEventName
  | 'sched_switch'
  | 'sched_wakeup'
  | 'sched_migrate_task'
  | 'sched_process_fork'
  | 'sched_process_exec'
  | 'sched_process_exit'
  | 'signal_deliver'
  | 'sys_enter'
  | 'sys_exit'
  | 'page_fault_user';

/**
 * One trace record. `pid`/`comm`/`cpu` are the context the event was emitted in (current on that CPU),
 * `ts` is in nanoseconds, `flags` the five ftrace context characters (irqs-off, need-resched,
 * hardirq/softirq, preempt depth, migrate-disable).
 */
export interface TraceEvent {
  ts: number;
  cpu: number;
  pid: number;
  comm: string;
  flags: string;
  name: EventName;
  /** The text after "name: " exactly as ftrace prints it. */
  text: string;
}

/** Fields of an x86_fpu event: the %p of the struct fpu, TIF_NEED_FPU_LOAD of current, XSTATE_BV and XCOMP_BV of its buffer. */
export interface FpuEventFields {
  fpu: number;
  load: boolean;
  xfeatures: bigint;
  xcompBv: bigint;
}

/** "x86/fpu: %p load: %d xfeatures: %llx xcomp_bv: %llx" (the TP_printk of the x86_fpu class). */
export function fpuEventText(f: FpuEventFields): string {
  return `x86/fpu: ${(f.fpu >>> 0).toString(16).padStart(16, '0')} load: ${f.load ? 1 : 0} xfeatures: ${f.xfeatures.toString(16)} xcomp_bv: ${f.xcompBv.toString(16)}`;
}

export function isFpuEvent(name: string): name is FpuEventName {
  return name.startsWith('x86_fpu_');
}
