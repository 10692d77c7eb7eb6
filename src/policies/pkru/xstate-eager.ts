/**
 * PKRU `xstate-eager`: Linux 5.2–5.13 (0cecca9d03c9 "x86/fpu: Eager switch PKRU state"): PKRU lives in
 * the task's XSAVE buffer, but switch_fpu_finish() loads the incoming user task's value into the
 * register right away, so copy_to_user() before the return to user already uses its keys; the
 * return-to-user XRSTOR restores PKRU from the buffer with the rest. A kernel thread keeps whatever
 * PKRU the previous task left (no user memory of its own). With XSTATE_BV[PKRU] clear the buffer's
 * PKRU is in its init configuration and the value written is the hardware init value 0 (510b80a6a0f1
 * "x86/pkru: Write hardware init value to PKRU when xstate is init", catalogue E3's fix).
 */
import type { PkruPolicy } from '../../kernel/designs.js';
import { hasPkru, rdpkru, wrpkru, xstatePkru } from '../../kernel/pkru.js';

export const pkruXstateEager: PkruPolicy = {
  name: 'xstate-eager',
  models: 'Linux 5.2–5.13: PKRU in the XSAVE buffer, written eagerly by switch_fpu_finish() (0cecca9d03c9, 510b80a6a0f1)',
  restoredFromBuffer: true,
  switchTo(k, cpu, _prev, next) {
    if (!hasPkru(k) || next.kind !== 'user') return; // PF_KTHREAD: nothing to load
    // Next is not running: its buffer was saved at its switch-out (TIF_NEED_FPU_LOAD is set).
    const v = xstatePkru(k, next.fpu.fpstate) ?? 0;
    if (v !== rdpkru(k, cpu)) wrpkru(k, cpu, v);
  },
  uaccessPkru(k, cpu) {
    return hasPkru(k) ? rdpkru(k, cpu) : -1;
  },
};
