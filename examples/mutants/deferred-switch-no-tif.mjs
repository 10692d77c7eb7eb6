// A mutant written outside the corpus, against the public policy interface (docs/checker.md):
//   switchlab check --mutant-file examples/mutants/deferred-switch-no-tif.mjs
// From a checkout, the built policies are under dist/ (npm run build); from an installed package,
// import them from 'switchlab/dist/src/…'.
import { deferred } from '../../dist/src/policies/fpu/deferred.js';
import { saveFpregsToFpstate } from '../../dist/src/kernel/fpu/core.js';
import { TIF_NEED_FPU_LOAD } from '../../dist/src/kernel/state.js';

/** switch_fpu() saves the outgoing task but forgets TIF_NEED_FPU_LOAD: nothing reloads it later. */
export const deferredSwitchNoTif = {
  name: 'deferred-switch-no-tif',
  of: 'deferred',
  bug: 'an experiment: switch_fpu() without set_tsk_thread_flag(prev, TIF_NEED_FPU_LOAD)',
  policy: {
    ...deferred,
    name: 'deferred-switch-no-tif',
    switchOut(k, cpu, prev) {
      if ((prev.tif & TIF_NEED_FPU_LOAD) === 0 && prev.kind === 'user') {
        saveFpregsToFpstate(k, cpu, prev.fpu, prev);
        prev.fpu.lastCpu = cpu.id;
      }
    },
  },
  config: { depth: 8 },
};
