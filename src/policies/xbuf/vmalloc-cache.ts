/**
 * `vmalloc-cache`: vmalloc with a size-class cache in front (seed 000, option 2: "implement caches for
 * large XSAVE state, either in front of, or inside the vmalloc() API"): a freed buffer waits in the
 * cache for the next task that needs one of its size, so churn causes no vfree and no purge IPIs.
 */
import type { XbufDesign } from '../../kernel/designs.js';
import { accountAlloc, accountFree } from '../../kernel/fpu/dynamic.js';
import { initFpstateImage, xrstorFrom, xsaveInto } from '../../kernel/fpu/core.js';
import { newFpstate } from '../../kernel/task.js';
import { vfree, vmap } from './common.js';

/** Buffers the cache keeps at most (per machine): enough for a burst of short-lived AMX tasks per CPU. */
export function cacheLimit(cpus: number): number {
  return 2 * cpus;
}

export const vmallocCache: XbufDesign = {
  name: 'vmalloc-cache',
  models: 'seed 000 option 2: a size-class cache in front of vzalloc/vfree',
  allocate(k, cpu, _t, size) {
    const cache = k.st.xbuf.cache;
    const at = cache.findIndex((f) => f.size === size);
    if (at >= 0) {
      const fps = cache.splice(at, 1)[0];
      fps.area.bytes.fill(0); // vzalloc semantics: the reused buffer starts clean
      initFpstateImage(k, fps);
      return fps;
    }
    accountAlloc(k, size);
    vmap(k, cpu, size);
    return newFpstate(k, size, true);
  },
  free(k, cpu, fps) {
    const cache = k.st.xbuf.cache;
    if (cache.length < cacheLimit(k.st.cpus.length)) {
      cache.push(fps);
      return;
    }
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
