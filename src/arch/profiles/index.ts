/**
 * Resolving a `--cpu` argument to profiles: `host`, a built-in name, a file (JSON, InstLatx64 text or
 * `cpuid -r` output, recognized by content) or a directory of such files.
 */
import { existsSync, readdirSync, statSync } from 'node:fs';
import { basename, extname, join } from 'node:path';
import { InputError, readInputFile } from '../errors.js';
import { CpuProfile } from '../profile.js';
import { builtinProfile, builtinProfiles } from './builtin.js';
import { profileFromCpuidRaw, looksLikeCpuidRaw } from './cpuid-raw.js';
import { hostProfile } from './host.js';
import { looksLikeInstlat, profileFromInstlat } from './instlat.js';
import { profileFromJson } from './json.js';

export { builtinProfiles } from './builtin.js';
export { hostProfile } from './host.js';

/** Parses one profile file by its content. */
export function profileFromFile(path: string): CpuProfile {
  const text = readInputFile(path, 'file');
  const id = basename(path, extname(path));
  if (text.trimStart().startsWith('{')) return profileFromJson(text, path, id);
  if (looksLikeInstlat(text)) return profileFromInstlat(text, path, id);
  if (looksLikeCpuidRaw(text)) return profileFromCpuidRaw(text, path, id);
  if (text.trim() === '') throw new InputError('empty file: not a CPUID profile', path);
  throw new InputError('not a CPUID profile: expected JSON, an InstLatx64 dump or `cpuid -r` output', path);
}

/** One profile: `host`, a built-in name, or a file. */
export function loadProfile(spec: string): CpuProfile {
  if (spec === 'host') return hostProfile();
  const b = builtinProfile(spec);
  if (b) return b;
  if (existsSync(spec)) {
    if (statSync(spec).isDirectory()) throw new InputError('is a directory; this command takes one profile', spec);
    return profileFromFile(spec);
  }
  const names = builtinProfiles().map((e) => e.name);
  throw new InputError(`unknown profile (not a file, not "host", not a built-in: ${names.join(', ')})`, `--cpu ${spec}`);
}

/** Profiles for `--cpu` (repeatable); a directory expands to every profile file in it, sorted by name. */
export function loadProfiles(specs: readonly string[]): CpuProfile[] {
  const out: CpuProfile[] = [];
  for (const spec of specs) {
    if (spec !== 'host' && !builtinProfile(spec) && existsSync(spec) && statSync(spec).isDirectory()) {
      const files = readdirSync(spec)
        .filter((f) => /\.(json|txt|raw|cpuid)$/i.test(f))
        .sort();
      if (files.length === 0) throw new InputError('directory holds no profile files (*.json, *.txt)', spec);
      for (const f of files) out.push(profileFromFile(join(spec, f)));
    } else out.push(loadProfile(spec));
  }
  return out;
}
