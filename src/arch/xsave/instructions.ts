/**
 * The XSAVE family on a register file (XState) and an XSAVE area, as the Intel SDM Vol. 1 ch. 13 and
 * the Vol. 2 instruction pages define them, plus the implementation choices a CPU profile records
 * (profile.quirks). Every instruction returns null when it completes or a Fault value.
 *
 * Only the 64-bit forms (REX.W: XSAVE64, FXSAVE64, ...) are modeled: x87 FIP/FDP are 64-bit offsets
 * (the form Linux x86-64 uses).
 */
import { readI32, readU32, writeU32, XCOMP_BV, XSTATE_BV, XsaveArea, MXCSR_OFF, MXCSR_MASK_OFF } from './area.js';
import { loadComponent, storeComponent } from './component-io.js';
import { fault, Outcome } from './fault.js';
import { CompactedOffsets, XMachine } from './machine.js';
import { XState } from './state.js';
import { intern, MXCSR_INIT } from './values.js';
import { EXTENDED_BASE } from '../geometry.js';
import { compactedSizeIn } from '../layout.js';

// RFBM halves of the instruction being executed (module scratch: the model is single-threaded and
// this keeps the hot path free of allocation).
let rLo = 0;
let rHi = 0;

const BIT63 = 0x8000_0000;

function has(lo: number, hi: number, i: number): boolean {
  return i < 32 ? ((lo >>> i) & 1) === 1 : ((hi >>> (i - 32)) & 1) === 1;
}

type Kind = 'xsave' | 'xsaveopt' | 'xsavec' | 'xsaves' | 'xrstor' | 'xrstors';

/** Checks shared by the whole family, in the SDM's priority order (#UD, #NM, #GP CPL, #GP alignment). */
function entryChecks(m: XMachine, s: XState, a: XsaveArea, kind: Kind): Outcome {
  if (!s.cr4Osxsave) return fault('#UD', 'CR4.OSXSAVE is 0');
  if (kind === 'xsaveopt' && !m.hasXsaveopt) return fault('#UD', 'XSAVEOPT not enumerated (CPUID.(0xD,1):EAX[0]=0)');
  if (kind === 'xsavec' && !m.hasXsavec) return fault('#UD', 'XSAVEC not enumerated (CPUID.(0xD,1):EAX[1]=0)');
  if ((kind === 'xsaves' || kind === 'xrstors') && !m.hasXsaves) return fault('#UD', `${kind.toUpperCase()} not enumerated (CPUID.(0xD,1):EAX[3]=0)`);
  if (s.cr0Ts) return fault('#NM', 'CR0.TS is 1');
  if ((kind === 'xsaves' || kind === 'xrstors') && s.cpl !== 0) return fault('#GP', `${kind.toUpperCase()} at CPL ${s.cpl} (requires CPL 0)`);
  if (a.address % 64 !== 0) return fault('#GP', `XSAVE area address 0x${a.address.toString(16)} is not 64-byte aligned`);
  return null;
}

function tooSmall(a: XsaveArea, need: number): Outcome {
  return a.bytes.length < need ? fault('#PF', `XSAVE area needs ${need} bytes but the buffer has ${a.bytes.length}`) : null;
}

/** End of the standard-format image for the components in (lo, hi). */
function standardEnd(m: XMachine, lo: number, hi: number): number {
  let end = EXTENDED_BASE;
  const g = m.g;
  for (let k = 0; k < g.extended.length; k++) {
    const i = g.extended[k];
    if (has(lo, hi, i) && g.stdOffset[i] >= 0) end = Math.max(end, g.stdOffset[i] + g.size[i]);
  }
  return end;
}

/**
 * Where each component sits in a compacted image whose XCOMP_BV[62:0] is (lo, hi) (SDM 13.4.3): 0 and
 * 160 for x87 and SSE, then the supported components of the mask in ascending order, 64-byte aligned
 * where CPUID says so; -1 for the others. Memoized per machine (a kernel uses a few masks).
 */
