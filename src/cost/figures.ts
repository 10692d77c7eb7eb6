/**
 * Cycle figures for the cost model, per CPU class, each with where it comes from. The defaults are
 * shared/reference/cost-figures.md §7 (its labels: [M] measured in a cited source, [D] derived, [E]
 * estimate); a calibrated host profile replaces them with this machine's medians (src/cost/calibration.ts);
 * a user file can override any key (`--costs FILE`). docs/cost-model.md lists every figure.
 */
import { CpuProfile } from '../arch/profile.js';

export interface Figure {
  cycles: number;
  /** Where the number comes from: "[M] C1", "[E] cost-figures §7", "measured on this machine 2026-11-25 (…)". */
  source: string;
}

/** The figure keys (cycles unless the name says otherwise). */
export const FIGURE_KEYS = [
  'clockGHz',
  'fxsave',
  'fxrstor',
  'xsave.base',
  'xsave.perKiB',
  'xsaveopt.base',
  'xsaveopt.perKiB',
  'xsavec.base',
  'xsavec.perKiB',
  'xsaves.base',
  'xsaves.perKiB',
  'xrstor.base',
  'xrstor.perKiB',
  'xrstor.perInit',
  'xrstors.base',
  'xgetbv1',
  'wrpkru',
  'wrmsr.xfd',
  'wrmsr.pasid',
  'cr3.nopcid',
  'cr3.pcid',
  'invlpg',
  'invpcid',
  'tlb.refill',
  'pte',
  'ipi.base',
  'ipi.perCpu',
  'nm.trap',
  'gp.trap',
  'cr0.write',
  'vzalloc',
  'vfree',
  'page.alloc',
  'vmap.purge',
  'memcpy.bytesPerCycle',
  'cacheline',
  'cache.miss',
  'pagefault',
  'syscall',
  'ctxswitch',
] as const;
export type FigureKey = (typeof FIGURE_KEYS)[number];
export type Figures = Record<FigureKey, Figure>;

type Column = 'skx' | 'icl' | 'spr' | 'zen4';
const COLUMNS: Column[] = ['skx', 'icl', 'spr', 'zen4'];

const T7 = '[E] cost-figures §7';
/** [value per column (skx, icl, spr, zen4), source]. */
const TABLE: Record<FigureKey, [number[], string]> = {
  clockGHz: [[2.5, 3.5, 2.5, 4.0], 'cost-figures §7 core clocks for ns conversions'],
  fxsave: [[70, 60, 60, 50], T7],
  fxrstor: [[80, 70, 70, 70], T7],
  'xsave.base': [[90, 80, 80, 70], T7],
  'xsave.perKiB': [[40, 32, 20, 24], T7],
  'xsaveopt.base': [[60, 50, 50, 60], `${T7}, anchored to [M] C1 (XSAVEOPT 58 ns ≈ 230 cycles, cold)`],
  'xsaveopt.perKiB': [[40, 32, 20, 24], T7],
  'xsavec.base': [[70, 60, 60, 60], T7],
  'xsavec.perKiB': [[40, 32, 20, 24], T7],
  'xsaves.base': [[80, 70, 70, 70], T7],
  'xsaves.perKiB': [[40, 32, 20, 24], T7],
  'xrstor.base': [[120, 110, 110, 100], `${T7}, anchored to [M] C1 (XRSTOR 165 ns ≈ 660 cycles, cold)`],
  'xrstor.perKiB': [[60, 48, 30, 36], T7],
  'xrstor.perInit': [[5, 5, 5, 5], T7],
  'xrstors.base': [[130, 120, 120, 110], T7],
  xgetbv1: [[24, 24, 24, 24], '[M] C4 (≈24 cycles, Intel)'],
  wrpkru: [[25, 25, 25, 25], T7],
  'wrmsr.xfd': [[150, 150, 150, 150], `${T7} (derived from [M/E] C4: VM entry/exit +500 cycles for 2 MSRs)`],
  'wrmsr.pasid': [[150, 150, 150, 150], T7],
  'cr3.nopcid': [[250, 250, 250, 250], T7],
  'cr3.pcid': [[150, 150, 150, 150], T7],
  invlpg: [[150, 150, 150, 120], `${T7}; seed 000: "~400-500 cycles for 3 INVLPG's"`],
  invpcid: [[180, 180, 180, 150], T7],
  'tlb.refill': [[30, 30, 30, 30], `${T7} (page walk per TLB miss after a flushing CR3 write)`],
  pte: [[14, 13, 16, 14], 'one L2-resident store per PTE: L2 hit, [M] C16a/C16b'],
  'ipi.base': [[2500, 3500, 2500, 4000], `${T7} (≈1 µs to one remote CPU, [M-2] C11/C12)`],
  'ipi.perCpu': [[500, 700, 500, 800], `${T7} (≈200 ns per additional target, [M-2] C12)`],
  'nm.trap': [[500, 450, 500, 400], T7],
  'gp.trap': [[500, 450, 500, 400], 'as the #NM round trip (same exception entry/exit path) [E]'],
  'cr0.write': [[150, 150, 150, 120], T7],
  vzalloc: [[8000, 10000, 8000, 12000], T7],
  vfree: [[2000, 2500, 2000, 3000], T7],
  'page.alloc': [[1500, 1800, 1500, 2000], '[E] alloc_pages of 3 order-0 pages, no vmap (below vzalloc, above a kmalloc)'],
  'vmap.purge': [[1000, 1000, 1000, 1000], `${T7} (plus the all-CPU shootdown)`],
  'memcpy.bytesPerCycle': [[24, 32, 32, 32], T7],
  cacheline: [[70, 40, 90, 50], 'an L3-resident line written: L3 hit, [M] C16a/C16b'],
  'cache.miss': [[250, 300, 280, 340], '[M] C16a/C16b DRAM latency (SKX 100 ns at 2.5 GHz; Zen 4 ≈ 85 ns) [M-ish for ICL/SPR]'],
  pagefault: [[3000, 3500, 3000, 4000], T7],
  syscall: [[250, 250, 250, 250], '[E] syscall entry+exit without PTI ≈ 70-100 ns'],
  ctxswitch: [[2500, 3000, 2500, 3000], `${T7} (kernel path excluding the FPU)`],
};

/** Which column of published defaults a profile takes. */
export function columnFor(p: CpuProfile): Column {
  if (p.vendor === 'AuthenticAMD' || p.vendor === 'HygonGenuine') return 'zen4';
  if (p.features.amxTile) return 'spr';
  if (p.features.avx512f && p.brand.toLowerCase().includes('xeon')) return 'skx';
  if (p.features.avx512f) return 'icl';
  return 'skx';
}

/** The published defaults for a profile's class, each labelled with the column it came from. */
export function defaultFigures(p: CpuProfile): Figures {
  const col = columnFor(p);
  const i = COLUMNS.indexOf(col);
  const out = {} as Figures;
  for (const key of FIGURE_KEYS) {
    const [vals, src] = TABLE[key];
    out[key] = { cycles: vals[i], source: `${src} [${col} column]` };
  }
  return out;
}

export function isFigureKey(s: string): s is FigureKey {
  return (FIGURE_KEYS as readonly string[]).includes(s);
}
