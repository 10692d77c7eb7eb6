/**
 * Mutant of PKRU `xstate-eager` (5.2–5.13): switch_fpu_finish() takes init_pkru_value (0x55555554)
 * when the incoming task's XSTATE_BV[PKRU] is clear. But a clear bit means PKRU is in its init
 * configuration, 0 — which is what a task that set PKRU to 0 (every key enabled) has on a CPU whose init
 * tracker clears XINUSE[PKRU] for 0 (AMD): after a context switch its PKRU silently becomes the
 * restrictive default.
 *
 * Catalogue E3: fixed by 510b80a6a0f1 "x86/pkru: Write hardware init value to PKRU when xstate is init"
 * (5.13-rc); Fixes: 0cecca9d03c9 "x86/fpu: Eager switch PKRU state" (5.2). Found by the pkeys selftest
 * ("pkey_reg 0x55555554 shadow 0").
 */
import { deferred } from '../../policies/fpu/deferred.js';
import { pkruXstateEager } from '../../policies/pkru/xstate-eager.js';
import { hasPkru, INIT_PKRU, rdpkru, wrpkru, xstatePkru } from '../../kernel/pkru.js';
import type { PkruPolicy } from '../../kernel/designs.js';
import type { Mutant } from './types.js';

const pkru: PkruPolicy = {
  ...pkruXstateEager,
  name: 'xstate-eager-init-value',
  switchTo(k, cpu, _prev, next) {
    if (!hasPkru(k) || next.kind !== 'user') return;
    // BUG: an absent PKRU in the buffer is taken as init_pkru_value, not as the hardware init value 0.
    const v = xstatePkru(k, next.fpu.fpstate) ?? INIT_PKRU;
    if (v !== rdpkru(k, cpu)) wrpkru(k, cpu, v);
  },
};

export const pkruXstateInitValue: Mutant = {
  name: 'pkru-xstate-init-value',
  of: 'pkru xstate-eager',
  bug: '510b80a6a0f1 "x86/pkru: Write hardware init value to PKRU when xstate is init" (catalogue E3)',
  policy: deferred,
  designs: { pkru },
  config: { comps: [9], moves: ['write', 'syscall', 'return', 'switch', 'migrate', 'uaccess'], depth: 8 },
};
