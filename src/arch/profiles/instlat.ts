/**
 * CPU profiles from InstLatx64 text dumps (`CPUID 0000000D: 000602E7-00002B00-00002B00-00000000 [SL 00]`).
 * A dump lists every logical CPU; the profile is logical CPU #0 (the first block), as in shared/data.
 */
import { CpuidLeaves, CpuidRegs, leafKey } from '../cpuid.js';
import { InputError } from '../errors.js';
import { buildProfile, CpuProfile } from '../profile.js';

const LINE = /^CPUID ([0-9A-Fa-f]{8}): ([0-9A-Fa-f]{8})-([0-9A-Fa-f]{8})-([0-9A-Fa-f]{8})-([0-9A-Fa-f]{8})(?:\s+\[SL ([0-9A-Fa-f]{1,8})\])?/;
const CPU_BLOCK = /^-+\[ CPUID Registers \/ Logical CPU #(\d+) \]-+/;

/** True when the text looks like an InstLatx64 dump (at least one CPUID line). */
export function looksLikeInstlat(text: string): boolean {
  return /^CPUID [0-9A-Fa-f]{8}: [0-9A-Fa-f]{8}-/m.test(text);
}

export function leavesFromInstlat(text: string, where: string): CpuidLeaves {
  const leaves: Record<string, CpuidRegs> = {};
  const lines = text.split(/\r?\n/);
  let blocks = 0;
  for (let n = 0; n < lines.length; n++) {
    const line = lines[n];
    if (CPU_BLOCK.test(line)) {
      if (++blocks > 1) break; // logical CPU #0 only
      continue;
    }
    if (!line.startsWith('CPUID ')) continue;
    const m = LINE.exec(line);
    if (!m) throw new InputError(`malformed CPUID line: "${line.trim().slice(0, 80)}"`, `${where}:${n + 1}`);
    const key = leafKey(parseInt(m[1], 16), m[6] === undefined ? 0 : parseInt(m[6], 16));
    if (key in leaves) {
      if (blocks === 0) break; // a dump without block headers: the second listing is the next CPU
      continue;
    }
    leaves[key] = [parseInt(m[2], 16) >>> 0, parseInt(m[3], 16) >>> 0, parseInt(m[4], 16) >>> 0, parseInt(m[5], 16) >>> 0];
  }
  if (Object.keys(leaves).length === 0) throw new InputError('no "CPUID xxxxxxxx: …" lines: not an InstLatx64 dump', where);
  return leaves;
}

export function profileFromInstlat(text: string, where: string, id: string): CpuProfile {
  return buildProfile(leavesFromInstlat(text, where), { id, source: { kind: 'instlat', file: where } }, where);
}
