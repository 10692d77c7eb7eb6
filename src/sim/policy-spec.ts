/**
 * What a `--policies` entry names: an FPU policy and, optionally, a buffer design, a PKRU and a PASID
 * policy, joined with '+': `deferred`, `eager`, `xbuf:percpu-bounce`, `deferred+pkru:in-xstate`.
 * A bare name is looked up as an FPU policy, then a buffer design, a PKRU policy, a PASID policy;
 * `kind:name` says which (needed for `pkru:eager`, since `eager` is an FPU policy too). Unnamed parts
 * are what Linux 6.18 does.
 */
import { InputError } from '../arch/errors.js';
import type { Designs } from '../kernel/designs.js';
import type { FpuPolicy } from '../kernel/fpu/policy.js';
import { FPU_POLICIES } from '../policies/fpu/index.js';
import { linuxDesigns } from '../policies/index.js';
import { PASID_POLICIES } from '../policies/pasid/index.js';
import { PKRU_POLICIES } from '../policies/pkru/index.js';
import { XBUF_DESIGNS } from '../policies/xbuf/index.js';

export interface PolicySet {
  label: string;
  fpu: FpuPolicy;
  designs: Partial<Designs>;
}

const KINDS = {
  fpu: FPU_POLICIES,
  xbuf: XBUF_DESIGNS,
  pkru: PKRU_POLICIES,
  pasid: PASID_POLICIES,
} as const;
type Kind = keyof typeof KINDS;

function known(): string {
  return (Object.keys(KINDS) as Kind[]).map((k) => `${k}: ${KINDS[k].map((p) => p.name).join(', ')}`).join('; ');
}

export function parsePolicySet(spec: string, where = '--policies'): PolicySet {
  const base = FPU_POLICIES.find((p) => p.name === 'deferred')!;
  let fpu: FpuPolicy = base;
  const designs = linuxDesigns();
  for (const item of spec.split('+').map((s) => s.trim())) {
    if (item === '') throw new InputError(`empty policy name in '${spec}'`, where);
    const m = /^(?:(fpu|xbuf|pkru|pasid):)?([a-z0-9-]+)$/.exec(item);
    if (!m) throw new InputError(`'${item}' is not a policy name (${known()})`, where);
    const kinds: Kind[] = m[1] ? [m[1] as Kind] : ['fpu', 'xbuf', 'pkru', 'pasid'];
    const kind = kinds.find((k) => KINDS[k].some((p) => p.name === m[2]));
    if (!kind) throw new InputError(`unknown policy '${item}' (${known()})`, where);
    if (kind === 'fpu') fpu = FPU_POLICIES.find((p) => p.name === m[2])!;
    else if (kind === 'xbuf') designs.xbuf = XBUF_DESIGNS.find((p) => p.name === m[2])!;
    else if (kind === 'pkru') designs.pkru = PKRU_POLICIES.find((p) => p.name === m[2])!;
    else designs.pasid = PASID_POLICIES.find((p) => p.name === m[2])!;
  }
  return { label: spec.trim(), fpu, designs };
}

export function parsePolicySets(list: string, where = '--policies'): PolicySet[] {
  const specs = list.split(',').map((s) => s.trim()).filter((s) => s !== '');
  if (specs.length === 0) throw new InputError('no policies given', where);
  const sets = specs.map((s) => parsePolicySet(s, where));
  const dup = sets.find((s, i) => sets.findIndex((o) => o.label === s.label) !== i);
  if (dup) throw new InputError(`'${dup.label}' is listed twice`, where);
  return sets;
}
