/** The PKRU policies, by name. */
import { InputError } from '../../arch/errors.js';
import type { PkruPolicy } from '../../kernel/designs.js';
import { pkruEager } from './eager.js';
import { pkruInXstate } from './in-xstate.js';
import { pkruXstateEager } from './xstate-eager.js';

export const PKRU_POLICIES: readonly PkruPolicy[] = [pkruEager, pkruXstateEager, pkruInXstate];

export function pkruPolicy(name: string, where = '--pkru'): PkruPolicy {
  const p = PKRU_POLICIES.find((x) => x.name === name);
  if (!p) throw new InputError(`unknown PKRU policy '${name}' (known: ${PKRU_POLICIES.map((x) => x.name).join(', ')})`, where);
  return p;
}
