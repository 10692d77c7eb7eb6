/**
 * Value tokens are numbered in the order a kernel model first meets each value, so explorers in
 * different worker threads agree on state keys only if they number values alike. Interning up front
 * every value the oracle's tasks and kernel FPU code write (x87, SSE, AVX, the default PKRU) makes that order the same
 * in every worker; parallel.ts still compares the workers' pools after each level and falls back to
 * one thread if they ever differ.
 */
import { valueToken } from '../kernel/entry.js';
import { KERNEL_TAG } from '../kernel/kfpu.js';
import { hasPkru, INIT_PKRU, pkruToken } from '../kernel/pkru.js';
import type { Explorer } from './explore.js';

export function warmPool(x: Explorer): void {
  for (let c = 0; c <= 2; c++) {
    if (x.k.m.pool.images[c].length === 0) continue;
    valueToken(x.k, c, KERNEL_TAG);
    // The explorer's tags: two per task (pid * 2 + 0/1).
    for (const pid of x.pids) for (const w of [0, 1]) valueToken(x.k, c, pid * 2 + w);
  }
  // PKRU: pkru_write_default() (a kernel thread, a PKRU design's switch).
  if (hasPkru(x.k)) pkruToken(x.k, INIT_PKRU);
}