function compactedOffsets(m: XMachine, lo: number, hi: number): Int32Array {
  const memo = m.compactedMemo;
  for (let k = 0; k < memo.length; k++) if (memo[k].lo === lo && memo[k].hi === hi) return memo[k].off;
  const g = m.g;
  const off = new Int32Array(64).fill(-1);
  off[0] = 0;
  off[1] = 160;
  let at = EXTENDED_BASE;
  for (let k = 0; k < g.extended.length; k++) {
    const i = g.extended[k];
    if (!has(lo, hi, i)) continue;
    if (g.align64[i]) at = (at + 63) & ~63;
    off[i] = at;
    at += g.size[i];
  }
  const e: CompactedOffsets = { lo, hi, off };
  if (memo.length >= 4) memo.pop();
  memo.unshift(e);
  return off;
}

/** XINUSE as the save instructions see it: armed (XFD) components count as init (SDM 13.14). */
function inuseLo(s: XState): number {
  return (s.xinuseLo & ~s.xfdLo) >>> 0;
}
function inuseHi(s: XState): number {
  return (s.xinuseHi & ~s.xfdHi) >>> 0;
}

/** Token to save for component i: init when it is armed by XFD. */
function savedToken(s: XState, i: number): number {
  return has(s.xfdLo, s.xfdHi, i) ? 0 : s.tok[i];
}

/** x87 value as stored: without XSAVEERPTR, AMD stores FIP/FDP/FOP only while FSW.ES is set. */
function x87Stored(m: XMachine, s: XState): number {
  const t = s.tok[0];
  if (!m.profile.quirks.x87PointersOnlyWithEs || t === 0) return t;
  const img = m.pool.images[0][t];
  if ((img[2] & 0x80) !== 0) return t;
  const b = img.slice();
  b.fill(0, 6, 24);
  return intern(m.pool, 0, b);
}

function writeMxcsr(m: XMachine, s: XState, a: XsaveArea): void {
  writeU32(a.bytes, MXCSR_OFF, s.mxcsr);
  writeU32(a.bytes, MXCSR_MASK_OFF, m.profile.quirks.mxcsrMask);
}

/** Does XRSTOR_INFO match this save (SDM 13.6, modified optimization)? */
function trackingMatches(m: XMachine, s: XState, a: XsaveArea, xcLo: number, xcHi: number): boolean {
  return (
    m.profile.quirks.modifiedOptimization &&
    s.trkValid &&
    s.trkCpl === s.cpl &&
    s.trkVmx === s.vmxNonRoot &&
    s.trkAddr === a.address &&
    s.trkXcompLo === xcLo &&
    s.trkXcompHi === xcHi >>> 0
  );
}

/**
 * XSAVE / XSAVEOPT: standard format. XSAVE writes every requested component (SDM 13.7); XSAVEOPT
 * skips components in init state (init optimization) and, when XRSTOR_INFO matches, components not
 * modified since that XRSTOR (SDM 13.9). Both write MXCSR and MXCSR_MASK when RFBM[1] or RFBM[2] is set,
 * and update only the XSTATE_BV bits in RFBM: XSTATE_BV = (old & ~RFBM) | (XINUSE & RFBM).
 */
function saveStandard(m: XMachine, s: XState, a: XsaveArea, eax: number, edx: number, opt: boolean): Outcome {
  const f = entryChecks(m, s, a, opt ? 'xsaveopt' : 'xsave');
  if (f) return f;
  rLo = (s.xcr0Lo & eax) >>> 0;
  rHi = (s.xcr0Hi & edx) >>> 0;
  const tf = tooSmall(a, standardEnd(m, rLo, rHi));
  if (tf) return tf;
  const iuLo = inuseLo(s);
  const iuHi = inuseHi(s);
  const skipUnmodified = opt && trackingMatches(m, s, a, 0, 0);
  let skipped = false;
  let written = 0;
  const order = m.order;
  for (let k = 0; k < order.length; k++) {
    const i = order[k];
    if (!has(rLo, rHi, i)) continue;
    if (opt) {
      if (!has(iuLo, iuHi, i)) continue; // init optimization
      if (skipUnmodified && !has(s.xmodLo, s.xmodHi, i)) {
        skipped = true;
        continue; // modified optimization
      }
    }
    const off = i === 0 ? 0 : i === 1 ? 160 : m.g.stdOffset[i];
    written += i === 0 ? 160 : i === 1 ? 256 : m.g.size[i];
    storeComponent(m, a, i, i === 0 ? x87Stored(m, s) : savedToken(s, i), off);
  }
  if (skipped) m.stats.modifiedSkips++;
  m.stats.lastSaveBytes = written;
  if ((rLo & 6) !== 0) writeMxcsr(m, s, a);
  const b = a.bytes;
  writeU32(b, XSTATE_BV, ((readU32(b, XSTATE_BV) & ~rLo) | (iuLo & rLo)) >>> 0);
  writeU32(b, XSTATE_BV + 4, ((readU32(b, XSTATE_BV + 4) & ~rHi) | (iuHi & rHi)) >>> 0);
  return null;
}

