/**
 * Linux's boot-time XSTATE configuration as a function of (CPU profile, kernel version): the
 * equivalent of fpu__init_system_xstate() (arch/x86/kernel/fpu/xstate.c) from 4.0 to 6.18, i.e.
 * fpu_kernel_cfg / fpu_user_cfg, the buffer format, XCR0 and IA32_XSS. The version rules live in
 * xstate-history.ts; the boot lines that follow from this are in bootlog.ts.
 */
import { CpuProfile } from '../../arch/profile.js';
import { xstateSizeForMask } from '../../arch/layout.js';
import { geometryOf } from '../../arch/geometry.js';
import { bitsOf, hasBit, hex } from '../../arch/mask.js';
import { componentInfo } from '../../arch/components.js';
import { BootCaps, bootCaps, BootOptions } from './boot-caps.js';
import { atLeast, KernelVersion, toKernelVersion } from './kernel-version.js';
import {
  BootCpuCaps,
  CAP_SOURCE,
  compactsWithXsavec,
  gatingCap,
  guestOnlySupervisor,
  hasDynamicFeatures,
  independentFeatures,
  INIT_FPSTATE_REGS_SIZE,
  mask,
  readsSupervisorStates,
  supervisorSupported,
  userSupported,
  XFEATURE,
  XFEATURE_MASK_FPSSE,
  XFEATURE_MASK_MPX,
  XFEATURE_MASK_USER_DYNAMIC,
} from './xstate-history.js';

export type { BootOptions } from './boot-caps.js';

/** struct fpu_state_config (5.16+; older kernels had the same numbers under other names). */
export interface FpuStateConfig {
  maxFeatures: bigint;
  defaultFeatures: bigint;
  maxSize: number;
  defaultSize: number;
}

export interface DroppedFeature {
  bit: number;
  reason: string;
}

export type SaveInstruction = 'XSAVES' | 'XSAVEC' | 'XSAVEOPT' | 'XSAVE' | 'FXSAVE';

export interface XstateConfig {
  kernel: KernelVersion;
  caps: BootCaps;
  /** XSAVE in use after boot (false with noxsave, without XSAVE, or when init gave up). */
  useXsave: boolean;
  /** The x86/fpu lines printed when init gave up on XSAVE (APX+MPX, buffer too small...); else null. */
  failure: string[] | null;
  /** XSAVES as FPU init saw it: decides the format, the sizes and IA32_XSS. */
  xsavesAtInit: boolean;
  /** X86_FEATURE_XCOMPACTED (or XSAVES before 5.19): kernel buffers in compacted format. */
  compacted: boolean;
  /** The instruction os_xsave() ends up using (the XSTATE_XSAVE alternative). */
  saveInstruction: SaveInstruction;
  /** fpu_kernel_cfg: includes supervisor and dynamic features. */
  kernelCfg: FpuStateConfig;
  /** fpu_user_cfg: user features, standard (uncompacted) sizes. */
  userCfg: FpuStateConfig;
  /** fpu_kernel_cfg.independent_features (arch LBR), in IA32_XSS but not in task buffers. */
  independentFeatures: bigint;
  /** init_fpstate.xfd: the XFD value a fresh task runs with. */
  initXfd: bigint;
  /** What the kernel writes to XCR0 (XSETBV) and IA32_XSS. */
  xcr0: bigint;
  xss: bigint;
  /** Features the CPU enumerates that this kernel leaves out, with the reason. */
  dropped: DroppedFeature[];
  /** 4.2-4.9 print "Using 'eager'/'lazy' FPU context switches."; null for other versions. */
  contextSwitch: 'eager' | 'lazy' | null;
}

/** sizeof(struct fxregs_state): the legacy (FXSAVE) buffer. */
export const FXSAVE_SIZE = 512;
const XSAVE_HDR_END = 576;

function legacyCfg(): FpuStateConfig {
  return { maxFeatures: XFEATURE_MASK_FPSSE, defaultFeatures: XFEATURE_MASK_FPSSE, maxSize: FXSAVE_SIZE, defaultSize: FXSAVE_SIZE };
}

function standardSize(p: CpuProfile, m: bigint): number {
  return xstateSizeForMask(p, m, false);
}

/** Before 4.2 the XSAVES size was 576 plus the component sizes, with no alignment (xsave.c init_xstate_size). */
function pre42XsavesSize(p: CpuProfile, m: bigint): number {
  const g = geometryOf(p);
  return bitsOf(m)
    .filter((i) => i >= 2)
    .reduce((s, i) => s + g.size[i], XSAVE_HDR_END);
}

