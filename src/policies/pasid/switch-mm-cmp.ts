/**
 * PASID `switch-mm-cmp`: the second variant of Andy Lutomirski's proposal in seed 003 — load_mm_pasid
 * reads the incoming task's saved PASID first and writes only when it differs, "so we don't dirty the
 * cache line in the common case" (the line is being read anyway). The IPI handler likewise reads
 * IA32_PASID before a WRMSR. Otherwise the same as `switch-mm` (see switch-mm.ts, including the hole
 * on same-mm switches).
 */
import type { PasidPolicy } from '../../kernel/designs.js';
import { switchMmDesign } from './switch-mm.js';

export const switchMmCmp: PasidPolicy = switchMmDesign(
  'switch-mm-cmp',
  "seed 003 (Lutomirski, Aug 2020), compare-before-write: switch_mm writes next's saved PASID only when it differs; changes by IPI to mm_cpumask",
  'all',
);
