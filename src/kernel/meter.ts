/**
 * What the kernel model did that costs time, reported as it happens to an optional meter (the cost
 * model in src/cost implements it). The kernel knows nothing of cycles: it says which operation, on
 * which CPU, for which task, and its size.
 */
import type { Kernel } from './kernel.js';
import type { Cpu } from './state.js';

export type OpKind =
  /** XSAVE-family saves and restores (bytes: component data written or loaded; extra: components put in init state). */
  | 'xsave'
  | 'xsaveopt'
  | 'xsavec'
  | 'xsaves'
  | 'fxsave'
  | 'xrstor'
  | 'xrstors'
  | 'fxrstor'
  /** #NM round trip (CR0.TS or XFD) and CR0 writes (clts/stts). */
  | 'nm-trap'
  | 'cr0-write'
  /** #GP round trip (the PASID fix-up). */
  | 'gp-trap'
  | 'wrmsr-xfd'
  | 'wrmsr-pasid'
  | 'wrpkru'
  /** IPIs (extra: number of target CPUs), INVLPGs, page-table entries written. */
  | 'ipi'
  | 'invlpg'
  | 'pte'
  /** Bytes memcpy'd by the kernel (bounce buffers). */
  | 'memcpy'
  /** vzalloc / vfree of an XSAVE buffer (bytes), page allocations of a page array. */
  | 'vzalloc'
  | 'vfree'
  | 'page-alloc'
  /** The lazy vmap purge (extra: CPUs flushed). */
  | 'vmap-purge'
  /** Cache lines written for per-mm state (PASID). */
  | 'cacheline'
  /** The kernel paths around the FPU: syscall entry/exit, user page fault, context switch (excl. FPU). */
  | 'syscall'
  | 'page-fault'
  | 'context-switch';

export interface Meter {
  charge(k: Kernel, cpu: Cpu, pid: number, op: OpKind, bytes: number, extra: number): void;
}

/** Charge an operation to the meter, if there is one (the task is the CPU's current one). */
export function charge(k: Kernel, cpu: Cpu, op: OpKind, bytes = 0, extra = 0): void {
  if (k.meter) k.meter.charge(k, cpu, cpu.curr, op, bytes, extra);
}
