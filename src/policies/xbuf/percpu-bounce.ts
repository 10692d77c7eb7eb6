/**
 * `percpu-bounce`: the state lives in a scattered array of pages (no vmalloc, so no purge IPIs);
 * XSAVES and XRSTORS go through one contiguous per-CPU buffer with a memcpy each way (seed 000,
 * option 3). Dave Hansen's argument: the modified optimization survives, because the XRSTORS→XSAVES
 * pair both use the per-CPU buffer's linear address, so the tracking tuple matches.
 */
import { charge } from '../../kernel/meter.js';
import { writeAreaBytes } from '../../arch/xsave/area.js';
import type { XbufDesign } from '../../kernel/designs.js';
import { xrstorFrom, xsaveInto } from '../../kernel/fpu/core.js';
import { pageArray, perCpuArea } from './common.js';

const BOUNCE_BASE = 0x7_0000_0000;

export const percpuBounce: XbufDesign = {
  name: 'percpu-bounce',
  models: 'seed 000 option 3: page array + per-CPU contiguous bounce buffer, memcpy each way',
  ...pageArray,
  save(k, cpu, fps, t) {
    const bounce = perCpuArea(k, cpu, BOUNCE_BASE);
    xsaveInto(k, cpu, fps, bounce, t);
    writeAreaBytes(fps.area, 0, bounce.bytes.subarray(0, fps.size)); // copy the bounce buffer back to the pages
    k.st.counters.bytesCopied += fps.size;
    charge(k, cpu, 'memcpy', fps.size);
  },
  restore(k, cpu, fps, lo, hi, t) {
    const bounce = perCpuArea(k, cpu, BOUNCE_BASE);
    writeAreaBytes(bounce, 0, fps.area.bytes.subarray(0, fps.size)); // copy the pages into the bounce buffer
    k.st.counters.bytesCopied += fps.size;
    charge(k, cpu, 'memcpy', fps.size);
    xrstorFrom(k, cpu, bounce, lo, hi, t);
  },
};
