/**
 * Builds native/xsave-harness.c with the system C compiler (cached by content hash) and runs programs
 * on the real CPU.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { buildNative } from '../../src/util/native.js';
import { decodeResults, encodeCases, HwCase, HwHeader, HwResult } from './program.js';

/** Path of the built harness, or a reason it cannot be built here. */
export function buildHarness(): { path: string } | { skip: string } {
  const cpuinfo = existsSync('/proc/cpuinfo') ? readFileSync('/proc/cpuinfo', 'utf8') : '';
  if (cpuinfo && !/\bxsave\b/.test(cpuinfo)) return { skip: 'this CPU (or its hypervisor) does not expose XSAVE' };
  // -mgeneral-regs-only: nothing the compiler emits between two steps touches x87/SSE/AVX state.
  return buildNative('xsave-harness.c', ['-O2', '-mgeneral-regs-only']);
}

export function runOnHardware(path: string, cases: HwCase[]): { header: HwHeader; results: HwResult[] } {
  const r = spawnSync(path, [], { input: encodeCases(cases), maxBuffer: 1 << 30 });
  if (r.status !== 0) throw new Error(`xsave-harness exited ${r.status}: ${r.stderr.toString()}`);
  return decodeResults(new Uint8Array(r.stdout), cases);
}
