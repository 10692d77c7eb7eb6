/**
 * Mutants written outside the repository: an ES module (compiled JavaScript) exporting one or more
 * `Mutant` objects, written against the public policy interfaces (docs/checker.md). `--mutant-file`
 * loads them and registers them beside the corpus, so `--mutant NAME`, `--all-mutants` and `--replay`
 * treat them like the built-in ones.
 */
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { existsSync } from 'node:fs';
import { InputError } from '../arch/errors.js';
import { registerMutants } from './mutants/index.js';
import type { Mutant } from './mutants/types.js';

/** The FpuPolicy hooks a mutant's policy must have (a spread of a built-in policy has them all). */
const HOOKS = ['switchOut', 'switchIn', 'returnToUser', 'deviceNotAvailable', 'registersValid', 'memoryValid', 'makeRegistersValid', 'makeMemoryValid', 'kernelFpuBegin', 'kernelFpuEnd', 'fork', 'exec', 'exit', 'markActivated'] as const;

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null;
}

/** Why `v` is not a Mutant, or null when it is one. */
function notAMutant(v: unknown): string | null {
  if (!isRecord(v)) return 'not an object';
  for (const f of ['name', 'of', 'bug'] as const) if (typeof v[f] !== 'string' || v[f] === '') return `'${f}' must be a non-empty string`;
  const p = v.policy;
  if (!isRecord(p)) return "'policy' must be an FpuPolicy object";
  for (const h of HOOKS) if (typeof p[h] !== 'function') return `'policy.${h}' must be a function (spread a built-in policy: { ...deferred, … })`;
  if (v.designs !== undefined && !isRecord(v.designs)) return "'designs' must be an object";
  if (v.config !== undefined && !isRecord(v.config)) return "'config' must be an object";
  if (v.cpu !== undefined && typeof v.cpu !== 'string') return "'cpu' must be a profile name";
  if (v.kernel !== undefined && typeof v.kernel !== 'string') return "'kernel' must be a Linux version such as '4.13'";
  return null;
}

/** Loads `file`'s exported mutants and registers them; returns them in export order. */
export async function loadMutantFile(file: string): Promise<Mutant[]> {
  const abs = resolve(file);
  if (!existsSync(abs)) throw new InputError('cannot read mutant file: no such file', file);
  let mod: Record<string, unknown>;
  try {
    mod = (await import(pathToFileURL(abs).href)) as Record<string, unknown>;
  } catch (e) {
    throw new InputError(`cannot load it as an ES module: ${(e as Error).message.split('\n')[0]}`, file);
  }
  const found: Mutant[] = [];
  for (const [name, v] of Object.entries(mod)) {
    const why = notAMutant(v);
    if (why === null) found.push(v as unknown as Mutant);
    else if (isRecord(v) && 'policy' in v) throw new InputError(`export '${name}' is not a mutant: ${why}`, file);
  }
  if (found.length === 0) throw new InputError('exports no mutant (an object with name, of, bug and policy: see docs/checker.md)', file);
  registerMutants(found, file);
  return found;
}
