/**
 * Built-in named profiles, generated from the real dumps shipped in data/ (index: data/profiles.json).
 */
import { readFileSync } from 'node:fs';
import { CpuProfile } from '../profile.js';
import { packagePath } from '../../util/paths.js';
import { profileFromJson } from './json.js';

export interface BuiltinEntry {
  name: string;
  /** Path under data/. */
  file: string;
  summary: string;
}

let index: BuiltinEntry[] | undefined;
const loaded = new Map<string, CpuProfile>();

export function builtinProfiles(): BuiltinEntry[] {
  if (!index) {
    const j = JSON.parse(readFileSync(packagePath('data/profiles.json'), 'utf8')) as { profiles: BuiltinEntry[] };
    index = j.profiles;
  }
  return index;
}

export function isBuiltin(name: string): boolean {
  return builtinProfiles().some((e) => e.name === name);
}

/** The built-in profile `name` (its id is the name; its source records the dump it came from). */
export function builtinProfile(name: string): CpuProfile | undefined {
  const hit = loaded.get(name);
  if (hit) return hit;
  const e = builtinProfiles().find((x) => x.name === name);
  if (!e) return undefined;
  const file = packagePath(`data/${e.file}`);
  const base = profileFromJson(readFileSync(file, 'utf8'), `data/${e.file}`, name, 'builtin');
  const p: CpuProfile = { ...base, id: name, source: { ...base.source, note: e.summary } };
  loaded.set(name, p);
  return p;
}
