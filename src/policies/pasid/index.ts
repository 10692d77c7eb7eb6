/** The PASID policies (how IA32_PASID reaches the threads of an mm that uses ENQCMD), by name. */
import { InputError } from '../../arch/errors.js';
import type { PasidPolicy } from '../../kernel/designs.js';
import { gpFixup } from './gp-fixup.js';
import { ipiAll } from './ipi-all.js';
import { switchMm } from './switch-mm.js';
import { switchMmCmp } from './switch-mm-cmp.js';

export const PASID_POLICIES: readonly PasidPolicy[] = [gpFixup, switchMm, switchMmCmp, ipiAll];

export function pasidPolicy(name: string, where = '--pasid'): PasidPolicy {
  const p = PASID_POLICIES.find((x) => x.name === name);
  if (!p) throw new InputError(`unknown PASID policy '${name}' (known: ${PASID_POLICIES.map((x) => x.name).join(', ')})`, where);
  return p;
}
