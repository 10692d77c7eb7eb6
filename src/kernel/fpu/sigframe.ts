/**
 * Signal-frame sizes on x86-64 Linux: the task's xstate in the frame (fpu__alloc_mathframe,
 * arch/x86/kernel/fpu/signal.c), the stack a 64-bit rt frame takes (get_sigframe, align_sigframe,
 * arch/x86/kernel/signal.c), and AT_MINSIGSTKSZ = get_sigframe_size() (5.14+).
 */
import { CpuProfile } from '../../arch/profile.js';
import { InputError } from '../../arch/errors.js';
import { xcr0Problem, xstateSizeForMask } from '../../arch/layout.js';
import { hex } from '../../arch/mask.js';
import { BootOptions, xstateConfig, XstateConfig } from './xstate-config.js';
import { atLeast, KernelVersion, toKernelVersion } from './kernel-version.js';
import { XFEATURE_MASK_USER_DYNAMIC } from './xstate-history.js';

/** sizeof(struct rt_sigframe) on x86-64: pretcode 8 + struct ucontext 304 + struct siginfo 128. */
export const SIZEOF_RT_SIGFRAME = 440;
/** sizeof(struct sigframe_ia32): 732 bytes of members, padded to 8 (the u64 in _fpx_sw_bytes). */
export const SIZEOF_SIGFRAME_IA32 = 736;
/** sizeof(struct fregs_state): the 32-bit fsave header in front of ia32 frames. */
export const SIZEOF_FREGS_STATE = 112;
/** FP_XSTATE_MAGIC2 after the xstate image. */
export const FP_XSTATE_MAGIC2_SIZE = 4;
/** x86 ABI stack alignment (FRAME_ALIGNMENT) and the padding get_sigframe_size() allows for it. */
export const FRAME_ALIGNMENT = 16;
const MAX_FRAME_PADDING = FRAME_ALIGNMENT - 1;
/** The xsave image is 64-byte aligned: MAX_XSAVE_PADDING. */
const MAX_XSAVE_PADDING = 63;
/** <signal.h> MINSIGSTKSZ, what programs had before AT_MINSIGSTKSZ. */
export const LEGACY_MINSIGSTKSZ = 2048;

export interface SigframeOptions extends BootOptions {
  /** XCR0 to assume instead of what the kernel enables (must be valid for the CPU). */
  xcr0?: bigint;
  /** Dynamic features (AMX TILE_DATA) the process was granted with ARCH_REQ_XCOMP_PERM and has used. */
  granted?: bigint;
  /** CONFIG_IA32_EMULATION (default true): AT_MINSIGSTKSZ then covers ia32 frames too. */
  ia32Emulation?: boolean;
}

export interface SigframeSizes {
  kernel: KernelVersion;
  /** fpstate->user_xfeatures of the task. */
  userFeatures: bigint;
  /** fpstate->user_size: the standard-format xstate the frame carries. */
  xstateSize: number;
  /** xstate_sigframe_size(): xstateSize + 4 (FP_XSTATE_MAGIC2) with XSAVE. */
  fpuFrameSize: number;
  /**
   * Worst-case bytes below the top of the (alternate) stack that a 64-bit rt frame takes:
   * fpuFrameSize + 63 (buf_fx rounded down to 64) + 456 (struct rt_sigframe, 440, placed at
   * round_down(buf_fx - 440, 16) - 8; buf_fx being 64-aligned that is exactly buf_fx - 456).
   * On the normal stack the 128-byte red zone comes on top.
   */
  frameSize: number;
  /** The same when the stack top minus fpuFrameSize is already 64-byte aligned. */
  frameSizeBest: number;
  /** fpu__get_fpstate_size(): user max size + 4 (XSAVE) + sizeof(fregs_state) (IA32 emulation). */
  fpstateSize: number;
  /** getauxval(AT_MINSIGSTKSZ) = get_sigframe_size(); null before 5.14 (no such auxv entry on x86). */
  atMinSigStkSz: number | null;
  /** atMinSigStkSz, or the <signal.h> constant 2048 where the kernel gives none. */
  minSigStkSz: number;
}

const roundUp = (n: number, a: number): number => Math.ceil(n / a) * a;
const roundDown = (n: number, a: number): number => Math.floor(n / a) * a;

/** Bytes from a 64-byte aligned buf_fx down to the rt frame: align_sigframe(buf_fx - 440). */
function rtFrameBelowMath(): number {
  const bufFx = 1 << 20; // any multiple of 64
  const sp = roundDown(bufFx - SIZEOF_RT_SIGFRAME, FRAME_ALIGNMENT) - 8;
  return bufFx - sp;
}

function userMaxFeatures(profile: CpuProfile, cfg: XstateConfig, xcr0: bigint | undefined): bigint {
  if (xcr0 === undefined || !cfg.useXsave) return cfg.userCfg.maxFeatures;
  const problem = xcr0Problem(profile, xcr0);
  if (problem) throw new InputError(`XCR0 ${hex(xcr0)} is invalid on ${profile.id}: ${problem}`, '--xcr0');
  return xcr0;
}

