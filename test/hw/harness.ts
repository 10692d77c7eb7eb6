/**
 * Builds native/xsave-harness.c with the system C compiler (cached by content hash) and runs programs
 * on the real CPU.
 */
import { createHash } from 'node:crypto';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { decodeResults, encodeCases, HwCase, HwHeader, HwResult } from './program.js';

const SOURCE = fileURLToPath(new URL('../../../native/xsave-harness.c', import.meta.url));

/** Path of the built harness, or a reason it cannot be built here. */
export function buildHarness(): { path: string } | { skip: string } {
  if (process.arch !== 'x64') return { skip: `not an x86-64 machine (${process.arch})` };
  const cpuinfo = existsSync('/proc/cpuinfo') ? readFileSync('/proc/cpuinfo', 'utf8') : '';
  if (cpuinfo && !/\bxsave\b/.test(cpuinfo)) return { skip: 'this CPU (or its hypervisor) does not expose XSAVE' };
  const cc = ['cc', 'gcc', 'clang'].find((c) => spawnSync(c, ['--version']).status === 0);
  if (!cc) return { skip: 'no C compiler (cc, gcc or clang) on PATH' };
  const src = readFileSync(SOURCE);
  const hash = createHash('sha256').update(src).update(cc).digest('hex').slice(0, 16);
  const dir = join(tmpdir(), 'switchlab-native');
  mkdirSync(dir, { recursive: true });
  const out = join(dir, `xsave-harness-${hash}`);
  if (!existsSync(out)) {
    const r = spawnSync(cc, ['-O2', '-mgeneral-regs-only', '-o', out, SOURCE], { encoding: 'utf8' });
    if (r.status !== 0) return { skip: `${cc} failed to build the harness: ${r.stderr.trim().split('\n')[0]}` };
  }
  return { path: out };
}

export function runOnHardware(path: string, cases: HwCase[]): { header: HwHeader; results: HwResult[] } {
  const r = spawnSync(path, [], { input: encodeCases(cases), maxBuffer: 1 << 30 });
  if (r.status !== 0) throw new Error(`xsave-harness exited ${r.status}: ${r.stderr.toString()}`);
  return decodeResults(new Uint8Array(r.stdout), cases);
}
