/**
 * What the FPU code of one kernel works with at run time, computed once at "boot" from the CPU profile
 * and the kernel version (fpu__init_system_xstate, xstate-config.ts): the buffer format and the
 * instruction os_xsave() uses, fpu_kernel_cfg / fpu_user_cfg, XCR0, IA32_XSS and init_fpstate.xfd.
 * Masks are kept as lo/hi halves for the hot paths.
 */
import { CpuProfile } from '../../arch/profile.js';
import { hiOf, loOf } from '../../arch/mask.js';
import { KernelVersion, toKernelVersion } from './kernel-version.js';
import { BootOptions, SaveInstruction, xstateConfig, XstateConfig } from './xstate-config.js';
import { XFEATURE_MASK_USER_DYNAMIC } from './xstate-history.js';

export interface FpuConfig {
  version: KernelVersion;
  boot: XstateConfig;
  useXsave: boolean;
  /** Kernel buffers in compacted format (XSAVES, or XSAVEC from 5.19). */
  compacted: boolean;
  save: SaveInstruction;
  /** XRSTORS when the kernel saves with XSAVES, else XRSTOR (FXRSTOR without XSAVE). */
  restore: 'XRSTORS' | 'XRSTOR' | 'FXRSTOR';
  xcr0: bigint;
  xss: bigint;
  kernelMaxLo: number;
  kernelMaxHi: number;
  kernelDefaultLo: number;
  kernelDefaultHi: number;
  userMaxLo: number;
  userMaxHi: number;
  userDefaultLo: number;
  userDefaultHi: number;
  defaultSize: number;
  maxSize: number;
  userDefaultSize: number;
  userMaxSize: number;
  /** init_fpstate.xfd: dynamic features armed for a task that has not expanded its buffer. */
  initXfdLo: number;
  initXfdHi: number;
  /** XFEATURE_MASK_USER_DYNAMIC as enabled on this CPU (AMX TILEDATA, 5.16+). */
  dynamicLo: number;
  dynamicHi: number;
}

export function fpuConfig(p: CpuProfile, version: KernelVersion | string, opts: BootOptions = {}): FpuConfig {
  const v = toKernelVersion(version);
  const c = xstateConfig(p, v, opts);
  const km = c.kernelCfg.maxFeatures;
  const kd = c.kernelCfg.defaultFeatures;
  const um = c.userCfg.maxFeatures;
  const ud = c.userCfg.defaultFeatures;
  const dyn = um & XFEATURE_MASK_USER_DYNAMIC & ~ud;
  return {
    version: v,
    boot: c,
    useXsave: c.useXsave,
    compacted: c.compacted,
    save: c.saveInstruction,
    restore: !c.useXsave ? 'FXRSTOR' : c.saveInstruction === 'XSAVES' ? 'XRSTORS' : 'XRSTOR',
    xcr0: c.useXsave ? c.xcr0 : 3n,
    xss: c.xss,
    kernelMaxLo: loOf(km),
    kernelMaxHi: hiOf(km),
    kernelDefaultLo: loOf(kd),
    kernelDefaultHi: hiOf(kd),
    userMaxLo: loOf(um),
    userMaxHi: hiOf(um),
    userDefaultLo: loOf(ud),
    userDefaultHi: hiOf(ud),
    defaultSize: c.kernelCfg.defaultSize,
    maxSize: c.kernelCfg.maxSize,
    userDefaultSize: c.userCfg.defaultSize,
    userMaxSize: c.userCfg.maxSize,
    initXfdLo: loOf(c.initXfd),
    initXfdHi: hiOf(c.initXfd),
    dynamicLo: loOf(dyn),
    dynamicHi: hiOf(dyn),
  };
}
