/**
 * Mutant of `deferred`: kernel_fpu_begin() saves and invalidates the user's registers but leaves the
 * user's MXCSR live, so kernel SIMD code (crypto, amdgpu's display code) runs with the user's rounding
 * mode, FTZ/DAZ and exception masks — wrong results or a #XM in kernel mode.
 *
 * Catalogue C1: fixed by 7ad816762f9b "x86/fpu: Reset MXCSR to default in kernel_fpu_begin()" (5.7);
 * every kernel before had it (the `eager`, `lazy-ts` and `rfc-2016` policies model such eras and show
 * it too). e45122893a98 (5.11) kept the MXCSR reset in kernel_fpu_begin_mask()'s default mask.
 */
import { deferred } from '../../policies/fpu/deferred.js';
import type { FpuPolicy } from '../../kernel/fpu/policy.js';
import { DEFAULT_CONFIG } from '../explore.js';
import type { Mutant } from './types.js';

// BUG: no ldmxcsr(MXCSR_DEFAULT) in kernel_fpu_begin_mask().
const policy: FpuPolicy = { ...deferred, name: 'deferred-kfpu-no-mxcsr', kfpuMxcsr: false };

export const deferredKfpuNoMxcsr: Mutant = {
  name: 'deferred-kfpu-no-mxcsr',
  of: 'deferred',
  bug: '7ad816762f9b "x86/fpu: Reset MXCSR to default in kernel_fpu_begin()" (catalogue C1: the user\'s MXCSR leaks into kernel SIMD code)',
  policy,
  config: { moves: [...DEFAULT_CONFIG.moves, 'mxcsr'], depth: 4 },
};
