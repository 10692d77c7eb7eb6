/**
 * The cycle cost model: a meter the kernel reports operations to (kernel/meter.ts), which charges each
 * one by the figures of the CPU profile, per category, per CPU and per task.
 */
import type { Kernel } from '../kernel/kernel.js';
import type { Meter, OpKind } from '../kernel/meter.js';
import type { Cpu } from '../kernel/state.js';
import { Figures } from './figures.js';

/** Reporting categories. */
export const CATEGORIES = ['fpu-save', 'fpu-restore', 'fpu-trap', 'msr', 'pkru', 'tlb', 'memcpy', 'alloc', 'pasid', 'kernel'] as const;
export type Category = (typeof CATEGORIES)[number];

const CATEGORY: Record<OpKind, Category> = {
  xsave: 'fpu-save',
  xsaveopt: 'fpu-save',
  xsavec: 'fpu-save',
  xsaves: 'fpu-save',
  fxsave: 'fpu-save',
  xrstor: 'fpu-restore',
  xrstors: 'fpu-restore',
  fxrstor: 'fpu-restore',
  'nm-trap': 'fpu-trap',
  'cr0-write': 'fpu-trap',
  'gp-trap': 'pasid',
  'wrmsr-xfd': 'msr',
  'wrmsr-pasid': 'pasid',
  wrpkru: 'pkru',
  ipi: 'tlb',
  invlpg: 'tlb',
  pte: 'tlb',
  'vmap-purge': 'tlb',
  memcpy: 'memcpy',
  vzalloc: 'alloc',
  vfree: 'alloc',
  'page-alloc': 'alloc',
  cacheline: 'pasid',
  syscall: 'kernel',
  'page-fault': 'kernel',
  'context-switch': 'kernel',
};

export type CategoryCycles = Record<Category, number>;

export function zeroCycles(): CategoryCycles {
  const o = {} as CategoryCycles;
  for (const c of CATEGORIES) o[c] = 0;
  return o;
}

/** The cycles one operation costs with figures `f`. */
export function opCycles(f: Figures, op: OpKind, bytes: number, extra: number, ncpus: number): number {
  const kib = bytes / 1024;
  const g = (k: keyof Figures): number => f[k].cycles;
  switch (op) {
    case 'xsave':
      return g('xsave.base') + kib * g('xsave.perKiB');
    case 'xsaveopt':
      return g('xsaveopt.base') + kib * g('xsaveopt.perKiB');
    case 'xsavec':
      return g('xsavec.base') + kib * g('xsavec.perKiB');
    case 'xsaves':
      return g('xsaves.base') + kib * g('xsaves.perKiB');
    case 'fxsave':
      return g('fxsave');
    case 'xrstor':
      return g('xrstor.base') + kib * g('xrstor.perKiB') + extra * g('xrstor.perInit');
    case 'xrstors':
      return g('xrstors.base') + kib * g('xrstor.perKiB') + extra * g('xrstor.perInit');
    case 'fxrstor':
      return g('fxrstor');
    case 'nm-trap':
      return g('nm.trap');
    case 'cr0-write':
      return g('cr0.write');
    case 'gp-trap':
      return g('gp.trap');
    case 'wrmsr-xfd':
      return g('wrmsr.xfd');
    case 'wrmsr-pasid':
      return g('wrmsr.pasid');
    case 'wrpkru':
      return g('wrpkru');
    case 'ipi':
      // One IPI to `extra` targets: the base round trip plus each further target.
      return g('ipi.base') + Math.max(0, extra - 1) * g('ipi.perCpu');
    case 'invlpg':
      return extra * g('invlpg');
    case 'pte':
      return extra * g('pte');
    case 'vmap-purge':
      // flush_tlb_kernel_range on every other CPU (a full flush) plus the purge work itself.
      return g('vmap.purge') + g('ipi.base') + Math.max(0, ncpus - 2) * g('ipi.perCpu');
    case 'memcpy':
      return bytes / g('memcpy.bytesPerCycle');
    case 'vzalloc':
      return g('vzalloc');
    case 'vfree':
      return g('vfree');
    case 'page-alloc':
      return bytes > 0 ? g('page.alloc') : g('page.alloc') / 4;
    case 'cacheline':
      return g('cacheline');
    case 'syscall':
      return g('syscall');
    case 'page-fault':
      return g('pagefault');
    case 'context-switch':
      return g('ctxswitch');
  }
}

/** A meter that charges cycles by category, per CPU and per task. */
export class CostMeter implements Meter {
  readonly total = zeroCycles();
  readonly perCpu: CategoryCycles[] = [];
  readonly perTask = new Map<number, CategoryCycles>();
  readonly ops = new Map<OpKind, number>();

  constructor(readonly figures: Figures) {}

  charge(k: Kernel, cpu: Cpu, pid: number, op: OpKind, bytes: number, extra: number): void {
    const c = opCycles(this.figures, op, bytes, extra, k.st.cpus.length);
    const cat = CATEGORY[op];
    this.total[cat] += c;
    const pc = (this.perCpu[cpu.id] ??= zeroCycles());
    pc[cat] += c;
    let pt = this.perTask.get(pid);
    if (!pt) this.perTask.set(pid, (pt = zeroCycles()));
    pt[cat] += c;
    this.ops.set(op, (this.ops.get(op) ?? 0) + 1);
  }

  /** Per-mm state written by the PASID code (counted by the kernel): charged at the end. */
  chargeCacheLines(n: number): void {
    this.total.pasid += n * this.figures.cacheline.cycles;
  }

  totalCycles(): number {
    let s = 0;
    for (const c of Object.values(this.total)) s += c;
    return s;
  }
}