export function xsave(m: XMachine, s: XState, a: XsaveArea, eax: number, edx: number): Outcome {
  return saveStandard(m, s, a, eax, edx, false);
}

export function xsaveopt(m: XMachine, s: XState, a: XsaveArea, eax: number, edx: number): Outcome {
  return saveStandard(m, s, a, eax, edx, true);
}

/**
 * XSAVEC / XSAVES: compacted format. XCOMP_BV = RFBM | bit 63; XSTATE_BV = XINUSE & RFBM (bits outside
 * RFBM are cleared), with bit 1 forced when RFBM[1] = 1 and MXCSR != 1F80H; only components with
 * XSTATE_BV[i] = 1 are written (SDM 13.10, 13.11). XSAVES also takes IA32_XSS components and the
 * modified optimization.
 */
function saveCompacted(m: XMachine, s: XState, a: XsaveArea, eax: number, edx: number, sup: boolean): Outcome {
  const f = entryChecks(m, s, a, sup ? 'xsaves' : 'xsavec');
  if (f) return f;
  rLo = ((sup ? s.xcr0Lo | s.xssLo : s.xcr0Lo) & eax) >>> 0;
  rHi = ((sup ? s.xcr0Hi | s.xssHi : s.xcr0Hi) & edx & 0x7fff_ffff) >>> 0;
  const tf = tooSmall(a, compactedSizeIn(m.g, rLo, rHi));
  if (tf) return tf;
  let bvLo = (inuseLo(s) & rLo) >>> 0;
  const bvHi = (inuseHi(s) & rHi) >>> 0;
  if ((rLo & 2) !== 0 && s.mxcsr !== MXCSR_INIT) bvLo = (bvLo | 2) >>> 0;
  // XCOMP_BV[63:32] as a signed 32-bit integer (same bits): kept small, it is never boxed.
  const xcHi = rHi | BIT63;
  const skipUnmodified = sup && trackingMatches(m, s, a, rLo, xcHi);
  let skipped = false;
  let written = 0;
  const g = m.g;
  // The components of XSTATE_BV in ascending order (those the processor does not have are never in
  // use, and have no offset).
  const offs = compactedOffsets(m, rLo, rHi);
  for (let half = 0; half < 2; half++) {
    let bits = half === 0 ? bvLo : bvHi;
    while (bits !== 0) {
      const bit = bits & -bits;
      bits ^= bit;
      const i = 31 - Math.clz32(bit) + 32 * half;
      const at = offs[i];
      if (at < 0) continue;
      if (skipUnmodified && !has(s.xmodLo, s.xmodHi, i)) {
        skipped = true;
        continue;
      }
      written += i === 0 ? 160 : i === 1 ? 256 : g.size[i];
      storeComponent(m, a, i, i === 0 ? x87Stored(m, s) : savedToken(s, i), at);
    }
  }
  if ((bvLo & 2) !== 0) writeMxcsr(m, s, a);
  const b = a.bytes;
  writeU32(b, XSTATE_BV, bvLo);
  writeU32(b, XSTATE_BV + 4, bvHi);
  writeU32(b, XCOMP_BV, rLo);
  writeU32(b, XCOMP_BV + 4, xcHi);
  m.stats.lastSaveBytes = written;
  if (skipped) m.stats.modifiedSkips++;
  return null;
}

