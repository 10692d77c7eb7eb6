/**
 * PKRU `eager`: Linux 5.14+ (954436989cc5 and x86_pkru_load): a task's PKRU lives in thread.pkru while
 * it is not running and is written in __switch_to, so kernel accesses to user memory on the new task's
 * behalf (copy_to_user before it returns to user) already use its keys. The return-to-user restore
 * excludes PKRU (XFEATURE_MASK_FPSTATE). Signal delivery writes the frame with every key enabled and
 * then puts the task's PKRU in it (6.12+).
 */
import type { PkruPolicy } from '../../kernel/designs.js';
import { hasPkru, INIT_PKRU, rdpkru, writeSigframePkru, wrpkru } from '../../kernel/pkru.js';
import { readU32, writeAreaU32, XSTATE_BV } from '../../arch/xsave/area.js';

const PKRU = 9;

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
  sigframePkru(k, _t, frame, pkru) {
    // update_pkru_in_sigframe (6.13, ae6012d72fa6; 6.16's d1e420772cd1 form): the XSAVE ran with PKRU
    // 0, which an init-tracking CPU saves as "init" — mark PKRU present in the frame's XSTATE_BV, then
    // put the task's value in its slot, so rt_sigreturn's XRSTOR loads it.
    writeAreaU32(frame, XSTATE_BV, (readU32(frame.bytes, XSTATE_BV) | (1 << PKRU)) >>> 0);
    writeSigframePkru(k, frame, pkru);
  },
};
