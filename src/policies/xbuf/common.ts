/** Pieces the buffer designs share: page counts, vmalloc's lazy purge, per-CPU areas. */
import { charge } from '../../kernel/meter.js';
import { createArea, XsaveArea } from '../../arch/xsave/area.js';
import type { Kernel } from '../../kernel/kernel.js';
import { Cpu } from '../../kernel/state.js';
import type { XbufDesign } from '../../kernel/designs.js';
import { accountAlloc, accountFree } from '../../kernel/fpu/dynamic.js';
import { newFpstate } from '../../kernel/task.js';

export const PAGE_SIZE = 4096;

export function pagesOf(bytes: number): number {
  return Math.ceil(bytes / PAGE_SIZE);
}

/** lazy_max_pages(): fls(num_online_cpus()) * (32 MiB / PAGE_SIZE) of freed vmap space before a purge. */
export function lazyMaxPages(k: Kernel): number {
  const n = k.st.cpus.length;
  return (32 - Math.clz32(n)) * ((32 << 20) / PAGE_SIZE);
}

/**
 * vfree() of a vmalloc'ed area: the pages go back at once, the virtual range is purged lazily. When
 * enough has accumulated, __purge_vmap_area_lazy() flushes the kernel TLB range on every CPU
 * (flush_tlb_kernel_range: an IPI to each other online CPU; a range this large is a full flush).
 */
export function vfree(k: Kernel, cpu: Cpu, bytes: number): void {
  const st = k.st;
  charge(k, cpu, 'vfree', bytes);
  st.xbuf.lazyFreedPages += pagesOf(bytes) + 1; // + the guard page
  if (st.xbuf.lazyFreedPages >= lazyMaxPages(k)) {
    st.counters.ipis += st.cpus.length - 1;
    charge(k, cpu, 'vmap-purge', 0, st.cpus.length);
    st.xbuf.lazyFreedPages = 0;
  }
}

/** vmalloc(): the pages are mapped into the vmalloc range, one PTE each. */
export function vmap(k: Kernel, cpu: Cpu, bytes: number): void {
  k.st.counters.pageTableUpdates += pagesOf(bytes);
  charge(k, cpu, 'vzalloc', bytes);
}

/** The per-CPU area of a design (allocated at first use, sized for the largest buffer, counted as memory). */
export function perCpuArea(k: Kernel, cpu: Cpu, base: number): XsaveArea {
  let a = k.st.xbuf.percpu[cpu.id];
  if (!a) {
    a = createArea(base + cpu.id * 0x10_0000, k.cfg.maxSize);
    k.st.xbuf.percpu[cpu.id] = a;
    k.st.counters.xstateBytes += k.cfg.maxSize;
    k.st.counters.xstateBytesAllocated += k.cfg.maxSize;
    if (k.st.counters.xstateBytes > k.st.counters.xstateBytesPeak) k.st.counters.xstateBytesPeak = k.st.counters.xstateBytes;
  }
  return a;
}

/** The page-array designs' allocation: alloc_pages of the pages, no vmap (so no purge at free). */
export const pageArray: Pick<XbufDesign, 'allocate' | 'free'> = {
  allocate(k, cpu, _t, size) {
    accountAlloc(k, size);
    charge(k, cpu, 'page-alloc', size);
    return newFpstate(k, size, true);
  },
  free(k, cpu, fps) {
    accountFree(k, fps.size);
    charge(k, cpu, 'page-alloc', 0); // __free_pages: no vmap, no purge
  },
};
