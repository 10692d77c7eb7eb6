/**
 * The facts of arch/x86/kernel/fpu/xstate.c (and its neighbours) that changed between Linux 4.0 and
 * 6.18, as data. Every boundary cites the commit or the source version it was read from; see
 * docs/linux-boot-lines.md for the evidence. Versions are mainline releases unless a stable table says
 * otherwise.
 */
import { atLeast, hasChange, KernelVersion } from './kernel-version.js';

/** enum xfeature (arch/x86/include/asm/fpu/types.h). */
export const XFEATURE = {
  FP: 0,
  SSE: 1,
  YMM: 2,
  BNDREGS: 3,
  BNDCSR: 4,
  OPMASK: 5,
  ZMM_Hi256: 6,
  Hi16_ZMM: 7,
  PT: 8,
  PKRU: 9,
  PASID: 10,
  CET_USER: 11,
  CET_KERNEL: 12,
  LBR: 15,
  XTILE_CFG: 17,
  XTILE_DATA: 18,
  APX: 19,
} as const;

export const mask = (...bits: number[]): bigint => bits.reduce((m, b) => m | (1n << BigInt(b)), 0n);

export const XFEATURE_MASK_FPSSE = mask(XFEATURE.FP, XFEATURE.SSE);
export const XFEATURE_MASK_MPX = mask(XFEATURE.BNDREGS, XFEATURE.BNDCSR);
export const XFEATURE_MASK_AVX512 = mask(XFEATURE.OPMASK, XFEATURE.ZMM_Hi256, XFEATURE.Hi16_ZMM);
export const XFEATURE_MASK_XTILE = mask(XFEATURE.XTILE_CFG, XFEATURE.XTILE_DATA);
/** Features a process must request (ARCH_REQ_XCOMP_PERM) before use: XFEATURE_MASK_USER_DYNAMIC (5.16+). */
export const XFEATURE_MASK_USER_DYNAMIC = mask(XFEATURE.XTILE_DATA);
/** XFEATURE_MASK_INDEPENDENT: supervisor state not kept in task buffers (arch LBR). */
export const XFEATURE_MASK_INDEPENDENT = mask(XFEATURE.LBR);

/**
 * XFEATURE_MASK_USER_SUPPORTED (XCNTXT_MASK before 5.x):
 *  - FP, SSE, YMM, AVX-512, MPX ("eager" features) in 4.0 (XCNTXT_MASK, arch/x86/kernel/xsave.c era);
 *  - + PKRU with protection keys, 4.6 (x86/pkeys; "Protection Keys User registers" name);
 *  - + XTILE_CFG/XTILE_DATA with AMX, 5.16 (tglx/Chang Bae AMX series, fpu_kernel_cfg rework);
 *  - + APX, 6.16 (50c5b071e283 "x86/fpu/apx: Enable APX state support", tip x86/fpu 2025-04-16).
 * MPX stays supported after the MPX removal in 5.6 (6.17 boot logs still print 'MPX bounds registers').
 */
export function userSupported(v: KernelVersion): bigint {
  let m = XFEATURE_MASK_FPSSE | mask(XFEATURE.YMM) | XFEATURE_MASK_MPX | XFEATURE_MASK_AVX512;
  if (atLeast(v, 4, 6)) m |= mask(XFEATURE.PKRU);
  if (atLeast(v, 5, 16)) m |= XFEATURE_MASK_XTILE;
  if (atLeast(v, 6, 16)) m |= mask(XFEATURE.APX);
  return m;
}

/**
 * XFEATURE_MASK_SUPERVISOR_SUPPORTED (introduced, empty, with XSAVES supervisor support in 5.8,
 * x86-fpu-2020-06-01):
 *  - + PASID, 5.10 (ENQCMD enabling, "x86/fpu/xstate: Add supervisor PASID state for ENQCMD");
 *  - + CET_USER, 6.6 (user shadow stacks, "x86/fpu/xstate: Introduce CET MSR and XSAVES supervisor states");
 *  - + CET_KERNEL as a guest-only feature, 6.17 (8b05b3c98816, tip x86/fpu 2025-06-24).
 */
export function supervisorSupported(v: KernelVersion): bigint {
  let m = 0n;
  if (atLeast(v, 5, 10)) m |= mask(XFEATURE.PASID);
  if (atLeast(v, 6, 6)) m |= mask(XFEATURE.CET_USER);
  if (atLeast(v, 6, 17)) m |= mask(XFEATURE.CET_KERNEL);
  return m;
}

/** XFEATURE_MASK_GUEST_SUPERVISOR (6.17, 8b05b3c98816): in fpu_kernel_cfg.max_features, not in task buffers. */
export function guestOnlySupervisor(v: KernelVersion): bigint {
  return atLeast(v, 6, 17) ? mask(XFEATURE.CET_KERNEL) : 0n;
}

