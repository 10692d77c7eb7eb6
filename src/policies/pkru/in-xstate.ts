/**
 * PKRU `in-xstate`: PKRU only in the XSAVE buffer, loaded with the rest of the user state on return to
 * user (what the 2016 RFC's deferred restore would have meant for PKRU, and Linux 5.2–5.13 before PKRU
 * moved to thread.pkru). Andy Lutomirski's objection (seed 002): while TIF_NEED_FPU_LOAD is set the
 * register still holds the previous task's keys, and the kernel's copy_to_user on the new task's behalf
 * checks them.
 */
import type { PkruPolicy } from '../../kernel/designs.js';
import { hasPkru, rdpkru } from '../../kernel/pkru.js';

export const pkruInXstate: PkruPolicy = {
  name: 'in-xstate',
  models: 'PKRU only in the XSAVE buffer, loaded on return to user (deferred restore as the 2016 RFC proposed it)',
  restoredFromBuffer: true,
  switchTo() {
    // Nothing: the register keeps whatever the previous task left until the return-to-user XRSTOR.
  },
  uaccessPkru(k, cpu) {
    return hasPkru(k) ? rdpkru(k, cpu) : -1;
  },
};
