/** The FPU context-switch policies, by name. */
import { InputError } from '../../arch/errors.js';
import type { FpuPolicy } from '../../kernel/fpu/policy.js';
import { deferred } from './deferred.js';
import { eager } from './eager.js';
import { lazyTs } from './lazy-ts.js';
import { rfc2016 } from './rfc-2016.js';

export const FPU_POLICIES: readonly FpuPolicy[] = [deferred, eager, lazyTs, rfc2016];

export function fpuPolicy(name: string, where = '--policy'): FpuPolicy {
  const p = FPU_POLICIES.find((x) => x.name === name);
  if (!p) throw new InputError(`unknown FPU policy '${name}' (known: ${FPU_POLICIES.map((x) => x.name).join(', ')})`, where);
  return p;
}
