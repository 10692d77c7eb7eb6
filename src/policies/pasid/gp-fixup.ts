/**
 * PASID `gp-fixup`: Linux 5.18 to 6.18 (tip x86-pasid-2022-03-21; arch/x86/kernel/traps.c
 * try_fixup_enqcmd_gp). An mm's PASID is allocated at its first SVA bind and kept until mm exit, so it
 * never changes under a running thread: nothing happens at bind, at switch_mm or on any other CPU.
 * Each thread's first ENQCMD takes #GP; the handler, still with interrupts off (so the FPU registers
 * are live and the MSR is the only true copy), writes PASID | VALID into IA32_PASID, sets
 * pasid_activated and retries. XSAVES/XRSTORS then carry the value (component 10) across switches. A
 * #GP from an activated thread, or from a thread whose mm has no PASID, is a real #GP (SIGSEGV).
 * Costs: one #GP and one WRMSR per thread that uses ENQCMD; no IPIs.
 */
import type { PasidPolicy } from '../../kernel/designs.js';
import { violation } from '../../kernel/kernel.js';
import { mmOf } from '../../kernel/mm.js';
import { pasidMsrValue, pasidRegistersLive, pasidSupported, writePasidMsr } from '../../kernel/pasid.js';

export const gpFixup: PasidPolicy = {
  name: 'gp-fixup',
  models: 'Linux 5.18-6.18: PASID fixed per mm; IA32_PASID loaded by the #GP fix-up (try_fixup_enqcmd_gp), then carried by XSAVES',

  switchMm() {
    // Nothing: the MSR is per thread state in the XSAVES buffer.
  },

  pasidChanged() {
    // Nothing: 5.18+ never changes an mm's PASID while it lives (allocated once, freed at mm exit).
  },

  // fpu_clone (5.18+): children never inherit PASID state; a thread is fixed up at its first ENQCMD.
  forkKeepsPasid: false,

  enqcmdGp(k, cpu, t) {
    if (!pasidSupported(k)) return false; // cpu_feature_enabled(X86_FEATURE_ENQCMD)
    const mm = mmOf(k, t);
    if (!mm || mm.pasid === 0) return false; // mm_valid_pasid()
    if (t.pasidActivated) return false; // already fixed once: this #GP is real
    if (!pasidRegistersLive(k, t)) {
      // irqs are off in the early #GP path, so this cannot happen in Linux; a model FPU policy that
      // leaves user registers stale would make the WRMSR land in someone else's state.
      violation(k, 'pasid', `#GP fix-up for ${t.comm}-${t.pid} while its FPU registers are not live`, cpu.id, t.pid);
      return false;
    }
    writePasidMsr(k, cpu, pasidMsrValue(mm.pasid));
    t.pasidActivated = true;
    return true;
  },
};
