/**
 * The FPU lines Linux prints at boot (`dmesg | grep x86/fpu`), per kernel version, from the
 * configuration computed by xstate-config.ts. Formats and their history: docs/linux-boot-lines.md.
 */
import { CpuProfile } from '../../arch/profile.js';
import { cpuid, EAX, EBX } from '../../arch/cpuid.js';
import { compactedOffset } from '../../arch/layout.js';
import { geometryOf } from '../../arch/geometry.js';
import { bitsOf, hiOf, loOf } from '../../arch/mask.js';
import { BootOptions, xstateConfig, XstateConfig } from './xstate-config.js';
import { atLeast, KernelVersion, toKernelVersion } from './kernel-version.js';
import { XFEATURE } from './xstate-history.js';
import { atMinSigStkSz } from './sigframe.js';

/**
 * xfeature_names[] as the version has it. Note the shifted AVX-512 names (index 6 is
 * "AVX-512 Hi256", index 7 "AVX-512 ZMM_Hi256"): that is the kernel's table. Indices past the end
 * fall back to the last entry, "unknown xstate feature" (cpu_has_xfeatures() clamps with min()).
 */
export function xfeatureNames(version: KernelVersion | string): string[] {
  const v = toKernelVersion(version);
  const names = ['x87 floating point registers', 'SSE registers', 'AVX registers', 'MPX bounds registers', 'MPX CSR', 'AVX-512 opmask', 'AVX-512 Hi256', 'AVX-512 ZMM_Hi256'];
  if (!atLeast(v, 4, 6)) return [...names, 'unknown xstate feature'];
  names.push('Processor Trace (unused)', 'Protection Keys User registers');
  if (atLeast(v, 5, 10)) names.push('PASID state');
  if (atLeast(v, 5, 16)) {
    if (atLeast(v, 6, 6)) {
      // 6.6 user shadow stacks; 6.17 (8b05b3c98816) made CET_KERNEL a guest-only feature.
      names.push('Control-flow User registers', atLeast(v, 6, 17) ? 'Control-flow Kernel registers (KVM only)' : 'Control-flow Kernel registers (unused)');
    }
    while (names.length < XFEATURE.XTILE_CFG) names.push('unknown xstate feature');
    names.push('AMX Tile config', 'AMX Tile data');
    if (atLeast(v, 6, 16)) names.push('APX registers');
  }
  names.push('unknown xstate feature');
  return names;
}

/** The features print_xstate_features() asks about, by version. */
function printedFeatures(v: KernelVersion): number[] {
  const bits = [0, 1, 2, 3, 4, 5, 6, 7];
  if (atLeast(v, 4, 6)) bits.push(XFEATURE.PKRU);
  if (atLeast(v, 5, 10)) bits.push(XFEATURE.PASID);
  if (atLeast(v, 6, 6)) bits.push(XFEATURE.CET_USER, XFEATURE.CET_KERNEL);
  if (atLeast(v, 5, 16)) bits.push(XFEATURE.XTILE_CFG, XFEATURE.XTILE_DATA);
  if (atLeast(v, 6, 16)) bits.push(XFEATURE.APX);
  return bits;
}

const pad = (s: string | number, width: number): string => String(s).padStart(width, ' ');
const hexPad = (n: number, width: number): string => n.toString(16).padStart(width, '0');

function featureLines(v: KernelVersion, cfg: XstateConfig): string[] {
  const names = xfeatureNames(v);
  const digits = atLeast(v, 4, 6) ? 3 : 2; // "0x%02Lx" until PKRU (4.6) made it "0x%03Lx"
  return printedFeatures(v)
    .filter((bit) => (cfg.kernelCfg.maxFeatures >> BigInt(bit)) & 1n)
    .map((bit) => `x86/fpu: Supporting XSAVE feature 0x${hexPad(2 ** bit, digits)}: '${names[Math.min(bit, names.length - 1)]}'`);
}

/** 4.2-4.3: setup_xstate_features() printed CPUID leaves 2 .. fls(mask)-1 in hex, before the features. */
function hexOffsetLines(p: CpuProfile, cfg: XstateConfig): string[] {
  const top = bitsOf(cfg.kernelCfg.maxFeatures).pop() ?? 0;
  const lines: string[] = [];
  for (let leaf = 2; leaf < top + 1; leaf++) {
    const r = cpuid(p.leaves, 0xd, leaf);
    const ebx = r ? r[EBX] >>> 0 : 0;
    const eax = r ? r[EAX] >>> 0 : 0;
    lines.push(`x86/fpu: xstate_offset[${leaf}]: ${hexPad(ebx, 4)}, xstate_sizes[${leaf}]: ${hexPad(eax, 4)}`);
  }
  return lines;
}