export function xsavec(m: XMachine, s: XState, a: XsaveArea, eax: number, edx: number): Outcome {
  return saveCompacted(m, s, a, eax, edx, false);
}

export function xsaves(m: XMachine, s: XState, a: XsaveArea, eax: number, edx: number): Outcome {
  return saveCompacted(m, s, a, eax, edx, true);
}

function nonZero(b: Uint8Array, from: number, to: number): boolean {
  let k = from;
  for (; k + 4 <= to; k += 4) if ((b[k] | b[k + 1] | b[k + 2] | b[k + 3]) !== 0) return true;
  for (; k < to; k++) if (b[k] !== 0) return true;
  return false;
}

/** Load the x87 value; without XSAVEERPTR, AMD keeps the old FIP/FDP/FOP unless the image's FSW.ES is set. */
function loadX87(m: XMachine, s: XState, t: number): number {
  if (!m.profile.quirks.x87PointersOnlyWithEs) return t;
  const img = m.pool.images[0][t];
  if ((img[2] & 0x80) !== 0) return t;
  const b = img.slice();
  b.set(m.pool.images[0][s.tok[0]].subarray(6, 24), 6);
  return intern(m.pool, 0, b);
}

function setInuse(s: XState, i: number, on: boolean): void {
  if (i < 32) s.xinuseLo = on ? (s.xinuseLo | (1 << i)) >>> 0 : (s.xinuseLo & ~(1 << i)) >>> 0;
  else s.xinuseHi = on ? (s.xinuseHi | (1 << (i - 32))) >>> 0 : (s.xinuseHi & ~(1 << (i - 32))) >>> 0;
}

/** On CPUs that track XINUSE by value: SSE is in use when an XMM register is non-zero (MXCSR is not part of it, SDM 13.6). */
function sseInuseFromValue(m: XMachine, s: XState): void {
  setInuse(s, 1, s.tok[1] !== 0);
}

/**
 * XRSTOR / XRSTORS. The form comes from XCOMP_BV[63] (XRSTORS requires compacted). Header checks
 * (SDM 13.8.1, 13.12): standard form #GP if bytes 23:8 of the header are not 0 or XSTATE_BV has a bit
 * outside XCR0; compacted form #GP if XSAVEC is not enumerated (XRSTOR), XCOMP_BV[62:0] has a bit
 * outside XCR0 (| IA32_XSS for XRSTORS), XSTATE_BV has a bit outside XCOMP_BV, or bytes 63:16 are
 * not 0. #GP if the MXCSR it would load sets a bit outside MXCSR_MASK.
 * For each i in RFBM: XSTATE_BV[i] = 0 -> init; else load from the area. Components outside RFBM are
 * untouched. XMODIFIED := ~RFBM and XRSTOR_INFO := (CPL, VMX, address, XCOMP_BV).
 */
function restore(m: XMachine, s: XState, a: XsaveArea, eax: number, edx: number, sup: boolean): Outcome {
  const f = entryChecks(m, s, a, sup ? 'xrstors' : 'xrstor');
  if (f) {
    s.trkValid = false;
    return f;
  }
  const r = restoreChecked(m, s, a, eax, edx, sup);
  if (r) s.trkValid = false;
  return r;
}

