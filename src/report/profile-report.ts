/**
 * Human and JSON renderings of profiles, layouts, signal-frame sizes: what `switchlab cpu`, `layout`
 * and `sigframe` print.
 */
import { FEATURE_SOURCES } from '../arch/features.js';
import { Layout } from '../arch/layout.js';
import { hex } from '../arch/mask.js';
import { CpuProfile } from '../arch/profile.js';
import { componentInfo } from '../arch/components.js';
import { SigframeSizes } from '../kernel/fpu/sigframe.js';
import { renderTable } from './table.js';

/** Where a profile came from, in one line. */
export function sourceLine(p: CpuProfile): string {
  const s = p.source;
  const parts: string[] = [s.kind];
  if (s.file) parts.push(s.file);
  if (s.origin) parts.push(`from ${s.origin.repo}/${s.origin.path}${s.origin.commit ? `@${s.origin.commit.slice(0, 12)}` : ''}`);
  if (s.note) parts.push(`(${s.note})`);
  return parts.join(' ');
}

export type CpuJson = Pick<CpuProfile, 'vendor' | 'brand' | 'signature' | 'family' | 'model' | 'stepping' | 'xcr0Supported' | 'xssSupported' | 'warnings'> & {
  cpu: string;
  source: string;
  features: Record<string, boolean>;
  components: { index: number; name: string; size: number; offset: number | null; supervisor: boolean; align64: boolean; xfd: boolean; inferred: boolean }[];
};

export function cpuJson(p: CpuProfile): CpuJson {
  const features: Record<string, boolean> = {};
  for (const [k] of FEATURE_SOURCES) features[k] = p.features[k];
  return {
    cpu: p.id,
    vendor: p.vendor,
    brand: p.brand,
    signature: p.signature,
    family: p.family,
    model: p.model,
    stepping: p.stepping,
    source: sourceLine(p),
    features,
    xcr0Supported: p.xcr0Supported,
    xssSupported: p.xssSupported,
    components: p.components.map((c) => ({
      index: c.index,
      name: componentInfo(c.index).title,
      size: c.size,
      offset: c.supervisor ? null : c.offset,
      supervisor: c.supervisor,
      align64: c.align64,
      xfd: c.xfd,
      inferred: c.inferred,
    })),
    warnings: p.warnings,
  };
}

export function cpuText(p: CpuProfile): string {
  const head = [
    `${p.id}: ${p.brand || '(no brand string)'}`,
    `  vendor ${p.vendor}, signature ${p.signature} (family 0x${p.family.toString(16)}, model 0x${p.model.toString(16)}, stepping ${p.stepping})`,
    `  source: ${sourceLine(p)}`,
    `  XCR0 may hold ${hex(p.xcr0Supported)}, IA32_XSS may hold ${hex(p.xssSupported)}`,
    '',
  ].join('\n');
  const feats = renderTable(
    ['feature', 'present', 'CPUID'],
    FEATURE_SOURCES.map(([k, where]) => [k, p.features[k], where]),
  );
  const comps = renderTable(
    ['#', 'component', 'size', 'offset', 'kind', 'align64', 'XFD'],
    p.components.map((c) => [c.index, componentInfo(c.index).title + (c.inferred ? ' (inferred)' : ''), c.size, c.supervisor ? null : c.offset, c.supervisor ? 'supervisor' : 'user', c.align64, c.xfd]),
  );
  const warn = p.warnings.length ? '\nwarnings:\n' + p.warnings.map((w) => `  - ${w}`).join('\n') + '\n' : '';
  return `${head}${feats}\n${comps}${warn}`;
}

export function layoutJson(l: Layout): Record<string, unknown> {
  return {
    cpu: l.cpu,
    xcr0: l.xcr0,
    xss: l.xss,
    standardSize: l.standardSize,
    xsavecSize: l.xsavecSize,
    xsavesSize: l.xsavesSize,
    components: l.components.map((c) => ({
      index: c.index,
      name: c.name,
      size: c.size,
      standardOffset: c.standardOffset,
      xsavecOffset: c.xsavecOffset,
      xsavesOffset: c.xsavesOffset,
      align64: c.align64,
      supervisor: c.supervisor,
      xfd: c.xfd,
    })),
  };
}

export function layoutText(l: Layout): string {
  const rows = [
    [0, 'x87 floating point registers', 160, 0, 0, 0, false, false, false],
    [1, 'SSE registers', 256, 160, 160, 160, false, false, false],
    ...l.components.map((c) => [c.index, c.name, c.size, c.standardOffset, c.xsavecOffset, c.xsavesOffset, c.align64, c.supervisor, c.xfd]),
  ] as (string | number | boolean | null)[][];
  const table = renderTable(['#', 'component', 'size', 'standard', 'XSAVEC', 'XSAVES', 'align64', 'supervisor', 'XFD'], rows);
  return (
    `${l.cpu}: XCR0 ${hex(l.xcr0)}, IA32_XSS ${hex(l.xss)}\n` +
    table +
    `sizes: standard ${l.standardSize} (CPUID 0xD.0 EBX), XSAVEC ${l.xsavecSize}, XSAVES ${l.xsavesSize} (CPUID 0xD.1 EBX)\n`
  );
}

export interface SigframeJson {
  cpu: string;
  kernel: string;
  userFeatures: bigint;
  xstateSize: number;
  fpuFrameSize: number;
  frameSize: number;
  atMinSigStkSz: number | null;
  minSigStkSz: number;
}

export function sigframeJson(cpu: string, s: SigframeSizes): SigframeJson {
  return {
    cpu,
    kernel: s.kernel.text,
    userFeatures: s.userFeatures,
    xstateSize: s.xstateSize,
    fpuFrameSize: s.fpuFrameSize,
    frameSize: s.frameSize,
    atMinSigStkSz: s.atMinSigStkSz,
    minSigStkSz: s.minSigStkSz,
  };
}

export function sigframeText(cpu: string, s: SigframeSizes): string {
  const at = s.atMinSigStkSz === null ? `none before 5.14 (programs use MINSIGSTKSZ = ${s.minSigStkSz})` : String(s.atMinSigStkSz);
  return renderTable(
    ['signal frame (x86-64, Linux ' + s.kernel.text + ', ' + cpu + ')', 'bytes'],
    [
      [`xstate in the frame (user features ${hex(s.userFeatures)}, standard format)`, s.xstateSize],
      ['FPU part of the frame (+ FP_XSTATE_MAGIC2)', s.fpuFrameSize],
      ['whole rt frame, worst-case alignment (red zone not included)', s.frameSize],
      ['AT_MINSIGSTKSZ (getauxval)', at === String(s.atMinSigStkSz) ? s.atMinSigStkSz : at],
    ],
  );
}
