/** A mutant: a correct policy with one historical bug put back, and the fix it undoes. */
import type { FpuPolicy } from '../../kernel/fpu/policy.js';

export interface Mutant {
  name: string;
  /** The policy it mutates. */
  of: string;
  /** The fixing commit (or RFC patch) of the bug it reproduces. */
  bug: string;
  policy: FpuPolicy;
}
