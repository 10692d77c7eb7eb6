/**
 * Mutant of PASID `gp-fixup`: fpu_clone leaves the parent's IA32_PASID in a forked child's XSAVE image.
 * The child has its own mm, without a PASID, yet its ENQCMDs carry the parent's: DMA tagged for the
 * wrong address space.
 *
 * Catalogue G2: fixed by "x86/fpu: Clear PASID when copying fpstate" (5.18's ENQCMD re-enable series,
 * Fenghua Yu): fpu_clone clears XSTATE_BV[PASID] in every child.
 */
import { deferred } from '../../policies/fpu/deferred.js';
import { gpFixup } from '../../policies/pasid/gp-fixup.js';
import type { PasidPolicy } from '../../kernel/designs.js';
import type { Mutant } from './types.js';

const pasid: PasidPolicy = { ...gpFixup, name: 'gp-fixup-fork-keeps-pasid', forkKeepsPasid: true };

export const gpFixupForkKeepsPasid: Mutant = {
  name: 'gp-fixup-fork-keeps-pasid',
  of: 'pasid gp-fixup',
  bug: '"x86/fpu: Clear PASID when copying fpstate" (5.18, catalogue G2: PASID inherited by fork children)',
  policy: deferred,
  designs: { pasid },
  cpu: 'sapphire-rapids',
  config: { cpus: 1, tasks: 1, children: 1, moves: ['syscall', 'return', 'switch', 'pasid', 'enqcmd', 'fork'], depth: 10 },
};
