/** The bug corpus: mutants of the correct policies, each reproducing a catalogued Linux FPU bug. */
import { deferredExecDrop } from './deferred-exec-drop.js';
import { deferredKfpuKeepsOwner } from './deferred-kfpu-keeps-owner.js';
import { deferredNoLastCpu } from './deferred-no-last-cpu.js';
import { lazyKfpuNoSave } from './lazy-kfpu-no-save.js';
import { eagerFnsaveKeepsOwner } from './eager-fnsave-keeps-owner.js';
import { deferredSigframeStaleOwner } from './deferred-sigframe-stale-owner.js';
import { deferredSigframeNoLoad } from './deferred-sigframe-no-load.js';
import { deferredKfpuSaveNotLive } from './deferred-kfpu-save-not-live.js';
import { lazySwitchNoStts } from './lazy-switch-no-stts.js';
import { lazySigframeStaleOwner } from './lazy-sigframe-stale-owner.js';
import { rfc2016Exec, rfc2016Signal } from './rfc-2016-as-posted.js';
import { deferredPtraceNoInvalidate, eagerPtraceNoInvalidate } from './ptrace-no-invalidate.js';
import { deferredForkLiveRegs } from './deferred-fork-live-regs.js';
import { pkruKthreadPrev } from './pkru-kthread-prev.js';
import { pkruNoStash } from './pkru-no-stash.js';
import { gpFixupForkKeepsPasid } from './gp-fixup-fork-keeps-pasid.js';
import { vmallocDefaultSize } from './vmalloc-default-size.js';
import { deferredKfpuNoMxcsr } from './deferred-kfpu-no-mxcsr.js';
import { pkruSigframeBvClear } from './pkru-sigframe-bv-clear.js';
import { pkruXstateInitValue } from './pkru-xstate-init-value.js';
import { deferredIrqFpuUsableInLock } from './deferred-irq-fpu-usable-in-lock.js';
import { ptraceUncheckedHeader } from './ptrace-unchecked-header.js';
import type { Mutant } from './types.js';
import { InputError } from '../../arch/errors.js';
import { CheckConfig, DEFAULT_CONFIG } from '../explore.js';

export const MUTANTS: readonly Mutant[] = [
  deferredKfpuKeepsOwner,
  deferredNoLastCpu,
  deferredExecDrop,
  lazyKfpuNoSave,
  eagerFnsaveKeepsOwner,
  deferredSigframeStaleOwner,
  deferredSigframeNoLoad,
  deferredKfpuSaveNotLive,
  lazySwitchNoStts,
  lazySigframeStaleOwner,
  deferredPtraceNoInvalidate,
  eagerPtraceNoInvalidate,
  deferredForkLiveRegs,
  pkruKthreadPrev,
  pkruNoStash,
  pkruXstateInitValue,
  pkruSigframeBvClear,
  gpFixupForkKeepsPasid,
  vmallocDefaultSize,
  deferredKfpuNoMxcsr,
  deferredIrqFpuUsableInLock,
  ptraceUncheckedHeader,
  rfc2016Signal,
  rfc2016Exec,
];

/** Mutants loaded from files (`--mutant-file`), by name. */
const EXTRA: Mutant[] = [];

/** Adds mutants written outside the corpus; a name may not shadow a corpus mutant's. */
export function registerMutants(list: readonly Mutant[], where: string): void {
  for (const m of list) {
    if (MUTANTS.some((x) => x.name === m.name)) throw new InputError(`mutant '${m.name}' has the name of a corpus mutant`, where);
    const i = EXTRA.findIndex((x) => x.name === m.name);
    if (i >= 0) EXTRA[i] = m;
    else EXTRA.push(m);
  }
}

export function mutant(name: string): Mutant | undefined {
  return MUTANTS.find((m) => m.name === name) ?? EXTRA.find((m) => m.name === name);
}

/** The bounds a mutant is checked in: its own over `base` (the default ones unless given). */
export function mutantConfig(m: Mutant, base: CheckConfig = DEFAULT_CONFIG): CheckConfig {
  return { ...base, ...m.config };
}
