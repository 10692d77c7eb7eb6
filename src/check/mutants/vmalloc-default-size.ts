/**
 * Mutant of the `vmalloc` buffer design: fpstate_realloc()'s new buffer is sized from the default
 * features (fpu_kernel_cfg.default_size) instead of the task's grown mask, so the first XSAVES with
 * TILE_DATA in its mask writes past the end of the allocation (buffer safety: no XSAVE* into a buffer
 * smaller than the layout for its mask).
 *
 * The class of catalogue F4 (471f0aa7fa64 "x86/fpu: Fix copy_xstate_to_uabi() to copy init states
 * correctly": init_fpstate holds only the default features, and a copy sized for the dynamic ones read
 * past it) and of the sizing rules seed 001 argues (size from the feature mask, xstate_calculate_size).
 */
import { deferred } from '../../policies/fpu/deferred.js';
import { vmalloc } from '../../policies/xbuf/vmalloc.js';
import type { XbufDesign } from '../../kernel/designs.js';
import type { Mutant } from './types.js';

const xbuf: XbufDesign = {
  ...vmalloc,
  name: 'vmalloc-default-size',
  allocate(k, cpu, t) {
    // BUG: the size of the default (non-dynamic) features, not the size the caller asked for.
    return vmalloc.allocate(k, cpu, t, k.cfg.defaultSize);
  },
};

export const vmallocDefaultSize: Mutant = {
  name: 'vmalloc-default-size',
  of: 'xbuf vmalloc',
  bug: '471f0aa7fa64 "x86/fpu: Fix copy_xstate_to_uabi() to copy init states correctly" (catalogue F4: a buffer sized for the default features used for a dynamic mask)',
  policy: deferred,
  designs: { xbuf },
  cpu: 'sapphire-rapids',
  config: { comps: [18], moves: ['write', 'syscall', 'return', 'switch', 'kfpu-softirq'], depth: 6 },
};
