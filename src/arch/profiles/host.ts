/**
 * The `host` profile: this machine's CPUID, read for real. First /dev/cpu/0/cpuid (the Linux cpuid
 * driver: 16 bytes at offset (subleaf << 32) | leaf); where that is absent or not readable (no root,
 * module not loaded), the native/cpuid-dump.c helper, compiled on first use and cached.
 */
import { spawnSync } from 'node:child_process';
import { closeSync, existsSync, openSync, readSync } from 'node:fs';
import { CpuidLeaves, CpuidRegs, leafKey } from '../cpuid.js';
import { InputError } from '../errors.js';
import { buildProfile, CpuProfile } from '../profile.js';
import { buildNative } from '../../util/native.js';
import { leavesFromCpuidRaw } from './cpuid-raw.js';

const DEV = '/dev/cpu/0/cpuid';

/** How many sub-leaves to read for a leaf (mirrors native/cpuid-dump.c). */
function subleafCount(leaf: number, eax0: number): number {
  if (leaf === 0xd) return 64;
  if ([7, 0x14, 0x17, 0x18, 0x1d, 0x24].includes(leaf)) return Math.min(eax0 + 1, 64);
  if ([4, 0xb, 0x1f, 0xf, 0x10, 0x12].includes(leaf)) return 4;
  return 1;
}

function readDevCpuid(): CpuidLeaves | string {
  if (!existsSync(DEV)) return `${DEV} does not exist`;
  let fd: number;
  try {
    fd = openSync(DEV, 'r');
  } catch (e) {
    return `${DEV} is not readable (${(e as NodeJS.ErrnoException).code ?? 'error'})`;
  }
  try {
    const buf = Buffer.alloc(16);
    const leaves: Record<string, CpuidRegs> = {};
    const read = (leaf: number, sub: number): CpuidRegs => {
      readSync(fd, buf, 0, 16, (BigInt(sub) << 32n) | BigInt(leaf));
      const r: CpuidRegs = [buf.readUInt32LE(0), buf.readUInt32LE(4), buf.readUInt32LE(8), buf.readUInt32LE(12)];
      leaves[leafKey(leaf, sub)] = r;
      return r;
    };
    const max = read(0, 0)[0];
    for (let leaf = 1; leaf <= max; leaf++) {
      const first = read(leaf, 0);
      const n = subleafCount(leaf, first[0]);
      for (let s = 1; s < n; s++) read(leaf, s);
    }
    const emax = Math.min(read(0x8000_0000, 0)[0], 0x8000_0040);
    for (let leaf = 0x8000_0001; leaf <= emax; leaf++) read(leaf, 0);
    return leaves;
  } catch (e) {
    return `${DEV} could not be read (${(e as Error).message})`;
  } finally {
    closeSync(fd);
  }
}

function readWithHelper(): CpuidLeaves | string {
  const built = buildNative('cpuid-dump.c');
  if ('skip' in built) return built.skip;
  const r = spawnSync(built.path, [], { encoding: 'utf8' });
  if (r.status !== 0) return `the cpuid-dump helper failed (${r.stderr.trim() || `exit ${r.status}`})`;
  return leavesFromCpuidRaw(r.stdout, 'cpuid-dump');
}

let cached: CpuProfile | undefined;

/** The host profile (read once per process). Throws InputError when this machine's CPUID cannot be read. */
export function hostProfile(): CpuProfile {
  if (cached) return cached;
  if (process.arch !== 'x64' && process.arch !== 'ia32') {
    throw new InputError(`the host is not an x86 machine (${process.arch}); name a profile instead (switchlab profiles)`, '--cpu host');
  }
  let leaves = readDevCpuid();
  let how = DEV;
  if (typeof leaves === 'string') {
    const why = leaves;
    leaves = readWithHelper();
    how = 'native/cpuid-dump.c (CPUID instruction)';
    if (typeof leaves === 'string') throw new InputError(`cannot read this machine's CPUID: ${why}; ${leaves}`, '--cpu host');
  }
  cached = buildProfile(leaves, { id: 'host', source: { kind: 'host', note: `read from ${how}` } }, '--cpu host');
  return cached;
}
