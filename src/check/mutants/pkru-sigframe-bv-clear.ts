/**
 * Mutant of PKRU `eager` (6.12+ signal delivery): the frame is XSAVEd with PKRU 0 (every key enabled,
 * 70044df250d0), then the task's PKRU is written into the frame's PKRU slot — but XSTATE_BV[PKRU] is
 * left as the XSAVE wrote it. On a CPU whose init tracker marks PKRU 0 as init (AMD), that bit is 0,
 * so rt_sigreturn's XRSTOR loads PKRU's init value 0: after every signal handler the task runs with
 * every key enabled.
 *
 * Catalogue F7: fixed by ae6012d72fa6 "x86/pkeys: Ensure updated PKRU value is XRSTOR'd" (6.13-rc,
 * 6.12.5); Fixes: 70044df250d0 "x86/pkeys: Update PKRU to enable all pkeys before XSAVE" (6.12).
 */
import { deferred } from '../../policies/fpu/deferred.js';
import { pkruEager } from '../../policies/pkru/eager.js';
import { writeSigframePkru } from '../../kernel/pkru.js';
import type { PkruPolicy } from '../../kernel/designs.js';
import type { Mutant } from './types.js';

const pkru: PkruPolicy = {
  ...pkruEager,
  name: 'eager-sigframe-bv-clear',
  sigframePkru(k, _t, frame, value) {
    // BUG: the value goes into the slot, XSTATE_BV[PKRU] stays what XSAVE wrote.
    writeSigframePkru(k, frame, value);
  },
};

export const pkruSigframeBvClear: Mutant = {
  name: 'pkru-sigframe-bv-clear',
  of: 'pkru eager',
  bug: 'ae6012d72fa6 "x86/pkeys: Ensure updated PKRU value is XRSTOR\'d" (catalogue F7: PKRU lost across a signal handler on AMD)',
  policy: deferred,
  designs: { pkru },
  config: { comps: [9], moves: ['write', 'syscall', 'return', 'signal', 'sigreturn'], depth: 6 },
};