function restoreChecked(m: XMachine, s: XState, a: XsaveArea, eax: number, edx: number, sup: boolean): Outcome {
  const b = a.bytes;
  const hf = tooSmall(a, EXTENDED_BASE);
  if (hf) return hf;
  const bvLo = readU32(b, XSTATE_BV);
  const bvHi = readU32(b, XSTATE_BV + 4);
  const xcLo = readU32(b, XCOMP_BV);
  const xcHi = readI32(b, XCOMP_BV + 4); // signed (bit 63 set when compacted): never boxed
  const compacted = (xcHi & BIT63) !== 0;
  const enLo = sup ? s.xcr0Lo | s.xssLo : s.xcr0Lo;
  const enHi = sup ? s.xcr0Hi | s.xssHi : s.xcr0Hi;
  rLo = (enLo & eax) >>> 0;
  rHi = (enHi & edx) >>> 0;
  if (sup && !compacted) return fault('#GP', 'XRSTORS from a standard-format area (XCOMP_BV[63] = 0)');
  if (compacted) {
    if (!sup && !m.hasXsavec) return fault('#GP', 'compacted XRSTOR but XSAVEC is not enumerated');
    const cLo = xcLo;
    const cHi = (xcHi & 0x7fff_ffff) >>> 0;
    if ((cLo & ~enLo) !== 0 || (cHi & ~enHi) !== 0)
      return fault('#GP', `XCOMP_BV has bits not enabled in ${sup ? 'XCR0 | IA32_XSS' : 'XCR0'}`);
    if ((bvLo & ~cLo) !== 0 || (bvHi & ~cHi) !== 0) return fault('#GP', 'XSTATE_BV has bits not set in XCOMP_BV');
    if (nonZero(b, 528, 576)) return fault('#GP', 'XSAVE header bytes 63:16 are not zero');
    const tf = tooSmall(a, compactedSizeIn(m.g, cLo, cHi));
    if (tf) return tf;
  } else {
    if (nonZero(b, 520, 536)) return fault('#GP', 'XSAVE header bytes 23:8 are not zero (standard form)');
    if ((bvLo & ~s.xcr0Lo) !== 0 || (bvHi & ~s.xcr0Hi) !== 0) return fault('#GP', 'XSTATE_BV has bits not enabled in XCR0');
    const tf = tooSmall(a, standardEnd(m, (rLo & bvLo) >>> 0, (rHi & bvHi) >>> 0));
    if (tf) return tf;
  }
  // MXCSR: standard form loads it whenever RFBM[1] or RFBM[2]; compacted only with RFBM[1] & XSTATE_BV[1].
  const loadMx = compacted ? (rLo & bvLo & 2) !== 0 : (rLo & 6) !== 0;
  const mx = readU32(b, MXCSR_OFF);
  if (loadMx && (mx & ~m.profile.quirks.mxcsrMask) !== 0)
    return fault('#GP', `MXCSR 0x${mx.toString(16)} sets bits outside MXCSR_MASK 0x${m.profile.quirks.mxcsrMask.toString(16)}`);
  // XFD: a requested component with data in the image while armed (SDM 13.14 / profile quirk).
  const armLo = (rLo & bvLo & s.xfdLo) >>> 0;
  const armHi = (rHi & bvHi & s.xfdHi) >>> 0;
  const silent = m.profile.quirks.xfdRestore === 'silent-init';
  if ((armLo | armHi) !== 0 && !silent) {
    s.xfdErrLo = (s.xfdErrLo | armLo) >>> 0;
    s.xfdErrHi = (s.xfdErrHi | armHi) >>> 0;
    return fault('#NM', 'XRSTOR of a component armed in IA32_XFD');
  }
  const sticky = m.profile.quirks.xinuseAfterLoad === 'sticky';
  const g = m.g;
  const offs = compacted ? compactedOffsets(m, xcLo, (xcHi & 0x7fff_ffff) >>> 0) : g.stdOffset;
  const order = m.order;
  let loaded = 0;
  let inits = 0;
  for (let k = 0; k < order.length; k++) {
    const i = order[k];
    const at = i === 0 ? 0 : i === 1 ? 160 : offs[i];
    if (!has(rLo, rHi, i)) continue;
    if (!has(bvLo, bvHi, i) || at < 0 || has(armLo, armHi, i)) {
      s.tok[i] = 0; // init configuration
      setInuse(s, i, false);
      inits++;
      continue;
    }
    loaded += i === 0 ? 160 : i === 1 ? 256 : g.size[i];
    let t = loadComponent(m, a, i, at);
    if (i === 0) t = loadX87(m, s, t);
    s.tok[i] = t;
    // XINUSE[17] is TILES_CONFIGURED: a TILECFG image that loads as the init configuration (palette 0 or
    // a configuration LDTILECFG would reject; see normalizeLoaded) leaves it 0 even on 'sticky' CPUs
    // (measured on an Intel SPR-class VM by test/hw).
    setInuse(s, i, t !== 0 || (sticky && i !== m.tilecfg));
  }
  m.stats.lastRestoreBytes = loaded;
  m.stats.lastRestoreInits = inits;
  if (loadMx) s.mxcsr = mx;
  else if (compacted && (rLo & 2) !== 0) s.mxcsr = MXCSR_INIT;
  if (!sticky && (rLo & 6) !== 0) sseInuseFromValue(m, s);
  s.xmodLo = ~rLo >>> 0;
  s.xmodHi = ~rHi >>> 0;
  // TILECFG never takes the modified optimization: XSAVEOPT to the address of the last XRSTOR rewrites an
  // in-use TILECFG even when nothing changed it, while TILEDATA and the others are skipped (measured on an
  // Intel SPR-class VM by test/hw; modeled as XRSTOR* leaving XMODIFIED[17] set).
  if (m.tilecfg >= 0) s.xmodLo = (s.xmodLo | (1 << m.tilecfg)) >>> 0;
  s.trkValid = true;
  s.trkCpl = s.cpl;
  s.trkVmx = s.vmxNonRoot;
  s.trkAddr = a.address;
  s.trkXcompLo = compacted ? xcLo : 0;
  s.trkXcompHi = compacted ? xcHi >>> 0 : 0;
  return null;
}

