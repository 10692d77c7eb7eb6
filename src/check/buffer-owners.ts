/**
 * Buffer ownership, an invariant over the whole kernel state: every XSAVE buffer (struct fpstate and
 * the bytes it holds) has exactly one owner — one task (whose `fpstate`, embedded `__fpstate`, saved
 * `__task_fpstate` and KVM guest fpstate may name the same buffer), one slot of a buffer cache, one
 * CPU's per-CPU buffer, or a signal frame — and no task's buffer is the kernel's init_fpstate. A buffer
 * reachable from two owners is two tasks sharing registers, a buffer freed twice, or one used after it
 * was freed (into a cache).
 *
 * Checked after every move, so it scans a few dozen objects with identity comparisons into reused
 * arrays; owners are named only when a report needs them, by the same scan.
 */
import type { XsaveArea } from '../arch/xsave/area.js';
import type { Kernel } from '../kernel/kernel.js';
import type { FpState } from '../kernel/state.js';

type Buffer = FpState | XsaveArea;

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

/** Claims every buffer for its owner (numbered in scan order from 0, init_fpstate); with `names`, names each owner too. */
function scan(k: Kernel, names: string[] | null): void {
  seen.length = 0;
  ownerOf.length = 0;
  clash = null;
  let owner = 0;
  const next = (name: () => string): number => {
    names?.push(name());
    return owner++;
  };
  const init = next(() => 'the kernel’s init_fpstate');
  claim(k.initFpstate, init);
  claim(k.initFpstate.area, init);
  const fpstate = (f: FpState, o: number): void => {
    claim(f, o);
    claim(f.area, o);
  };
  for (const t of k.st.tasks.values()) {
    const o = next(() => `${t.comm}-${t.pid}`);
    const fpu = t.fpu;
    fpstate(fpu.fpstate, o);
    fpstate(fpu.embedded, o);
    if (fpu.taskFpstate) fpstate(fpu.taskFpstate, o);
    if (t.vcpu) fpstate(t.vcpu.fpstate, o);
    for (const fr of t.frames) claim(fr.area, next(() => `${t.comm}-${t.pid}'s signal frame`));
  }
  const xb = k.st.xbuf;
  xb.cache.forEach((f, i) => fpstate(f, next(() => `buffer cache slot ${i}`)));
  xb.percpu.forEach((a, c) => {
    if (a) claim(a, next(() => `CPU${c}'s per-CPU buffer`));
  });
}

/** What is wrong with the state's buffer ownership, or null. */
export function bufferOwnerFault(k: Kernel): string | null {
  scan(k, null);
  const c = clash as { buffer: Buffer; first: number; second: number } | null;
  seen.length = 0;
  if (c === null) return null;
  const names: string[] = [];
  scan(k, names);
  seen.length = 0;
  const what = 'area' in c.buffer ? 'the fpstate' : 'the XSAVE buffer';
  return `${what} of ${names[c.second]} is also ${c.first === 0 ? names[0] : `the one of ${names[c.first]}`}`;
}
