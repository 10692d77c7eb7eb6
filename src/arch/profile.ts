/**
 * A CPU profile: the XSAVE-relevant facts of one processor, derived from its CPUID leaves.
 * Plain data (no methods), so it can be cloned, serialized and shipped as a built-in.
 */
import { componentInfo } from './components.js';
import { cpuid, CpuidLeaves, EAX, EBX, ECX, EDX, reg } from './cpuid.js';
import { CpuFeatures, decodeFeatures } from './features.js';
import { InputError } from './errors.js';
import { bitsOf, hasBit, hex } from './mask.js';

/** Where a profile came from. */
export interface ProfileSource {
  kind: 'json' | 'instlat' | 'cpuid-raw' | 'host' | 'builtin';
  /** File the profile was read from, when there was one. */
  file?: string;
  /** For dumps that came from a public collection: the repository, path and commit. */
  origin?: { repo: string; path: string; commit?: string };
  /** Free text (e.g. how the host was read). */
  note?: string;
}

/** Geometry of one XSAVE state component, from CPUID leaf 0xD sub-leaf i (SDM 13.2). */
export interface ComponentGeometry {
  index: number;
  /** EAX: size in bytes. */
  size: number;
  /** EBX: standard-format offset; 0 for supervisor components (they have none). */
  offset: number;
  /** ECX[0]: supervisor component (IA32_XSS). */
  supervisor: boolean;
  /** ECX[1]: 64-byte aligned when compacted. */
  align64: boolean;
  /** ECX[2]: supports XFD. */
  xfd: boolean;
  /** True when the dump lacked this sub-leaf and the geometry was filled from architectural values. */
  inferred: boolean;
}

/** Behaviours that differ between implementations and that the model must know to be exact. */
export interface CpuQuirks {
  /** MXCSR_MASK as FXSAVE/XSAVE store it (bytes 28-31): the writable MXCSR bits. */
  mxcsrMask: number;
  /**
   * What XRSTOR/XRSTORS do with a requested component (RFBM[i] = XSTATE_BV[i] = 1) whose XFD bit is set:
   * 'nm' raises #NM (SDM 13.14), 'silent-init' puts it in its init state (what Linux's comment in
   * restore_fpregs_from_fpstate describes). Linux never exercises the case.
   */
  xfdRestore: 'nm' | 'silent-init';
  /**
   * AMD parts without XSAVEERPTR save/restore FIP, FDP and FOP only when FSW.ES is set
   * (AMD APM; Linux X86_BUG_FXSAVE_LEAK).
   */
  x87PointersOnlyWithEs: boolean;
  /**
   * XINUSE[i] after XRSTOR* loads component i from memory (RFBM[i] = XSTATE_BV[i] = 1): 'sticky' sets it
   * to 1 whatever the value (SDM 13.8.1: "XINUSE[i] is set to 1"), 'value' sets it only when the loaded
   * value differs from the init configuration.
   */
  xinuseAfterLoad: 'sticky' | 'value';
  /**
   * XGETBV(1) reports SSE in use when MXCSR != 1F80H even with all XMM registers zero. The SDM (13.6)
   * says XINUSE[1] covers XMM only, and the saves indeed treat it so (XSTATE_BV[1] = 0, no XMM data);
   * AMD Zen 3 and Intel (Sapphire Rapids-class VM), both measured by test/hw, nevertheless return bit 1
   * set from XGETBV(1).
   */
  xgetbv1SseIncludesMxcsr: boolean;
  /**
   * The 64-bit x87 FDP (bytes 16-23 of the FXSAVE64/XSAVE64 image) as a load leaves it: true makes it a
   * canonical address like FIP (sign-extended from the top linear-address bit; measured on AMD Zen 3),
   * false keeps all 64 bits as loaded (measured on Intel SPR-class VM by test/hw, where FIP is still
   * made canonical). The SDM (Vol. 1 8.1.8, 10.5.1) does not say.
   */
  x87FdpCanonical: boolean;
  /**
   * AMD Zen (measured on Zen 3 by test/hw; XSAVEERPTR parts): x87 FOP, FIP and FDP read back as 0 after a
   * load whose FSW.ES is clear, i.e. the error pointers exist only while an unmasked exception is pending.
   */
  x87PointersZeroWithoutEs: boolean;
  /** XSAVEOPT/XSAVES skip unmodified components when XRSTOR_INFO matches (SDM 13.6 "modified optimization"). */
  modifiedOptimization: boolean;
  /**
   * WRPKRU of 0 (PKRU's init configuration) clears XINUSE[PKRU], so the next XSAVE* writes
   * XSTATE_BV[PKRU] = 0: AMD's init tracker, per the kernel threads behind catalogue E3 (510b80a6a0f1)
   * and F7 (ae6012d72fa6); Intel keeps XINUSE[PKRU] set. Not measured here (the harness has no OSPKE).
   */
  pkruInitTracking: boolean;
}

