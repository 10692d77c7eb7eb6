/**
 * XSAVE area layouts for a given XCR0 / IA32_XSS on a profile (SDM Vol. 1 13.4): standard offsets,
 * compacted offsets for XSAVEC (XCR0 only) and XSAVES (XCR0 | XSS), and the three sizes; plus the
 * emulation of CPUID 0xD sub-leaf 0 / 1 EBX.
 */
import { componentInfo } from './components.js';
import { InputError } from './errors.js';
import { EXTENDED_BASE, Geometry, geometryOf } from './geometry.js';
import { hasBit, hex, hiOf, loOf, maskHas } from './mask.js';
import { CpuProfile } from './profile.js';

export interface LayoutComponent {
  index: number;
  name: string;
  size: number;
  /** Standard-format offset; null for supervisor components (they have no standard location). */
  standardOffset: number | null;
  /** Offset in an XSAVEC image for XCOMP_BV = XCR0; null for components not in XCR0. */
  xsavecOffset: number | null;
  /** Offset in an XSAVES image for XCOMP_BV = XCR0 | XSS. */
  xsavesOffset: number | null;
  align64: boolean;
  supervisor: boolean;
  xfd: boolean;
}

export interface Layout {
  cpu: string;
  xcr0: bigint;
  xss: bigint;
  /** CPUID.(0xD,0).EBX for this XCR0: the standard-format size. */
  standardSize: number;
  /** Compacted size for XCOMP_BV = XCR0 (what XSAVEC writes). */
  xsavecSize: number;
  /** CPUID.(0xD,1).EBX for this XCR0 | XSS: the compacted size for XSAVES. */
  xsavesSize: number;
  components: LayoutComponent[];
}

function alignUp64(n: number): number {
  return (n + 63) & ~63;
}

/**
 * Offset of component i in a compacted image whose XCOMP_BV is (lo, hi); -1 if i is not in it.
 * SDM 13.4.3: components 0 and 1 stay in the legacy region; for i >= 2 in ascending order, a component
 * present in XCOMP_BV starts at the end of the previous one, rounded up to 64 if its ECX[1] is set.
 */
export function compactedOffset(p: CpuProfile, lo: number, hi: number, i: number): number {
  if (i < 2) return i === 0 ? 0 : 160;
  if (!maskHas(lo, hi, i)) return -1;
  const g = geometryOf(p);
  let off = EXTENDED_BASE;
  for (let k = 0; k < g.extended.length; k++) {
    const c = g.extended[k];
    if (!maskHas(lo, hi, c)) continue;
    if (g.align64[c]) off = alignUp64(off);
    if (c === i) return off;
    off += g.size[c];
  }
  return -1; // i not supported by the profile
}

/** Size of a compacted image with XCOMP_BV = mask (the generalization of the seed's calculate_xstate_buf_size_from_mask). */
export function compactedSize(p: CpuProfile, lo: number, hi: number): number {
  return compactedSizeIn(geometryOf(p), lo, hi);
}

/** compactedSize for a profile's geometry (the instruction model's hot path has it at hand). */
export function compactedSizeIn(g: Geometry, lo: number, hi: number): number {
  const memo = g.sizeMemo;
  if (memo[0] === lo && memo[1] === hi) return memo[2];
  if (memo[3] === lo && memo[4] === hi) return memo[5];
  const size = compactedSizeOf(g, lo, hi);
  memo[3] = memo[0];
  memo[4] = memo[1];
  memo[5] = memo[2];
  memo[0] = lo;
  memo[1] = hi;
  memo[2] = size;
  return size;
}

function compactedSizeOf(g: Geometry, lo: number, hi: number): number {
  let off = EXTENDED_BASE;
  for (let k = 0; k < g.extended.length; k++) {
    const c = g.extended[k];
    if (!maskHas(lo, hi, c)) continue;
    if (g.align64[c]) off = alignUp64(off);
    off += g.size[c];
  }
  return off;
}

/**
 * Size of a standard-format image holding the user components of mask: the maximum end offset, not
 * "offset + size of the highest-numbered component" (APX sits at 960, below components 5..18).
 */
export function standardSize(p: CpuProfile, lo: number, hi: number): number {
  const g = geometryOf(p);
  let end = EXTENDED_BASE;
  for (let k = 0; k < g.extended.length; k++) {
    const c = g.extended[k];
    if (!maskHas(lo, hi, c) || g.stdOffset[c] < 0) continue;
    const e = g.stdOffset[c] + g.size[c];
    if (e > end) end = e;
  }
  return end;
}

