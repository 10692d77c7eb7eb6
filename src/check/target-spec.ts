/**
 * What is checked, by name: a policy or a mutant and the designs beside it. Names travel (to worker
 * threads, into counterexample files); `resolveTarget` turns them into a Target.
 */
import { InputError } from '../arch/errors.js';
import { pasidPolicy } from '../policies/pasid/index.js';
import { pkruPolicy } from '../policies/pkru/index.js';
import { xbufDesign } from '../policies/xbuf/index.js';
import { fpuPolicy } from '../policies/fpu/index.js';
import { parseKernelVersion } from '../kernel/fpu/kernel-version.js';
import type { DesignNames } from './counterexample.js';
import type { CheckConfig, Target } from './explore.js';
import { mutant, MUTANTS } from './mutants/index.js';

export interface TargetSpec extends DesignNames {
  policy: string;
  mutant?: string;
  /** The Linux version of the kernel code around the policy (a mutant's own when it names one). */
  kernel?: string;
}

/** The policy and designs checked, a label for reports, and the mutant's own bounds (if any). */
export function resolveTarget(o: TargetSpec): { target: Target; label: string; config?: Partial<CheckConfig> } {
  const kernel = o.kernel === undefined ? undefined : parseKernelVersion(o.kernel).text;
  const on = (v: string | undefined): string => (v === undefined ? '' : `, Linux ${v}`);
  if (o.mutant === undefined) {
    const designs = { xbuf: o.xbuf ? xbufDesign(o.xbuf) : null, pkru: o.pkru ? pkruPolicy(o.pkru) : null, pasid: o.pasid ? pasidPolicy(o.pasid) : null };
    const extra = (['xbuf', 'pkru', 'pasid'] as const).filter((d) => o[d]).map((d) => `${d} ${o[d]}`);
    return { target: { policy: fpuPolicy(o.policy), designs, kernel }, label: [o.policy, ...extra].join(', ') + on(kernel) };
  }
  const m = mutant(o.mutant);
  if (!m) throw new InputError(`unknown mutant '${o.mutant}' (known: ${MUTANTS.map((x) => x.name).join(', ')})`, '--mutant');
  const k = kernel ?? m.kernel;
  // Design flags add the designs a mutant does not bring; naming another for one it brings is refused.
  const designs = { ...m.designs };
  const added: string[] = [];
  for (const d of ['xbuf', 'pkru', 'pasid'] as const) {
    const name = o[d];
    if (name === undefined) continue;
    if (m.designs?.[d]) throw new InputError(`mutant '${m.name}' brings its own ${d} design (${m.designs[d]!.name})`, `--${d}`);
    if (d === 'xbuf') designs.xbuf = xbufDesign(name);
    else if (d === 'pkru') designs.pkru = pkruPolicy(name);
    else designs.pasid = pasidPolicy(name);
    added.push(`${d} ${name}`);
  }
  const target = { ...m, designs, kernel: k };
  return { target, label: `${m.name} (mutant of ${m.of}${on(k)})${added.length ? `, ${added.join(', ')}` : ''}`, config: m.config };
}
