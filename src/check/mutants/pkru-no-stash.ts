/**
 * Mutant of PKRU `eager`: __switch_to loads next's thread.pkru but never stashes the outgoing task's
 * live PKRU into its own thread.pkru, so a value user code set with WRPKRU (pkey_set()) is reverted by
 * the next context switch.
 *
 * Catalogue E4: the same silent revert in the 5.2–5.13 design, where write_pkru() did not update the
 * XSAVE buffer when PKRU was in its init state ("x86/fpu: Correct pkru/xstate inconsistency", stable
 * 5.4/5.10, Brian Geffon); 5.14's thread.pkru design keeps the value by saving it at switch-out.
 */
import { deferred } from '../../policies/fpu/deferred.js';
import { pkruEager } from '../../policies/pkru/eager.js';
import { hasPkru, INIT_PKRU, rdpkru, wrpkru } from '../../kernel/pkru.js';
import type { PkruPolicy } from '../../kernel/designs.js';
import type { Mutant } from './types.js';

const pkru: PkruPolicy = {
  ...pkruEager,
  name: 'eager-no-stash',
  switchTo(k, cpu, _prev, next) {
    if (!hasPkru(k)) return;
    // BUG: prev.pkru is not updated from the register before next's value replaces it.
    const want = next.kind === 'user' ? next.pkru : INIT_PKRU;
    if (want !== rdpkru(k, cpu)) wrpkru(k, cpu, want);
  },
};

export const pkruNoStash: Mutant = {
  name: 'pkru-no-stash',
  of: 'pkru eager',
  bug: 'stable "x86/fpu: Correct pkru/xstate inconsistency" (catalogue E4: pkey_set() reverted by a context switch)',
  policy: deferred,
  designs: { pkru },
  config: { comps: [9], moves: ['write', 'syscall', 'return', 'switch', 'uaccess'], depth: 8 },
};