export interface CpuProfile {
  /** Profile id: the JSON's "id", else the file's base name, else "host" / the built-in name. */
  id: string;
  vendor: string;
  brand: string;
  /** CPUID.1:EAX as 8 hex digits. */
  signature: string;
  family: number;
  model: number;
  stepping: number;
  source: ProfileSource;
  /** The raw leaves (needed for CPUID emulation and Linux's boot logic). */
  leaves: CpuidLeaves;
  features: CpuFeatures;
  /** CPUID.(0xD,0) EDX:EAX: the bits that may be set in XCR0. */
  xcr0Supported: bigint;
  /** CPUID.(0xD,1) EDX:ECX: the bits that may be set in IA32_XSS. */
  xssSupported: bigint;
  /** Geometry of every supported component >= 2, ascending by index. */
  components: ComponentGeometry[];
  quirks: CpuQuirks;
  /** What the dump's OS had enabled, as far as CPUID 0xD shows it (sizes only). */
  dumpSizes: { leaf0Ebx: number; leaf0Ecx: number; leaf1Ebx: number | null };
  /** Things the loader had to guess or drop, one sentence each. */
  warnings: string[];
}

/** Architectural geometry, used only to fill a sub-leaf missing from a dump. [size, offset, ecx] */
const INTEL_GEOMETRY: Record<number, readonly [number, number, number]> = {
  2: [256, 576, 0],
  3: [64, 960, 0],
  4: [64, 1024, 0],
  5: [64, 1088, 0],
  6: [512, 1152, 0],
  7: [1024, 1664, 0],
  8: [128, 0, 1],
  9: [8, 2688, 0],
  10: [8, 0, 1],
  11: [16, 0, 1],
  12: [24, 0, 1],
  13: [8, 0, 1],
  14: [48, 0, 1],
  16: [8, 0, 1],
  17: [64, 2752, 2],
  18: [8192, 2816, 6],
  19: [128, 960, 0],
};
// AMD leaves no MPX hole: AVX-512 and PKRU sit 256 bytes lower than on Intel (Zen 4 CPUID dumps).
const AMD_GEOMETRY: Record<number, readonly [number, number, number]> = {
  2: [256, 576, 0],
  5: [64, 832, 0],
  6: [512, 896, 0],
  7: [1024, 1408, 0],
  9: [8, 2432, 0],
  11: [16, 0, 1],
  12: [24, 0, 1],
  62: [128, 832, 0],
};

function isAmdLike(vendor: string): boolean {
  return vendor === 'AuthenticAMD' || vendor === 'HygonGenuine';
}

/**
 * For the one user component whose CPUID 0xD sub-leaf a dump lacks: the room between the end of the
 * known user components and 0xD.0 ECX (the standard size for every supported user feature). Null
 * when more than one user sub-leaf is missing or there is no such room above the known components.
 */
function gapForMissing(leaves: CpuidLeaves, xcr0: bigint, missing: number, ecxMax: number): { offset: number; size: number } | null {
  let end = 576;
  for (const i of bitsOf(xcr0)) {
    if (i < 2 || i === missing) continue;
    const sub = cpuid(leaves, 0xd, i);
    if (!sub || (sub[EAX] | sub[EBX]) === 0) return null; // another sub-leaf is missing too
    end = Math.max(end, (sub[EBX] >>> 0) + (sub[EAX] >>> 0));
  }
  return ecxMax > end ? { offset: end, size: ecxMax - end } : null;
}