/**
 * "xstate_offset[%d]: %4d, xstate_sizes[%d]: %4d" for each enabled extended feature. 4.4-4.7 print
 * the CPUID (standard) offset; from 4.8 print_xstate_offset_size() prints xstate_comp_offsets[] and
 * from 5.19 xfeature_get_offset(): the compacted offset whenever the buffer is compacted.
 */
function offsetLines(p: CpuProfile, v: KernelVersion, cfg: XstateConfig): string[] {
  const g = geometryOf(p);
  const m = cfg.kernelCfg.maxFeatures;
  const compacted = cfg.compacted && atLeast(v, 4, 8);
  return bitsOf(m)
    .filter((i) => i >= 2)
    .map((i) => {
      const off = compacted ? compactedOffset(p, loOf(m), hiOf(m), i) : g.stdOffset[i];
      return `x86/fpu: xstate_offset[${i}]: ${pad(off, 4)}, xstate_sizes[${i}]: ${pad(g.size[i], 4)}`;
    });
}

function summaryLine(v: KernelVersion, cfg: XstateConfig): string {
  // 4.2-4.7 printed only the user mask; xfeatures_mask_all (5.8) / fpu_kernel_cfg.max_features (5.16) add supervisor states.
  const size = atLeast(v, 4, 4) ? String(cfg.kernelCfg.maxSize) : `0x${cfg.kernelCfg.maxSize.toString(16)}`;
  const format = cfg.compacted ? 'compacted' : 'standard';
  return `x86/fpu: Enabled xstate features 0x${cfg.kernelCfg.maxFeatures.toString(16)}, context size is ${size} bytes, using '${format}' format.`;
}

function noXsaveLines(v: KernelVersion, cfg: XstateConfig): string[] {
  if (!atLeast(v, 4, 2)) return [];
  if (cfg.failure) return cfg.failure;
  // "Legacy x87 FPU detected." until 4.10 (real 4.10.15 log); "x87 FPU will use %s" by 4.12 (real logs).
  if (!atLeast(v, 4, 11)) return ['x86/fpu: Legacy x87 FPU detected.'];
  return [`x86/fpu: x87 FPU will use ${cfg.caps.atInit.fxsr ? 'FXSAVE' : 'FSAVE'}`];
}

/** Before 4.2 (arch/x86/kernel/xsave.c, pr_fmt "xsave: "): one line, in hex. */
function pre42Lines(cfg: XstateConfig): string[] {
  if (!cfg.useXsave) return [];
  const form = cfg.compacted ? 'compacted form' : 'standard form';
  return [`xsave: enabled xstate_bv 0x${cfg.kernelCfg.maxFeatures.toString(16)}, cntxt size 0x${cfg.kernelCfg.maxSize.toString(16)} using ${form}`];
}

/** The lines of a configuration already computed (see bootLines). */
export function bootLinesFor(p: CpuProfile, cfg: XstateConfig): string[] {
  const v = cfg.kernel;
  if (!atLeast(v, 4, 2)) return pre42Lines(cfg);
  let lines: string[];
  if (!cfg.useXsave) lines = noXsaveLines(v, cfg);
  else if (!atLeast(v, 4, 4)) lines = [...hexOffsetLines(p, cfg), ...featureLines(v, cfg), summaryLine(v, cfg)];
  else if (!atLeast(v, 4, 8)) lines = [...offsetLines(p, v, cfg), ...featureLines(v, cfg), summaryLine(v, cfg)];
  else lines = [...featureLines(v, cfg), ...offsetLines(p, v, cfg), summaryLine(v, cfg)];
  // fpu__init_system_ctx_switch() runs after the xstate init, whatever became of it.
  if (cfg.contextSwitch) lines.push(`x86/fpu: Using '${cfg.contextSwitch}' FPU context switches.`);
  return lines;
}

/**
 * The `x86/fpu:` lines Linux `version` prints at boot on `profile` (for 4.0/4.1, which had no
 * x86/fpu prefix yet, the single "xsave: enabled xstate_bv ..." line of that era).
 */
export function bootLines(profile: CpuProfile, version: KernelVersion | string, opts: BootOptions = {}): string[] {
  return bootLinesFor(profile, xstateConfig(profile, version, opts));
}

/**
 * "signal: max sigframe size: %lu" (init_sigframe_size(), 5.14+; pr_fmt "signal: "), or null for
 * versions without it. CONFIG_IA32_EMULATION is assumed on unless `ia32Emulation` is false.
 */
export function sigframeBootLine(profile: CpuProfile, version: KernelVersion | string, opts: BootOptions & { ia32Emulation?: boolean } = {}): string | null {
  const size = atMinSigStkSz(profile, version, opts);
  return size === null ? null : `signal: max sigframe size: ${size}`;
}