export function xrstor(m: XMachine, s: XState, a: XsaveArea, eax: number, edx: number): Outcome {
  return restore(m, s, a, eax, edx, false);
}

export function xrstors(m: XMachine, s: XState, a: XsaveArea, eax: number, edx: number): Outcome {
  return restore(m, s, a, eax, edx, true);
}

/** FXSAVE64: the 512-byte legacy image, 16-byte aligned, no init optimization, no header (SDM Vol. 2 FXSAVE). */
export function fxsave(m: XMachine, s: XState, a: XsaveArea): Outcome {
  if (s.cr0Ts) return fault('#NM', 'CR0.TS is 1');
  if (a.address % 16 !== 0) return fault('#GP', `FXSAVE area address 0x${a.address.toString(16)} is not 16-byte aligned`);
  const tf = tooSmall(a, 512);
  if (tf) return tf;
  storeComponent(m, a, 0, x87Stored(m, s), 0);
  storeComponent(m, a, 1, s.tok[1], 160);
  writeMxcsr(m, s, a);
  return null;
}

/** FXRSTOR64: loads x87, MXCSR and XMM0-15; #GP if MXCSR sets reserved bits (SDM Vol. 2 FXRSTOR). */
export function fxrstor(m: XMachine, s: XState, a: XsaveArea): Outcome {
  if (s.cr0Ts) return fault('#NM', 'CR0.TS is 1');
  if (a.address % 16 !== 0) return fault('#GP', `FXRSTOR area address 0x${a.address.toString(16)} is not 16-byte aligned`);
  const tf = tooSmall(a, 512);
  if (tf) return tf;
  const mx = readU32(a.bytes, MXCSR_OFF);
  if ((mx & ~m.profile.quirks.mxcsrMask) !== 0)
    return fault('#GP', `MXCSR 0x${mx.toString(16)} sets bits outside MXCSR_MASK 0x${m.profile.quirks.mxcsrMask.toString(16)}`);
  const sticky = m.profile.quirks.xinuseAfterLoad === 'sticky';
  const t0 = loadX87(m, s, loadComponent(m, a, 0, 0));
  const t1 = loadComponent(m, a, 1, 160);
  s.tok[0] = t0;
  s.tok[1] = t1;
  s.mxcsr = mx;
  setInuse(s, 0, sticky || t0 !== 0);
  setInuse(s, 1, sticky || t1 !== 0);
  if (!sticky) sseInuseFromValue(m, s);
  s.xmodLo = (s.xmodLo | 3) >>> 0;
  return null;
}
