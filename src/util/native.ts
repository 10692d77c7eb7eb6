/**
 * Builds the small C helpers in native/ with the system C compiler, once per source version: the
 * binary is cached under the OS temporary directory, keyed by a hash of the source and the compiler.
 */
import { createHash } from 'node:crypto';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, renameSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { packagePath } from './paths.js';

/** native/<name> in the package. */
export function nativeSource(name: string): string {
  return packagePath(`native/${name}`);
}

let cachedCc: string | null | undefined;

/** The first C compiler on PATH, or null. */
export function findCompiler(): string | null {
  if (cachedCc === undefined) cachedCc = ['cc', 'gcc', 'clang'].find((c) => spawnSync(c, ['--version']).status === 0) ?? null;
  return cachedCc;
}

/** Path of the built helper, or the reason it cannot be built on this machine. */
export function buildNative(name: string, flags: string[] = ['-O2']): { path: string } | { skip: string } {
  if (process.arch !== 'x64') return { skip: `not an x86-64 machine (${process.arch})` };
  const cc = findCompiler();
  if (!cc) return { skip: 'no C compiler (cc, gcc or clang) on PATH' };
  const source = nativeSource(name);
  if (!existsSync(source)) return { skip: `${source} is missing from the installation` };
  const src = readFileSync(source);
  const hash = createHash('sha256').update(src).update(cc).update(flags.join(' ')).digest('hex').slice(0, 16);
  const dir = join(tmpdir(), 'switchlab-native');
  mkdirSync(dir, { recursive: true });
  const out = join(dir, `${name.replace(/\.c$/, '')}-${hash}`);
  if (!existsSync(out)) {
    const tmp = `${out}.${process.pid}.tmp`;
    const r = spawnSync(cc, [...flags, '-o', tmp, source], { encoding: 'utf8' });
    if (r.status !== 0) return { skip: `${cc} failed to build ${name}: ${(r.stderr || r.error?.message || '').trim().split('\n')[0]}` };
    renameSync(tmp, out); // atomic: concurrent test files never run a half-written binary
  }
  return { path: out };
}
