/** The bug corpus: mutants of the correct policies, each reproducing a catalogued Linux FPU bug. */
import { deferredExecDrop } from './deferred-exec-drop.js';
import { deferredKfpuKeepsOwner } from './deferred-kfpu-keeps-owner.js';
import { deferredNoLastCpu } from './deferred-no-last-cpu.js';
import { lazyKfpuNoSave } from './lazy-kfpu-no-save.js';
import type { Mutant } from './types.js';
import { CheckConfig, DEFAULT_CONFIG } from '../explore.js';

export const MUTANTS: readonly Mutant[] = [deferredKfpuKeepsOwner, deferredNoLastCpu, deferredExecDrop, lazyKfpuNoSave];

export function mutant(name: string): Mutant | undefined {
  return MUTANTS.find((m) => m.name === name);
}

/** The bounds a mutant is checked in: its own over `base` (the default ones unless given). */
export function mutantConfig(m: Mutant, base: CheckConfig = DEFAULT_CONFIG): CheckConfig {
  return { ...base, ...m.config };
}