export function vendorOf(leaves: CpuidLeaves): string {
  const v = cpuid(leaves, 0, 0);
  if (!v) return 'unknown';
  const bytes: number[] = [];
  for (const r of [v[1], v[3], v[2]]) for (let k = 0; k < 4; k++) bytes.push((r >>> (8 * k)) & 0xff);
  return String.fromCharCode(...bytes).replace(/\0+$/, '');
}

export function brandOf(leaves: CpuidLeaves): string {
  const bytes: number[] = [];
  for (let l = 0x8000_0002; l <= 0x8000_0004; l++) {
    const v = cpuid(leaves, l, 0);
    if (!v) return '';
    for (const r of v) for (let k = 0; k < 4; k++) bytes.push((r >>> (8 * k)) & 0xff);
  }
  return String.fromCharCode(...bytes.filter((b) => b !== 0)).trim();
}

export interface ProfileMeta {
  id: string;
  source: ProfileSource;
  vendor?: string;
  brand?: string;
  /** Measured quirks (the host), overriding the vendor defaults. */
  quirks?: Partial<CpuQuirks>;
}

/**
 * Builds a profile from CPUID leaves. Throws InputError (naming `where`) when the leaves cannot
 * describe an XSAVE-capable CPU (no leaf 0, no leaf 1, no XSAVE, no leaf 0xD).
 */
