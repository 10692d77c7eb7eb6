/**
 * PASID `switch-mm`: Andy Lutomirski's proposal in seed 003 (Aug 2020, against the lazy #GP fix-up of
 * the v1-v6 patches). switch_mm_irqs_off ends with load_mm_pasid(): the incoming task's XSAVE image
 * gets READ_ONCE(next->context.pasid) — unconditionally, one cache line dirtied per mm switch ("this
 * costs one cache miss"). The READ_ONCE sits after this CPU joined mm_cpumask(next), so a PASID change
 * reaches every CPU that may run the mm by on_each_cpu_mask(mm_cpumask(mm), load_mm_pasid): one IPI
 * per other CPU in the mask; there, a current task of that mm gets the value (WRMSR, its registers
 * being live; else its image). No #GP fix-up: an ENQCMD without a valid PASID is a SIGSEGV.
 *
 * Next is not running yet at switch_mm (prev's registers are still loaded and about to be saved), so
 * the value goes to next's memory image, and any preserved copy of next's registers is invalidated
 * (Andy's own rule, Sep 2021): writing IA32_PASID there would be saved into prev's buffer.
 *
 * What the model shows about the sketch: load_mm_pasid sits where switch_mm_irqs_off only arrives
 * when the mm changes (mm.ts calls the hook then), so a thread that was not running when its mm's
 * PASID was set and is later switched in where its mm is already loaded (a sibling thread or a kernel
 * thread borrowing the mm ran there) never gets it — see test/pasid.test.ts.
 */
import type { PasidPolicy } from '../../kernel/designs.js';
import { mmOf } from '../../kernel/mm.js';
import { onEachCpuMask, PasidCompare, pasidMsrValue, pasidSupported, readOnceMmPasid, updateCurrentPasid, writeTaskPasid } from '../../kernel/pasid.js';

/** The switch-mm design with or without a compare before each write. */
export function switchMmDesign(name: string, models: string, compare: PasidCompare): PasidPolicy {
  return {
    name,
    models,

    switchMm(k, cpu, _prev, next) {
      if (!pasidSupported(k)) return; // cpu_feature_enabled(X86_FEATURE_ENQCMD)
      const mm = mmOf(k, next);
      if (!mm) return;
      writeTaskPasid(k, cpu, next, pasidMsrValue(readOnceMmPasid(k, cpu, mm)), compare);
    },

    pasidChanged(k, cpu, mm) {
      if (!pasidSupported(k)) return;
      onEachCpuMask(k, cpu, [...mm.cpumask], (c) => {
        updateCurrentPasid(k, c, mm, compare);
      });
    },

    // Threads share the mm: no fix-up would ever give a thread created after the bind its PASID.
    forkKeepsPasid: true,

    enqcmdGp() {
      return false;
    },
  };
}

export const switchMm: PasidPolicy = switchMmDesign(
  'switch-mm',
  "seed 003 (Lutomirski, Aug 2020): switch_mm writes READ_ONCE(mm->pasid) into next's XSAVE image on every mm switch; changes by IPI to mm_cpumask",
  'none',
);