function kernelSize(p: CpuProfile, v: KernelVersion, m: bigint, compacted: boolean): number {
  if (!compacted) return standardSize(p, m);
  return atLeast(v, 4, 2) ? xstateSizeForMask(p, m, true) : pre42XsavesSize(p, m);
}

function featureName(bit: number): string {
  return `${componentInfo(bit).key} (bit ${bit})`;
}

/** The eager/lazy choice of fpu__init_system_ctx_switch(), 4.2-4.9 (4.6: "Default eagerfpu=on on all CPUs"). */
function contextSwitchMode(v: KernelVersion, caps: BootCpuCaps, xfeatures: bigint): 'eager' | 'lazy' | null {
  if (!atLeast(v, 4, 2) || atLeast(v, 4, 10)) return null;
  if (atLeast(v, 4, 6)) return 'eager';
  return caps.xsaveopt || (xfeatures & XFEATURE_MASK_MPX) !== 0n ? 'eager' : 'lazy';
}

function saveInstructionFor(v: KernelVersion, runtime: BootCpuCaps, useXsave: boolean): SaveInstruction {
  if (!useXsave) return 'FXSAVE';
  if (runtime.xsaves) return 'XSAVES';
  if (runtime.xsavec && compactsWithXsavec(v)) return 'XSAVEC';
  return runtime.xsaveopt ? 'XSAVEOPT' : 'XSAVE';
}

/** The configuration of a kernel that runs without XSAVE (FXSAVE only). */
function withoutXsave(v: KernelVersion, caps: BootCaps, failure: string[] | null, dropped: DroppedFeature[]): XstateConfig {
  return {
    kernel: v,
    caps,
    useXsave: false,
    failure,
    xsavesAtInit: false,
    compacted: false,
    saveInstruction: 'FXSAVE',
    kernelCfg: legacyCfg(),
    userCfg: legacyCfg(),
    independentFeatures: 0n,
    initXfd: 0n,
    xcr0: 0n,
    xss: 0n,
    dropped,
    contextSwitch: contextSwitchMode(v, caps.atInit, 0n),
  };
}

/** The lines of a failed init: the reason, then (6.16+, with the APX series) "x86/fpu: XSAVE disabled". */
function giveUp(v: KernelVersion, reason: string | null): string[] {
  const lines = reason === null ? [] : [reason];
  if (atLeast(v, 6, 16)) lines.push('x86/fpu: XSAVE disabled');
  return lines;
}

/**
 * The C struct sizes check_xstate_against_struct() compares CPUID with. From 5.16 a mismatch makes
 * paranoid_xstate_size_valid() fail and XSAVE is disabled (before, it only warned). The WARN text has
 * no x86/fpu prefix. Returns the first mismatching bit, or null.
 */
const STRUCT_SIZE: Readonly<Record<number, number>> = {
  [XFEATURE.YMM]: 256,
  [XFEATURE.BNDREGS]: 64,
  [XFEATURE.BNDCSR]: 64,
  [XFEATURE.OPMASK]: 64,
  [XFEATURE.ZMM_Hi256]: 512,
  [XFEATURE.Hi16_ZMM]: 1024,
  [XFEATURE.PKRU]: 8,
  [XFEATURE.PASID]: 8,
  [XFEATURE.CET_USER]: 16,
  [XFEATURE.CET_KERNEL]: 24,
  [XFEATURE.XTILE_CFG]: 64,
  [XFEATURE.APX]: 128,
};

function structSizeMismatch(p: CpuProfile, v: KernelVersion, m: bigint): number | null {
  if (!atLeast(v, 5, 16)) return null;
  const g = geometryOf(p);
  for (const bit of bitsOf(m)) {
    const want = STRUCT_SIZE[bit];
    if (want !== undefined && g.size[bit] !== want) return bit;
  }
  return null;
}

/**
 * fpu__init_system_xstate() for `profile` under Linux `version` (text or parsed; bad text throws an
 * InputError naming `--kernel`).
 */