/** The boot CPU capabilities that fpu__init_system_xstate() looks at (boot_cpu_has()). */
export interface BootCpuCaps {
  fxsr: boolean;
  xsave: boolean;
  xsaveopt: boolean;
  xsavec: boolean;
  xsaves: boolean;
  xgetbv1: boolean;
  xfd: boolean;
  avx: boolean;
  avx512f: boolean;
  mpx: boolean;
  intelPt: boolean;
  /** X86_FEATURE_PKU (X86_FEATURE_OSPKE in recent xsave_cpuid_features; equal with CONFIG_X86_INTEL_MEMORY_PROTECTION_KEYS=y). */
  pku: boolean;
  enqcmd: boolean;
  shstk: boolean;
  amxTile: boolean;
  apx: boolean;
  archLbr: boolean;
}

export type CapName = keyof BootCpuCaps;

/** Where each capability comes from, for explanations. */
export const CAP_SOURCE: Readonly<Record<CapName, string>> = {
  fxsr: 'X86_FEATURE_FXSR (CPUID.1:EDX[24])',
  xsave: 'X86_FEATURE_XSAVE (CPUID.1:ECX[26])',
  xsaveopt: 'X86_FEATURE_XSAVEOPT (CPUID.0xD.1:EAX[0])',
  xsavec: 'X86_FEATURE_XSAVEC (CPUID.0xD.1:EAX[1])',
  xsaves: 'X86_FEATURE_XSAVES (CPUID.0xD.1:EAX[3])',
  xgetbv1: 'X86_FEATURE_XGETBV1 (CPUID.0xD.1:EAX[2])',
  xfd: 'X86_FEATURE_XFD (CPUID.0xD.1:EAX[4])',
  avx: 'X86_FEATURE_AVX (CPUID.1:ECX[28])',
  avx512f: 'X86_FEATURE_AVX512F (CPUID.7.0:EBX[16])',
  mpx: 'X86_FEATURE_MPX (CPUID.7.0:EBX[14])',
  intelPt: 'X86_FEATURE_INTEL_PT (CPUID.7.0:EBX[25])',
  pku: 'X86_FEATURE_PKU (CPUID.7.0:ECX[3])',
  enqcmd: 'X86_FEATURE_ENQCMD (CPUID.7.0:ECX[29])',
  shstk: 'X86_FEATURE_SHSTK (CPUID.7.0:ECX[7])',
  amxTile: 'X86_FEATURE_AMX_TILE (CPUID.7.0:EDX[24])',
  apx: 'X86_FEATURE_APX (CPUID.7.1:EDX[21])',
  archLbr: 'X86_FEATURE_ARCH_LBR (CPUID.7.0:EDX[19])',
};

/**
 * xsave_cpuid_features[]: the CPUID flag that gates each xfeature. The table exists from 4.15
 * (ccb18db2ab9d "x86/fpu: Make XSAVE check the base CPUID features before enabling", Andi Kleen's
 * clearcpuid series); before it, only XCNTXT_MASK filtered. Entries were added with their features:
 * PASID/ENQCMD 5.10, XTILE/AMX_TILE 5.16, CET_USER/SHSTK 6.6, APX 6.16, CET_KERNEL/SHSTK 6.17.
 * Returns null when the version's table has no entry for the bit (the feature is then dropped by the
 * *_SUPPORTED masks anyway).
 */
export function gatingCap(v: KernelVersion, bit: number): CapName | null {
  if (!atLeast(v, 4, 15)) return null;
  switch (bit) {
    case XFEATURE.YMM:
      return 'avx';
    case XFEATURE.BNDREGS:
    case XFEATURE.BNDCSR:
      return 'mpx';
    case XFEATURE.OPMASK:
    case XFEATURE.ZMM_Hi256:
    case XFEATURE.Hi16_ZMM:
      return 'avx512f';
    case XFEATURE.PT:
      return 'intelPt';
    case XFEATURE.PKRU:
      return 'pku';
    case XFEATURE.PASID:
      return atLeast(v, 5, 10) ? 'enqcmd' : null;
    case XFEATURE.CET_USER:
      return atLeast(v, 6, 6) ? 'shstk' : null;
    case XFEATURE.CET_KERNEL:
      return atLeast(v, 6, 17) ? 'shstk' : null;
    case XFEATURE.XTILE_CFG:
    case XFEATURE.XTILE_DATA:
      return atLeast(v, 5, 16) ? 'amxTile' : null;
    case XFEATURE.APX:
      return atLeast(v, 6, 16) ? 'apx' : null;
    default:
      return null;
  }
}

