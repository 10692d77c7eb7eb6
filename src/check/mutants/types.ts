/** A mutant: a correct policy with one historical bug put back, and the fix it undoes. */
import type { Designs } from '../../kernel/designs.js';
import type { FpuPolicy } from '../../kernel/fpu/policy.js';
import type { CheckConfig, Target } from '../explore.js';

export interface Mutant extends Target {
  name: string;
  /** The policy (or design) it mutates. */
  of: string;
  /** The fixing commit (or RFC patch) of the bug it reproduces. */
  bug: string;
  /** The FPU policy checked (the correct one when the bug is in a design). */
  policy: FpuPolicy;
  /** The designs checked beside it (a mutated one, or the ones its bug needs). */
  designs?: Partial<Designs>;
  /** The CPU profile its bug needs (AMX, ENQCMD); the command's --cpu otherwise. */
  cpu?: string;
  /** The bounds it is checked in, over the default ones: the moves and components its bug needs. */
  config?: Partial<CheckConfig>;
}