function userMaxSize(profile: CpuProfile, cfg: XstateConfig, userMax: bigint, overridden: boolean): number {
  if (!cfg.useXsave) return cfg.userCfg.maxSize;
  return overridden ? xstateSizeForMask(profile, userMax, false) : cfg.userCfg.maxSize;
}

/** get_sigframe_size() of a configuration, given fpu_user_cfg.max_size. */
function sigframeSize(cfg: XstateConfig, userMax: number, ia32: boolean): number | null {
  if (!atLeast(cfg.kernel, 5, 14)) return null;
  const fpstate = userMax + (cfg.useXsave ? FP_XSTATE_MAGIC2_SIZE : 0) + (ia32 && cfg.caps.atInit.fxsr ? SIZEOF_FREGS_STATE : 0);
  const uctxt = ia32 ? SIZEOF_SIGFRAME_IA32 : SIZEOF_RT_SIGFRAME;
  return roundUp(uctxt + MAX_FRAME_PADDING + fpstate + MAX_XSAVE_PADDING, FRAME_ALIGNMENT);
}

/** The sizes for a task of `profile` under Linux `version`. */
export function sigframeSizes(profile: CpuProfile, version: KernelVersion | string, opts: SigframeOptions = {}): SigframeSizes {
  const v = toKernelVersion(version);
  const cfg = xstateConfig(profile, v, opts);
  const ia32 = opts.ia32Emulation ?? true;
  const userMax = userMaxFeatures(profile, cfg, opts.xcr0);
  const maxSize = userMaxSize(profile, cfg, userMax, opts.xcr0 !== undefined);
  const dynamic = atLeast(v, 5, 16) && cfg.useXsave ? XFEATURE_MASK_USER_DYNAMIC & userMax : 0n;
  const granted = opts.granted ?? 0n;
  if (granted & ~dynamic) {
    throw new InputError(`cannot grant ${hex(granted & ~dynamic)}: the dynamic features of Linux ${v.text} here are ${hex(dynamic)}`, '--grant');
  }
  const userFeatures = cfg.useXsave ? (userMax & ~dynamic) | granted : cfg.userCfg.maxFeatures;
  let xstateSize: number;
  if (!cfg.useXsave) xstateSize = cfg.userCfg.maxSize;
  else if (userFeatures === userMax) xstateSize = maxSize;
  else xstateSize = xstateSizeForMask(profile, userFeatures, false);
  const fpuFrameSize = xstateSize + (cfg.useXsave ? FP_XSTATE_MAGIC2_SIZE : 0);
  const below = rtFrameBelowMath();
  const at = sigframeSize(cfg, maxSize, ia32);
  return {
    kernel: v,
    userFeatures,
    xstateSize,
    fpuFrameSize,
    frameSize: fpuFrameSize + MAX_XSAVE_PADDING + below,
    frameSizeBest: fpuFrameSize + below,
    fpstateSize: maxSize + (cfg.useXsave ? FP_XSTATE_MAGIC2_SIZE : 0) + (ia32 && cfg.caps.atInit.fxsr ? SIZEOF_FREGS_STATE : 0),
    atMinSigStkSz: at,
    minSigStkSz: at ?? LEGACY_MINSIGSTKSZ,
  };
}

/** getauxval(AT_MINSIGSTKSZ) (= the "signal: max sigframe size" line), or null before 5.14. */
export function atMinSigStkSz(profile: CpuProfile, version: KernelVersion | string, opts: SigframeOptions = {}): number | null {
  return sigframeSizes(profile, version, opts).atMinSigStkSz;
}

/**
 * The smallest sigaltstack (sas_ss_size) that lets ARCH_REQ_XCOMP_PERM for `requested` succeed
 * (validate_sigaltstack(), 5.16+): get_sigframe_size() - fpu_user_cfg.max_size + usize, usize being
 * the standard size of the permitted | requested user features. A thread whose installed stack is
 * smaller makes the request fail with -ENOSPC. Null before 5.16 (no dynamic features).
 */
export function minSigaltstackForPermission(profile: CpuProfile, version: KernelVersion | string, requested: bigint, opts: SigframeOptions = {}): number | null {
  const s = sigframeSizes(profile, version, opts);
  if (!atLeast(s.kernel, 5, 16) || s.atMinSigStkSz === null) return null;
  const cfg = xstateConfig(profile, s.kernel, opts);
  const userMax = userMaxFeatures(profile, cfg, opts.xcr0);
  const maxSize = userMaxSize(profile, cfg, userMax, opts.xcr0 !== undefined);
  if (requested & ~userMax) throw new InputError(`requested features ${hex(requested & ~userMax)} are not enabled`, '--grant');
  const usize = xstateSizeForMask(profile, s.userFeatures | requested, false);
  return s.atMinSigStkSz - maxSize + usize;
}
