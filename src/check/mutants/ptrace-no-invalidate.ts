/**
 * Mutants of `deferred` and `eager`: PTRACE_SETREGSET changes the stopped tracee's memory
 * image but does not invalidate the register copy a CPU may still hold of it (last_cpu := -1: 4.x
 * fpu__activate_fpstate_write()'s "Invalidate any lazy state", 6.x fpu_force_restore() /
 * __fpu_invalidate_fpregs_state()). When the tracee comes back to the CPU it left, fpregs_state_valid()
 * still says the registers are its own, the restore is skipped and the debugger's write is lost.
 *
 * Every design that skips restores on (owner, last_cpu) needs the rule for every writer of a task's
 * memory image (catalogue H1(d): "ptrace and coredump need a sync registers to memory step",
 * fpu__prepare_write()). (lazy-ts skips a restore only on the preload path after five uses in a row,
 * beyond the bounds that find these two.)
 */
import { deferred } from '../../policies/fpu/deferred.js';
import { eager } from '../../policies/fpu/eager.js';
import type { FpuPolicy } from '../../kernel/fpu/policy.js';
import { DEFAULT_CONFIG } from '../explore.js';
import type { Mutant } from './types.js';

function ptraceNoInvalidate(parent: FpuPolicy): Mutant {
  const name = `${parent.name}-ptrace-no-invalidate`;
  const policy: FpuPolicy = {
    ...parent,
    name,
    makeMemoryValid(k, cpu, t) {
      // BUG: the write case's invalidation is gone; only the read-side sync is left.
      parent.makeMemoryValid(k, cpu, t, false);
    },
  };
  return {
    name,
    of: parent.name,
    bug: 'fpu__prepare_write() / fpu_force_restore() invalidation (catalogue H1(d)): a ptrace write must not leave a CPU\'s register copy valid',
    policy,
    config: { moves: [...DEFAULT_CONFIG.moves, 'ptrace-set'], depth: 8 },
  };
}

export const deferredPtraceNoInvalidate = ptraceNoInvalidate(deferred);
export const eagerPtraceNoInvalidate = ptraceNoInvalidate(eager);
