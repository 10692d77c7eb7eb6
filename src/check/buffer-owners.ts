/**
 * Buffer ownership, an invariant over the whole kernel state: every XSAVE buffer (struct fpstate and
 * the bytes it holds) has exactly one owner — one task (whose `fpstate`, embedded `__fpstate`, saved
 * `__task_fpstate` and KVM guest fpstate may name the same buffer), one slot of a buffer cache, one
 * CPU's per-CPU buffer, or a signal frame — and no task's buffer is the kernel's init_fpstate. A buffer
 * reachable from two owners is two tasks sharing registers, a buffer freed twice, or one used after it
 * was freed (into a cache).
 */
import type { XsaveArea } from '../arch/xsave/area.js';
import type { Kernel } from '../kernel/kernel.js';
import type { FpState } from '../kernel/state.js';

/** What is wrong with the state's buffer ownership, or null. */
export function bufferOwnerFault(k: Kernel): string | null {
  const owner = new Map<FpState | XsaveArea, string>();
  owner.set(k.initFpstate, 'init_fpstate');
  owner.set(k.initFpstate.area, 'init_fpstate');
  let fault: string | null = null;
  const claim = (b: FpState | XsaveArea, who: string, what: string): void => {
    const had = owner.get(b);
    if (had === undefined) owner.set(b, who);
    else if (had !== who && fault === null) fault = `${what} of ${who} is also ${had === 'init_fpstate' ? 'the kernel’s init_fpstate' : `the one of ${had}`}`;
  };
  const fpstate = (f: FpState, who: string): void => {
    claim(f, who, 'the fpstate');
    claim(f.area, who, 'the XSAVE buffer');
  };
  for (const t of k.st.tasks.values()) {
    const who = `${t.comm}-${t.pid}`;
    const fpu = t.fpu;
    fpstate(fpu.fpstate, who);
    fpstate(fpu.embedded, who);
    if (fpu.taskFpstate) fpstate(fpu.taskFpstate, who);
    if (t.vcpu) fpstate(t.vcpu.fpstate, who);
    for (const fr of t.frames) claim(fr.area, `${who}'s signal frame`, 'the signal frame');
  }
  const xb = k.st.xbuf;
  xb.cache.forEach((f, i) => fpstate(f, `buffer cache slot ${i}`));
  xb.percpu.forEach((a, c) => {
    if (a) claim(a, `CPU${c}'s per-CPU buffer`, 'the buffer');
  });
  return fault;
}
