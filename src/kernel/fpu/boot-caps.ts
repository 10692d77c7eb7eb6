/**
 * The boot CPU capabilities as Linux's FPU init sees them: CPUID, minus what boot parameters, the
 * kernel version and CPU errata clear, with the dependencies of arch/x86/kernel/cpu/cpuid-deps.c (4.15+).
 */
import { CpuProfile } from '../../arch/profile.js';
import { atLeast, KernelVersion } from './kernel-version.js';
import {
  BootCpuCaps,
  CapName,
  ERRATUM_1386_FIXED_MICROCODE,
  enqcmdUsable,
  erratum1386Clears,
  erratum1386MicrocodeCheck,
  fpuInitAfterIdentify,
  xsavesDisabledByKernel,
} from './xstate-history.js';

/** Kernel command-line options and facts that a CPUID dump does not carry. */
export interface BootOptions {
  /** `noxsave`: no XSAVE at all (and every feature that needs it). */
  noxsave?: boolean;
  /** `noxsaves`: no XSAVES (supervisor states then disappear). */
  noxsaves?: boolean;
  /** `noxsaveopt`. */
  noxsaveopt?: boolean;
  /** `nopku` (or CONFIG_X86_INTEL_MEMORY_PROTECTION_KEYS=n): no PKRU xstate. */
  nopku?: boolean;
  /**
   * Microcode revision of the boot CPU, for the 6.10+ erratum 1386 check on AMD family 0x17. Unknown
   * (the default, as for most VMs) counts as "no fix": XSAVES is cleared.
   */
  microcode?: number;
}

export interface BootCaps {
  /** What fpu__init_system_xstate() saw. */
  atInit: BootCpuCaps;
  /** What the kernel runs with afterwards (alternatives, later CPUs). */
  runtime: BootCpuCaps;
  /** One sentence per capability a rule removed. */
  notes: string[];
}

/** cpuid-deps.c entries that matter here: [feature, what it depends on, first version]. */
const DEPENDENCIES: ReadonlyArray<readonly [CapName, CapName, number, number]> = [
  ['xsaveopt', 'xsave', 4, 15],
  ['xsavec', 'xsave', 4, 15],
  ['xsaves', 'xsave', 4, 15],
  ['xgetbv1', 'xsave', 4, 15],
  ['avx', 'xsave', 4, 15],
  ['avx512f', 'avx', 4, 15],
  ['mpx', 'xsave', 4, 15],
  ['pku', 'xsave', 4, 15],
  // 5.16 AMX enabling: XFD needs XSAVES and XGETBV1, AMX needs XFD.
  ['xfd', 'xsaves', 5, 16],
  ['xfd', 'xgetbv1', 5, 16],
  ['amxTile', 'xfd', 5, 16],
  // 6.6 user shadow stacks: { X86_FEATURE_SHSTK, X86_FEATURE_XSAVES }.
  ['shstk', 'xsaves', 6, 6],
];

function fromCpuid(p: CpuProfile): BootCpuCaps {
  const f = p.features;
  return {
    fxsr: f.fxsr,
    xsave: f.xsave,
    xsaveopt: f.xsaveopt,
    xsavec: f.xsavec,
    xsaves: f.xsaves,
    xgetbv1: f.xgetbv1,
    xfd: f.xfd,
    avx: f.avx,
    avx512f: f.avx512f,
    mpx: f.mpx,
    intelPt: f.intelPt,
    pku: f.pku,
    enqcmd: f.enqcmd,
    shstk: f.cetSs,
    amxTile: f.amxTile,
    apx: f.apx,
    archLbr: f.archLbr,
  };
}

/** clear_cpu_cap() with the dependency walk of do_clear_cpu_cap(). */
function clearCap(v: KernelVersion, caps: BootCpuCaps, cap: CapName): void {
  caps[cap] = false;
  let changed = true;
  while (changed) {
    changed = false;
    for (const [feature, needs, major, minor] of DEPENDENCIES) {
      if (caps[feature] && !caps[needs] && atLeast(v, major, minor)) {
        caps[feature] = false;
        changed = true;
      }
    }
  }
}

function erratum1386Fixed(p: CpuProfile, microcode: number | undefined): boolean {
  if (microcode === undefined) return false;
  return ERRATUM_1386_FIXED_MICROCODE.some(([fam, model, step, rev]) => p.family === fam && p.model === model && p.stepping === step && microcode >= rev);
}

export function bootCaps(p: CpuProfile, v: KernelVersion, opts: BootOptions = {}): BootCaps {
  const caps = fromCpuid(p);
  const notes: string[] = [];
  const clear = (cap: CapName, why: string): void => {
    if (!caps[cap]) return;
    clearCap(v, caps, cap);
    notes.push(why);
  };
  // fpu__xstate_clear_all_cpu_caps() / cpuid-deps: noxsave takes every XSAVE-based feature with it.
  if (opts.noxsave) {
    for (const c of ['xsave', 'xsaveopt', 'xsavec', 'xsaves', 'xgetbv1', 'xfd', 'avx', 'avx512f', 'mpx', 'pku', 'amxTile', 'shstk', 'apx'] as const) caps[c] = false;
    notes.push('noxsave: XSAVE and the features that need it are off');
  }
  if (opts.noxsaves) clear('xsaves', 'noxsaves: XSAVES is off');
  if (opts.noxsaveopt) clear('xsaveopt', 'noxsaveopt: XSAVEOPT is off');
  if (opts.nopku) clear('pku', 'nopku: PKU is off');
  if (xsavesDisabledByKernel(v)) clear('xsaves', `Linux ${v.text} does not use XSAVES (disabled from 4.2 to 4.7)`);
  if (!enqcmdUsable(v)) caps.enqcmd = false;
  // Apply the generic dependencies once for CPUID values that are already inconsistent (VMs).
  for (const [feature, needs, major, minor] of DEPENDENCIES) {
    if (caps[feature] && !caps[needs] && atLeast(v, major, minor)) clear(feature, `${feature} depends on ${needs} (cpuid-deps)`);
  }
  const atInit = { ...caps };
  const amdZen12 = p.vendor === 'AuthenticAMD' && p.family === 0x17;
  if (amdZen12 && caps.xsaves && erratum1386Clears(v) && !(erratum1386MicrocodeCheck(v) && erratum1386Fixed(p, opts.microcode))) {
    const runtime = { ...caps };
    clearCap(v, runtime, 'xsaves');
    if (fpuInitAfterIdentify(v)) {
      clearCap(v, atInit, 'xsaves');
      notes.push('AMD erratum 1386: XSAVES cleared on family 0x17 before FPU init');
    } else {
      notes.push('AMD erratum 1386: XSAVES cleared on family 0x17 after FPU init (the boot lines still reflect XSAVES)');
    }
    return { atInit, runtime, notes };
  }
  return { atInit, runtime: { ...caps }, notes };
}
