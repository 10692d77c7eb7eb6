/**
 * PASID `ipi-all`: the design seed 003 dismisses — the internal Intel implementation Dave Hansen
 * describes ("used smp_call_function_many() to force the MSR state into all threads of a process"),
 * with the per-thread update Linux 5.10 merged as update_pasid() (20f0afd1fb3d, removed by
 * 9bfecd058339 in 5.13-rc "broken beyond repair").
 *
 *  - A PASID change interrupts every other CPU (one IPI each, whatever runs there). Each CPU runs
 *    update_pasid() for its current task: its own mm's PASID, WRMSR unconditionally when its registers
 *    are live, else into its XSAVE image when that differs (plus invalidation). Kernel threads are
 *    skipped (no mm).
 *  - Every thread of the mm that is not running gets its XSAVE image patched (component 10,
 *    XSTATE_BV[10]) and its preserved register copy invalidated (last_cpu = -1).
 *  - At a context switch the incoming task's image is brought up to date the same way (5.10 called
 *    update_pasid() from switch_to; the model's hook is switch_mm).
 * In Linux the IPI could land inside an fpregs_lock() section (BH off, IRQs on) and corrupt FPU state;
 * the model's steps are atomic, so only the costs show: IPIs to all CPUs and WRMSRs on CPUs running
 * unrelated tasks. No #GP fix-up.
 */
import type { PasidPolicy } from '../../kernel/designs.js';
import { mmOf } from '../../kernel/mm.js';
import { onEachCpuMask, pasidMsrValue, pasidSupported, readOnceMmPasid, writeTaskPasid } from '../../kernel/pasid.js';

export const ipiAll: PasidPolicy = {
  name: 'ipi-all',
  models: "Intel's internal design dismissed in seed 003 / Linux 5.10's update_pasid(): IPI to every CPU and patch every thread's XSAVE image on a change",

  switchMm(k, cpu, _prev, next) {
    if (!pasidSupported(k)) return;
    const mm = mmOf(k, next);
    if (!mm) return;
    writeTaskPasid(k, cpu, next, pasidMsrValue(readOnceMmPasid(k, cpu, mm)), 'memory');
  },

  pasidChanged(k, cpu, mm) {
    if (!pasidSupported(k)) return;
    onEachCpuMask(
      k,
      cpu,
      k.st.cpus.map((c) => c.id),
      (c) => {
        const cur = k.st.tasks.get(c.curr);
        const m = cur ? mmOf(k, cur) : undefined;
        if (cur && m) writeTaskPasid(k, c, cur, pasidMsrValue(m.pasid), 'memory');
      },
    );
    const value = pasidMsrValue(mm.pasid);
    for (const t of k.st.tasks.values()) {
      if (t.kind !== 'user' || t.mm !== mm.id || t.run === 'zombie') continue;
      if (k.st.cpus[t.cpu]?.curr === t.pid) continue; // running: the IPI above
      writeTaskPasid(k, cpu, t, value, 'memory');
    }
  },

  // 5.10's fpu__copy: the child's image is the parent's, PASID included (catalogue G2's bug).
  forkKeepsPasid: true,

  enqcmdGp() {
    return false;
  },
};