export function buildProfile(leaves: CpuidLeaves, meta: ProfileMeta, where = meta.source.file ?? meta.id): CpuProfile {
  if (!cpuid(leaves, 0, 0)) throw new InputError('CPUID leaf 0x0 is missing', where);
  const l1 = cpuid(leaves, 1, 0);
  if (!l1) throw new InputError('CPUID leaf 0x1 is missing', where);
  const features = decodeFeatures(leaves);
  const vendor = meta.vendor ?? vendorOf(leaves);
  if (!features.xsave) throw new InputError('this CPU has no XSAVE (CPUID.1:ECX[26] is 0)', where);
  const d0 = cpuid(leaves, 0xd, 0);
  if (!d0) throw new InputError('CPUID leaf 0xD sub-leaf 0 is missing', where);
  const d1 = cpuid(leaves, 0xd, 1);
  const warnings: string[] = [];
  let xcr0Supported = (BigInt(d0[EDX] >>> 0) << 32n) | BigInt(d0[EAX] >>> 0);
  let xssSupported = d1 ? (BigInt(d1[EDX] >>> 0) << 32n) | BigInt(d1[ECX] >>> 0) : 0n;
  if ((xcr0Supported & 3n) !== 3n) {
    throw new InputError(`CPUID 0xD.0 EAX=${hex(d0[EAX])} lacks x87 and SSE (bits 0 and 1 must be supported)`, where);
  }
  const table = isAmdLike(vendor) ? AMD_GEOMETRY : INTEL_GEOMETRY;
  const components: ComponentGeometry[] = [];
  for (const i of bitsOf(xcr0Supported | xssSupported)) {
    if (i < 2) continue;
    const sub = cpuid(leaves, 0xd, i);
    const userBit = hasBit(xcr0Supported, i);
    if (sub && (sub[EAX] | sub[EBX] | sub[ECX] | sub[EDX]) !== 0) {
      const ecx = sub[ECX] >>> 0;
      components.push({
        index: i,
        size: sub[EAX] >>> 0,
        offset: sub[EBX] >>> 0,
        supervisor: (ecx & 1) === 1,
        align64: (ecx & 2) === 2,
        xfd: (ecx & 4) === 4,
        inferred: false,
      });
      continue;
    }
    const g = table[i];
    const name = componentInfo(i).title;
    const gap = userBit ? gapForMissing(leaves, xcr0Supported, i, d0[ECX] >>> 0) : null;
    if (gap && g && ((g[2] & 1) === 1) === !userBit && gap.size >= g[0]) {
      // The CPU's own 0xD.0 ECX (size for every supported user feature) leaves exactly this room past the
      // known components: use it (Zen 2 reports PKRU as 64 bytes at 832, not the 8 bytes of the table).
      components.push({ index: i, size: gap.size, offset: gap.offset, supervisor: false, align64: (g[2] & 2) === 2, xfd: (g[2] & 4) === 4, inferred: true });
      warnings.push(`CPUID 0xD sub-leaf ${i} (${name}) is absent from the dump; placed at ${gap.offset}, ${gap.size} bytes, the room CPUID 0xD.0 ECX leaves`);
    } else if (g && ((g[2] & 1) === 1) === !userBit) {
      components.push({ index: i, size: g[0], offset: g[1], supervisor: (g[2] & 1) === 1, align64: (g[2] & 2) === 2, xfd: (g[2] & 4) === 4, inferred: true });
      warnings.push(`CPUID 0xD sub-leaf ${i} (${name}) is absent from the dump; used the architectural ${g[0]} bytes${g[1] ? ` at ${g[1]}` : ''}`);
    } else {
      warnings.push(`CPUID 0xD sub-leaf ${i} (${name}) is absent from the dump; component ${i} dropped`);
      if (userBit) xcr0Supported &= ~(1n << BigInt(i));
      else xssSupported &= ~(1n << BigInt(i));
    }
  }
  const fms = l1[EAX] >>> 0;
  const baseFamily = (fms >>> 8) & 0xf;
  const family = baseFamily === 0xf ? baseFamily + ((fms >>> 20) & 0xff) : baseFamily;
  const model = baseFamily === 0x6 || baseFamily === 0xf ? (((fms >>> 16) & 0xf) << 4) | ((fms >>> 4) & 0xf) : (fms >>> 4) & 0xf;
  const amd = isAmdLike(vendor);
  const quirks: CpuQuirks = {
    // AMD parts with misaligned-SSE mode make MXCSR.MM (bit 17) writable, so MXCSR_MASK is 0x2FFFF.
    mxcsrMask: amd && features.misalignSse ? 0x2ffff : 0xffff,
    xfdRestore: 'nm',
    x87PointersOnlyWithEs: amd && !features.xsaveErPtr,
    // Measured on AMD Zen 3 (test/hw): XRSTOR of an all-zero image with XSTATE_BV[i] = 1 leaves XINUSE[i] = 0.
    // Intel: XINUSE[i] = 1 whatever the value, as the SDM's operation of XRSTOR says (measured on an
    // Intel SPR-class VM by test/hw for x87, SSE, AVX, AVX-512 and TILEDATA; TILECFG is TILES_CONFIGURED,
    // see restore() in xsave/instructions.ts).
    xinuseAfterLoad: amd ? 'value' : 'sticky',
    // Measured on AMD Zen 3 and on an Intel SPR-class VM (test/hw).
    xgetbv1SseIncludesMxcsr: true,
    x87FdpCanonical: amd,
    x87PointersZeroWithoutEs: amd && features.xsaveErPtr,
    modifiedOptimization: true,
    pkruInitTracking: amd,
    ...meta.quirks,
  };
  const profile: CpuProfile = {
    id: meta.id,
    vendor,
    brand: meta.brand ?? brandOf(leaves),
    signature: fms.toString(16).toUpperCase().padStart(8, '0'),
    family,
    model,
    stepping: fms & 0xf,
    source: meta.source,
    leaves,
    features,
    xcr0Supported,
    xssSupported,
    components,
    quirks,
    dumpSizes: { leaf0Ebx: d0[EBX] >>> 0, leaf0Ecx: d0[ECX] >>> 0, leaf1Ebx: d1 ? d1[EBX] >>> 0 : null },
    warnings,
  };
  return profile;
}

/** CPUID.(0xD,1).EAX feature bit helpers used by the instruction model. */
export function leafD1Eax(p: CpuProfile): number {
  return reg(p.leaves, 0xd, 1, EAX);
}