/** Buffer size for a feature mask in either format (bigint convenience wrapper). */
export function xstateSizeForMask(p: CpuProfile, mask: bigint, compacted: boolean): number {
  const lo = loOf(mask);
  const hi = hiOf(mask);
  return compacted ? compactedSize(p, lo, hi) : standardSize(p, lo, hi);
}

/** CPUID 0xD sub-leaf 0 EBX and sub-leaf 1 EBX as the CPU reports them for the given XCR0 and IA32_XSS. */
export function emulateLeafDSizes(p: CpuProfile, xcr0: bigint, xss: bigint): { leaf0Ebx: number; leaf1Ebx: number } {
  const all = xcr0 | xss;
  return {
    leaf0Ebx: standardSize(p, loOf(xcr0), hiOf(xcr0)),
    leaf1Ebx: compactedSize(p, loOf(all), hiOf(all)),
  };
}

/** The XSETBV rules for XCR0 (SDM Vol. 2 XSETBV): a reason the value would #GP, or null if valid. */
export function xcr0Problem(p: CpuProfile, xcr0: bigint): string | null {
  if (!hasBit(xcr0, 0)) return 'bit 0 (x87) must be set';
  const unsupported = xcr0 & ~p.xcr0Supported;
  if (unsupported) return `bits ${hex(unsupported)} are not supported (CPUID 0xD.0 EDX:EAX = ${hex(p.xcr0Supported)})`;
  if (hasBit(xcr0, 2) && !hasBit(xcr0, 1)) return 'bit 2 (AVX) requires bit 1 (SSE)';
  const avx512 = (xcr0 >> 5n) & 7n;
  if (avx512 !== 0n && (avx512 !== 7n || !hasBit(xcr0, 2))) return 'bits 5-7 (AVX-512) must be all set, with bit 2 (AVX), or all clear';
  if (hasBit(xcr0, 3) !== hasBit(xcr0, 4)) return 'bits 3 and 4 (MPX) must be both set or both clear';
  if (hasBit(xcr0, 17) !== hasBit(xcr0, 18)) return 'bits 17 and 18 (AMX) must be both set or both clear';
  return null;
}

/** The WRMSR(IA32_XSS) rule: only supported supervisor bits. */
export function xssProblem(p: CpuProfile, xss: bigint): string | null {
  const bad = xss & ~p.xssSupported;
  if (bad) return `bits ${hex(bad)} are not supported supervisor components (CPUID 0xD.1 EDX:ECX = ${hex(p.xssSupported)})`;
  return null;
}

/**
 * The whole layout for (XCR0, XSS). Throws InputError naming `--xcr0` / `--xss` when a mask is not one
 * the CPU would accept.
 */
export function computeLayout(p: CpuProfile, xcr0: bigint = p.xcr0Supported, xss: bigint = p.xssSupported): Layout {
  const e0 = xcr0Problem(p, xcr0);
  if (e0) throw new InputError(`XCR0 ${hex(xcr0)} is invalid on ${p.id}: ${e0}`, '--xcr0');
  const e1 = xssProblem(p, xss);
  if (e1) throw new InputError(`IA32_XSS ${hex(xss)} is invalid on ${p.id}: ${e1}`, '--xss');
  const g = geometryOf(p);
  const all = xcr0 | xss;
  const xl = loOf(xcr0);
  const xh = hiOf(xcr0);
  const al = loOf(all);
  const ah = hiOf(all);
  const components: LayoutComponent[] = [];
  for (let k = 0; k < g.extended.length; k++) {
    const i = g.extended[k];
    if (!maskHas(al, ah, i)) continue;
    const sup = g.supervisor[i] === 1;
    components.push({
      index: i,
      name: componentInfo(i).title,
      size: g.size[i],
      standardOffset: sup ? null : g.stdOffset[i],
      xsavecOffset: maskHas(xl, xh, i) ? compactedOffset(p, xl, xh, i) : null,
      xsavesOffset: compactedOffset(p, al, ah, i),
      align64: g.align64[i] === 1,
      supervisor: sup,
      xfd: g.xfd[i] === 1,
    });
  }
  return {
    cpu: p.id,
    xcr0,
    xss,
    standardSize: standardSize(p, xl, xh),
    xsavecSize: compactedSize(p, xl, xh),
    xsavesSize: compactedSize(p, al, ah),
    components,
  };
}
