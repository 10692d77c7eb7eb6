/**
 * Buffer ownership, an invariant over the whole kernel state: every XSAVE buffer (struct fpstate and
 * the bytes it holds) has exactly one owner — one task (whose `fpstate`, embedded `__fpstate`, saved
 * `__task_fpstate` and KVM guest fpstate may name the same buffer), one slot of a buffer cache, one
 * CPU's per-CPU buffer, or a signal frame — and no task's buffer is the kernel's init_fpstate. A buffer
 * reachable from two owners is two tasks sharing registers, a buffer freed twice, or one used after it
 * was freed (into a cache).
 *
 * Checked after every move, so it scans a few dozen objects with identity comparisons into reused
 * arrays (no allocation); names are only built for a report.
 */
import type { XsaveArea } from '../arch/xsave/area.js';
import type { Kernel } from '../kernel/kernel.js';
import type { FpState } from '../kernel/state.js';

type Buffer = FpState | XsaveArea;

/** Owner numbers: 0 init_fpstate, then one per task, frame, cache slot and per-CPU buffer, in scan order. */
const seen: Buffer[] = [];
const ownerOf: number[] = [];
let clash: { buffer: Buffer; first: number; second: number } | null = null;

function claim(b: Buffer, owner: number): void {
  for (let i = 0; i < seen.length; i++) {
    if (seen[i] !== b) continue;
    if (ownerOf[i] !== owner && clash === null) clash = { buffer: b, first: ownerOf[i], second: owner };
    return;
  }
  seen.push(b);
  ownerOf.push(owner);
}

/** The owners in the order bufferOwnerFault numbers them (for its report only). */
function ownerNames(k: Kernel): string[] {
  const names = ['the kernel’s init_fpstate'];
  for (const t of k.st.tasks.values()) {
    names.push(`${t.comm}-${t.pid}`);
    for (let f = 0; f < t.frames.length; f++) names.push(`${t.comm}-${t.pid}'s signal frame`);
  }
  k.st.xbuf.cache.forEach((_f, i) => names.push(`buffer cache slot ${i}`));
  k.st.xbuf.percpu.forEach((a, c) => {
    if (a) names.push(`CPU${c}'s per-CPU buffer`);
  });
  return names;
}

/** What is wrong with the state's buffer ownership, or null. */
export function bufferOwnerFault(k: Kernel): string | null {
  seen.length = 0;
  ownerOf.length = 0;
  clash = null;
  let owner = 0;
  claim(k.initFpstate, owner);
  claim(k.initFpstate.area, owner);
  const fpstate = (f: FpState, o: number): void => {
    claim(f, o);
    claim(f.area, o);
  };
  for (const t of k.st.tasks.values()) {
    const o = ++owner;
    const fpu = t.fpu;
    fpstate(fpu.fpstate, o);
    fpstate(fpu.embedded, o);
    if (fpu.taskFpstate) fpstate(fpu.taskFpstate, o);
    if (t.vcpu) fpstate(t.vcpu.fpstate, o);
    for (const fr of t.frames) claim(fr.area, ++owner);
  }
  const xb = k.st.xbuf;
  for (const f of xb.cache) fpstate(f, ++owner);
  for (const a of xb.percpu) if (a) claim(a, ++owner);
  const c = clash as { buffer: Buffer; first: number; second: number } | null;
  seen.length = 0;
  if (c === null) return null;
  const names = ownerNames(k);
  const what = 'area' in c.buffer ? 'the fpstate' : 'the XSAVE buffer';
  return `${what} of ${names[c.second]} is also ${c.first === 0 ? names[0] : `the one of ${names[c.first]}`}`;
}
