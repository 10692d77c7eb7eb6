/**
 * PKRU `eager`: Linux 5.14+ (954436989cc5 and x86_pkru_load): a task's PKRU lives in thread.pkru while
 * it is not running and is written in __switch_to, so kernel accesses to user memory on the new task's
 * behalf (copy_to_user before it returns to user) already use its keys. The return-to-user restore
 * excludes PKRU (XFEATURE_MASK_FPSTATE).
 */
import type { PkruPolicy } from '../../kernel/designs.js';
import { hasPkru, INIT_PKRU, rdpkru, wrpkru } from '../../kernel/pkru.js';

export const pkruEager: PkruPolicy = {
  name: 'eager',
  models: 'Linux 5.14+: thread.pkru, written in __switch_to by x86_pkru_load()',
  restoredFromBuffer: false,
  switchTo(k, cpu, prev, next) {
    if (!hasPkru(k)) return;
    const live = rdpkru(k, cpu);
    if (prev.kind === 'user') prev.pkru = live; // stash the outgoing task's live value
    const want = next.kind === 'user' ? next.pkru : INIT_PKRU;
    if (want !== live) wrpkru(k, cpu, want);
  },
  uaccessPkru(k, cpu) {
    return hasPkru(k) ? rdpkru(k, cpu) : -1;
  },
};
