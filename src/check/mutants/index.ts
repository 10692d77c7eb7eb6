/** The bug corpus: mutants of the correct policies, each reproducing a catalogued Linux FPU bug. */
import { deferredExecDrop } from './deferred-exec-drop.js';
import { deferredKfpuKeepsOwner } from './deferred-kfpu-keeps-owner.js';
import { deferredNoLastCpu } from './deferred-no-last-cpu.js';
import { lazyKfpuNoSave } from './lazy-kfpu-no-save.js';
import type { Mutant } from './types.js';

export const MUTANTS: readonly Mutant[] = [deferredKfpuKeepsOwner, deferredNoLastCpu, deferredExecDrop, lazyKfpuNoSave];

export function mutant(name: string): Mutant | undefined {
  return MUTANTS.find((m) => m.name === name);
}
