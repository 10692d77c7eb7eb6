/**
 * `switchlab check --config FILE`: the bounds and everything else a check takes, from YAML or JSON.
 * Every field is optional; a flag given on the command line wins over the file. Errors name the file
 * and the field.
 */
import { z } from 'zod';
import { InputError, parseYamlInput, readInputFile } from '../arch/errors.js';
import { pasidPolicy } from '../policies/pasid/index.js';
import { pkruPolicy } from '../policies/pkru/index.js';
import { xbufDesign } from '../policies/xbuf/index.js';
import { fpuPolicy } from '../policies/fpu/index.js';
import { zodLine } from '../util/zod-line.js';
import { parseKernelVersion } from '../kernel/fpu/kernel-version.js';
import { ConfigSchema } from './counterexample.js';
import { mutant, MUTANTS } from './mutants/index.js';

export const CHECK_MODES = ['bfs', 'random'] as const;
export type CheckMode = (typeof CHECK_MODES)[number];

export const SEED_MAX = 0xffff_ffff;

const FileSchema = ConfigSchema.partial().extend({
  policy: z.string().optional(),
  mutant: z.string().optional(),
  xbuf: z.string().optional(),
  pkru: z.string().optional(),
  pasid: z.string().optional(),
  cpu: z.string().optional(),
  kernel: z.string().optional(),
  seed: z.number().int().min(0).max(SEED_MAX).optional(),
  mode: z.enum(CHECK_MODES).optional(),
  walks: z.number().int().min(1).max(1_000_000_000).optional(),
  walkDepth: z.number().int().min(1).max(100_000).optional(),
  workers: z.number().int().min(1).max(256).optional(),
});

export type CheckFile = z.infer<typeof FileSchema>;

export function loadCheckConfig(path: string): CheckFile {
  const text = readInputFile(path, 'check configuration');
  let raw = parseYamlInput(text, path);
  if (raw === null || raw === undefined) raw = {};
  const r = FileSchema.safeParse(raw);
  if (!r.success) throw new InputError(zodLine(r.error), path);
  const f = r.data;
  // Names are checked here so the error names the file's field, not a flag.
  if (f.policy !== undefined) fpuPolicy(f.policy, `${path}: policy`);
  if (f.xbuf !== undefined) xbufDesign(f.xbuf, `${path}: xbuf`);
  if (f.pkru !== undefined) pkruPolicy(f.pkru, `${path}: pkru`);
  if (f.pasid !== undefined) pasidPolicy(f.pasid, `${path}: pasid`);
  if (f.kernel !== undefined) parseKernelVersion(f.kernel, `${path}: kernel`);
  if (f.mutant !== undefined && !mutant(f.mutant)) throw new InputError(`mutant: unknown mutant '${f.mutant}' (known: ${MUTANTS.map((m) => m.name).join(', ')})`, path);
  return f;
}