export function xstateConfig(profile: CpuProfile, version: KernelVersion | string, opts: BootOptions = {}): XstateConfig {
  const v = toKernelVersion(version);
  const caps = bootCaps(profile, v, opts);
  const c = caps.atInit;
  const dropped: DroppedFeature[] = [];
  if (!c.xsave) return withoutXsave(v, caps, null, dropped);

  // Enumeration: CPUID.(0xD,0) always, CPUID.(0xD,1):ECX (supervisor states) from 5.8.
  const enumerated = profile.xcr0Supported | (readsSupervisorStates(v) ? profile.xssSupported : 0n);
  if (atLeast(v, 6, 16) && hasBit(enumerated, XFEATURE.APX) && (enumerated & XFEATURE_MASK_MPX) !== 0n) {
    // 6.16 "x86/fpu/apx: Disallow conflicting MPX presence", checked on the raw enumeration.
    return withoutXsave(v, caps, giveUp(v, `x86/fpu: Both APX/MPX present in the CPU's xstate features: ${hex(enumerated)}.`), dropped);
  }
  let max = enumerated;
  const drop = (bit: number, reason: string): void => {
    if (!hasBit(max, bit)) return;
    max &= ~(1n << BigInt(bit));
    dropped.push({ bit, reason: `${featureName(bit)}: ${reason}` });
  };
  // xsave_cpuid_features[]: a feature goes when its CPUID flag is absent.
  for (const bit of bitsOf(max)) {
    const cap = gatingCap(v, bit);
    if (cap && !c[cap]) drop(bit, `${CAP_SOURCE[cap]} is not set`);
  }
  if (hasDynamicFeatures(v) && !c.xfd) for (const bit of bitsOf(XFEATURE_MASK_USER_DYNAMIC)) drop(bit, 'no XFD, dynamic features need it');
  // 5.19+: without XSAVES only user features (8ad7e8f69695); before, supervisor states needed XSAVES anyway.
  const supervisor = supervisorSupported(v);
  const supported = userSupported(v) | (compactsWithXsavec(v) && !c.xsaves ? 0n : supervisor);
  for (const bit of bitsOf(max & ~supported)) {
    let why = `not supported by Linux ${v.text}`;
    if (hasBit(supervisor, bit)) why = 'supervisor state needs XSAVES';
    else if (bit === XFEATURE.LBR) why = 'independent feature (arch LBR), never in task buffers';
    drop(bit, why);
  }
  // 5.16-5.18 paranoid_xstate_size_valid(): a supervisor state without XSAVES, or a CPUID size that is
  // not the C struct's, disables XSAVE (with a WARN that has no x86/fpu prefix).
  const supervisorWithoutXsaves = !c.xsaves && (max & supervisor) !== 0n && atLeast(v, 5, 16);
  if (supervisorWithoutXsaves || structSizeMismatch(profile, v, max) !== null) return withoutXsave(v, caps, giveUp(v, null), dropped);

  const userMax = max & userSupported(v);
  const dynamic = hasDynamicFeatures(v) ? XFEATURE_MASK_USER_DYNAMIC : 0n;
  const kernelDefault = max & ~dynamic & ~guestOnlySupervisor(v);
  const userDefault = userMax & ~dynamic;
  const compacted = c.xsaves || (compactsWithXsavec(v) && c.xsavec);
  const kernelCfg: FpuStateConfig = {
    maxFeatures: max,
    defaultFeatures: kernelDefault,
    maxSize: kernelSize(profile, v, max, compacted),
    defaultSize: kernelSize(profile, v, kernelDefault, compacted),
  };
  // Before 4.2 the XSAVES-compacted size was also the signal-frame size (xstate_size).
  const userMaxSize = !atLeast(v, 4, 2) && compacted ? kernelCfg.maxSize : standardSize(profile, userMax);
  const userCfg: FpuStateConfig = {
    maxFeatures: userMax,
    defaultFeatures: userDefault,
    maxSize: userMaxSize,
    defaultSize: hasDynamicFeatures(v) ? standardSize(profile, userDefault) : userMaxSize,
  };
  if (atLeast(v, 4, 4) && kernelCfg.defaultSize > INIT_FPSTATE_REGS_SIZE) {
    const line = atLeast(v, 6, 16)
      ? `x86/fpu: init_fpstate buffer too small (${INIT_FPSTATE_REGS_SIZE} < ${kernelCfg.defaultSize})`
      : `x86/fpu: xstate buffer too small (${INIT_FPSTATE_REGS_SIZE} < ${kernelCfg.defaultSize}), disabling xsave`;
    return withoutXsave(v, caps, giveUp(v, line), dropped);
  }
  const indep = c.xsaves ? independentFeatures(v, c, profile.xssSupported) : 0n;
  return {
    kernel: v,
    caps,
    useXsave: true,
    failure: null,
    xsavesAtInit: c.xsaves,
    compacted,
    saveInstruction: saveInstructionFor(v, caps.runtime, true),
    kernelCfg,
    userCfg,
    independentFeatures: indep,
    initXfd: userMax & dynamic,
    xcr0: userMax,
    xss: c.xsaves && readsSupervisorStates(v) ? (max & ~userSupported(v)) | indep : 0n,
    dropped,
    contextSwitch: contextSwitchMode(v, c, userMax),
  };
}

/** Bits of `m` as the component keys, for messages and tests. */
export function featureKeys(m: bigint): string[] {
  return bitsOf(m).map((i) => componentInfo(i).key);
}

export { mask };
