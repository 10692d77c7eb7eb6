/**
 * `vmalloc`: what Linux does (5.16+ fpstate_realloc): vzalloc() a contiguous virtual buffer, XSAVES
 * and XRSTORS straight into it, vfree() it — the lazy vmap purge eventually flushes the kernel TLB on
 * every CPU by IPI (Andy's objection in seed 000).
 */
import type { XbufDesign } from '../../kernel/designs.js';
import { accountAlloc, accountFree } from '../../kernel/fpu/dynamic.js';
import { xrstorFrom, xsaveInto } from '../../kernel/fpu/core.js';
import { newFpstate } from '../../kernel/task.js';
import { vfree, vmap } from './common.js';

export const vmalloc: XbufDesign = {
  name: 'vmalloc',
  models: 'Linux 5.16+ fpstate_realloc: vzalloc/vfree with the lazy vmap purge (seed 000, option 1)',
  allocate(k, cpu, _t, size) {
    accountAlloc(k, size);
    vmap(k, cpu, size);
    return newFpstate(k, size, true);
  },
  free(k, cpu, fps) {
    accountFree(k, fps.size);
    vfree(k, cpu, fps.size);
  },
  save(k, cpu, fps, t) {
    xsaveInto(k, cpu, fps, fps.area, t);
  },
  restore(k, cpu, fps, lo, hi, t) {
    xrstorFrom(k, cpu, fps.area, lo, hi, t);
  },
};
