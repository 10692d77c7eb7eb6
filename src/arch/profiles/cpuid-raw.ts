/**
 * CPU profiles from `cpuid -r` output (Todd Allen's cpuid tool):
 *   CPU 0:
 *      0x0000000d 0x01: eax=0x0000000f ebx=0x00000988 ecx=0x00001800 edx=0x00000000
 * The profile is the first CPU listed (`cpuid -r -1` prints one CPU without the header).
 */
import { CpuidLeaves, CpuidRegs, leafKey } from '../cpuid.js';
import { InputError } from '../errors.js';
import { buildProfile, CpuProfile } from '../profile.js';

const LINE = /^\s*0x([0-9a-fA-F]{1,8}) 0x([0-9a-fA-F]{1,8}): eax=0x([0-9a-fA-F]{1,8}) ebx=0x([0-9a-fA-F]{1,8}) ecx=0x([0-9a-fA-F]{1,8}) edx=0x([0-9a-fA-F]{1,8})\s*$/;
const CPU_HEADER = /^CPU (\d+):\s*$/;

export function looksLikeCpuidRaw(text: string): boolean {
  return /^\s*0x[0-9a-fA-F]{8} 0x[0-9a-fA-F]{2}: eax=0x/m.test(text);
}

export function leavesFromCpuidRaw(text: string, where: string): CpuidLeaves {
  const leaves: Record<string, CpuidRegs> = {};
  const lines = text.split(/\r?\n/);
  let cpus = 0;
  for (let n = 0; n < lines.length; n++) {
    const line = lines[n];
    if (CPU_HEADER.test(line)) {
      if (++cpus > 1) break;
      continue;
    }
    if (line.trim() === '') continue;
    const m = LINE.exec(line);
    if (!m) {
      if (/^\s*0x/.test(line)) throw new InputError(`malformed cpuid -r line: "${line.trim().slice(0, 80)}"`, `${where}:${n + 1}`);
      continue;
    }
    const key = leafKey(parseInt(m[1], 16), parseInt(m[2], 16));
    if (!(key in leaves)) leaves[key] = [parseInt(m[3], 16) >>> 0, parseInt(m[4], 16) >>> 0, parseInt(m[5], 16) >>> 0, parseInt(m[6], 16) >>> 0];
  }
  if (Object.keys(leaves).length === 0) throw new InputError('no "0xLEAF 0xSUB: eax=… ebx=… ecx=… edx=…" lines: not `cpuid -r` output', where);
  return leaves;
}

export function profileFromCpuidRaw(text: string, where: string, id: string): CpuProfile {
  return buildProfile(leavesFromCpuidRaw(text, where), { id, source: { kind: 'cpuid-raw', file: where } }, where);
}
