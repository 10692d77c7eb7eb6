/**
 * Address spaces, as far as the model needs them: the per-mm record (PASID, mm_cpumask) and
 * switch_mm, which loads next's mm on a CPU (kernel threads keep the previous one: lazy TLB).
 */
import type { Kernel } from './kernel.js';
import { Cpu, MmState, Task } from './state.js';

/** The mm of a user task (created on first use), undefined for kernel threads. */
export function mmOf(k: Kernel, t: Task): MmState | undefined {
  if (t.kind !== 'user' || t.mm === 0) return undefined;
  let m = k.st.mms.get(t.mm);
  if (!m) {
    m = { id: t.mm, pasid: 0, cpumask: [], users: 0 };
    k.st.mms.set(t.mm, m);
  }
  return m;
}

/** switch_mm_irqs_off: next's page tables on this CPU, the CPU joins mm_cpumask, the PASID policy's hook. */
export function switchMm(k: Kernel, cpu: Cpu, prev: Task, next: Task): void {
  const m = mmOf(k, next);
  if (!m) return; // lazy TLB: a kernel thread borrows whatever is loaded
  if (!m.cpumask.includes(cpu.id)) m.cpumask.push(cpu.id);
  const changed = cpu.mm !== m.id;
  cpu.mm = m.id;
  if (changed && k.designs.pasid) k.designs.pasid.switchMm(k, cpu, prev, next);
}