/**
 * XSAVES was switched off by the 4.2 FPU rewrite ("x86/fpu: Disable XSAVES* support for now") and
 * switched back on by b8be15d58806 ("x86/fpu/xstate: Re-enable XSAVES", Yu-cheng Yu, May 2016,
 * merged for 4.8 -- the release is inferred from the date). Real logs: Skylake (XSAVES-capable)
 * prints 'standard' on 4.2-4.5 and 'compacted' from 4.10.
 */
export function xsavesDisabledByKernel(v: KernelVersion): boolean {
  return atLeast(v, 4, 2) && !atLeast(v, 4, 8);
}

/**
 * X86_FEATURE_ENQCMD: usable from 5.10; force-disabled by 9bfecd058339 ("x86/cpufeatures: Force disable
 * X86_FEATURE_ENQCMD and remove update_pasid()", 5.13); re-enabled in 5.18 ("x86/cpufeatures:
 * Re-enable ENQCMD", lazy #GP fix-up). Assumes CONFIG_INTEL_IOMMU_SVM=y.
 */
export function enqcmdUsable(v: KernelVersion): boolean {
  return atLeast(v, 5, 10) && (!atLeast(v, 5, 13) || atLeast(v, 5, 18));
}

/**
 * AMD erratum 1386 (XSAVES may fail to save XMM on Zen1/Zen2): b0563468eeac "x86/CPU/AMD: Disable XSAVES
 * on AMD family 0x17" (6.3; stable 6.2.7, 6.1.20, 5.15.103, 5.10.175 -- the 5.4/4.19/4.14 backports
 * landed in init_amd_k6() and are no-ops, per the stable thread of 2023-10-20).
 */
export function erratum1386Clears(v: KernelVersion): boolean {
  return hasChange(v, [6, 3], { '6.2': 7, '6.1': 20, '5.15': 103, '5.10': 175 });
}

/**
 * 29ba89f18952 "x86/CPU/AMD: Improve the erratum 1386 workaround" (6.10): keep XSAVES on parts whose
 * microcode has the fix. [family, model, stepping, minimum microcode revision].
 */
export const ERRATUM_1386_FIXED_MICROCODE: ReadonlyArray<readonly [number, number, number, number]> = [
  [0x17, 0x01, 0x2, 0x0800126e],
  [0x17, 0x31, 0x0, 0x08301052],
];

export function erratum1386MicrocodeCheck(v: KernelVersion): boolean {
  return atLeast(v, 6, 10);
}

/**
 * Whether FPU init runs after identify_boot_cpu() (so after init_amd() cleared XSAVES):
 * b81fac906a8f "x86/fpu: Move FPU initialization into arch_cpu_finalize_init()" (6.5; part of the
 * Gather Data Sampling series, stable 6.4.9, 6.1.44, 5.15.125, 5.10.189, 5.4.252, 4.19.290, 4.14.321).
 * Before it, fpu__init_system() ran from early_identify_cpu() and saw the CPUID value.
 */
export function fpuInitAfterIdentify(v: KernelVersion): boolean {
  return hasChange(v, [6, 5], { '6.4': 9, '6.1': 44, '5.15': 125, '5.10': 189, '5.4': 252, '4.19': 290, '4.14': 321 });
}

/** XCOMPACTED: compacted kernel buffers with XSAVEC as well as XSAVES (8ad7e8f69695, tip 2022-04-25, 5.19). */
export function compactsWithXsavec(v: KernelVersion): boolean {
  return atLeast(v, 5, 19);
}

/** Supervisor xstates are read from CPUID.(0xD,1):ECX and kept in xfeatures_mask_all from 5.8. */
export function readsSupervisorStates(v: KernelVersion): boolean {
  return atLeast(v, 5, 8);
}

/**
 * Independent (arch LBR) features written to IA32_XSS: 5.9 ("x86/fpu/xstate: Support dynamic
 * supervisor feature for LBR"), whenever X86_FEATURE_ARCH_LBR; from 6.11 only if CPUID enumerates the
 * bit (Mitchell Levy, "x86/fpu: Avoid writing LBR bit to IA32_XSS unless supported").
 */
export function independentFeatures(v: KernelVersion, caps: BootCpuCaps, xssSupported: bigint): bigint {
  if (!atLeast(v, 5, 9) || !caps.archLbr) return 0n;
  return atLeast(v, 6, 11) ? xssSupported & XFEATURE_MASK_INDEPENDENT : XFEATURE_MASK_INDEPENDENT;
}

/** Dynamic features (AMX TILE_DATA, XFD) exist from 5.16. */
export function hasDynamicFeatures(v: KernelVersion): boolean {
  return atLeast(v, 5, 16);
}

/** init_xstate_size() refuses a (default) kernel buffer larger than the static init_fpstate regs (4.4+). */
export const INIT_FPSTATE_REGS_SIZE = 4096;
