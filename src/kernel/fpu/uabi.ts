/**
 * Conversion between a task's kernel XSAVE buffer (FpState.area: compacted when the kernel saves with
 * XSAVES/XSAVEC, else standard format) and the user ABI images ptrace exposes
 * (arch/x86/kernel/fpu/xstate.c, regset.c):
 *
 *  - NT_X86_XSTATE: the standard-format XSAVE image of fpu_user_cfg.max_size bytes
 *    (__copy_xstate_to_uabi_buf / copy_uabi_to_xstate with validate_user_xstate_header);
 *  - NT_PRFPREG: the 512-byte FXSAVE image (xfpregs_get / xfpregs_set).
 *
 * Reads build a fresh image and never touch the task. Writes validate everything first, build the new
 * buffer in a scratch copy and commit it only on success, so a rejected write changes nothing. Errors
 * are strings starting with the errno Linux returns ("-EINVAL: ...").
 */
import { COMPONENTS, PKRU } from '../../arch/components.js';
import { compactedOffset, compactedSize } from '../../arch/layout.js';
import { BIT63_HI, maskHas } from '../../arch/mask.js';
import { forgetAllSlots, MXCSR_MASK_OFF, MXCSR_OFF, readU32, writeU32, XCOMP_BV, XSTATE_BV } from '../../arch/xsave/area.js';
import type { Kernel } from '../kernel.js';
import type { FpState, Task } from '../state.js';
import { atLeast, hasChange } from './kernel-version.js';

/** sizeof(struct fxregs_state): the NT_PRFPREG regset and the legacy region of an XSAVE image. */
export const FXSAVE_SIZE = 512;
/** xstate_fx_sw_bytes: bytes 464..511 of the NT_X86_XSTATE image (six u64 words, word 0 = XCR0). */
export const USER_XSTATE_SW_BYTES = 464;
/** Header: XSTATE_BV at 512, XCOMP_BV at 520, 48 reserved bytes at 528..575. */
const HDR_RESERVED = 528;
const HDR_END = 576;
/** Legacy region pieces (struct fxregs_state): FCW..FDP, MXCSR + MXCSR_MASK, st_space, xmm_space, padding. */
const ST_SPACE = 32;
const XMM_SPACE = 160;
const XMM_END = 416;

/** XFEATURE_MASK_SUPERVISOR_ALL: every architectural supervisor component (the bits ptrace keeps). */
const SUPERVISOR_LO = COMPONENTS.filter((c) => c.supervisor && c.index < 32).reduce((m, c) => (m | (1 << c.index)) >>> 0, 0);
const SUPERVISOR_HI = COMPONENTS.filter((c) => c.supervisor && c.index >= 32).reduce((m, c) => (m | (1 << (c.index - 32))) >>> 0, 0);

/**
 * 471f0aa7fa64 (6.1-rc2, "Fix copy_xstate_to_uabi() to copy init states correctly"): only the
 * components present in the header are copied, everything else (PKRU included) is zero. Before it,
 * every user_xfeatures component was written, PKRU from thread.pkru even with its header bit clear.
 */
function copiesOnlyPresent(k: Kernel): boolean {
  return hasChange(k.cfg.version, [6, 1]);
}

/** 5.14+: a scheduled-out task's PKRU lives in thread.pkru, not in its XSAVE buffer. */
function pkruInThread(k: Kernel): boolean {
  return atLeast(k.cfg.version, 5, 14);
}

/**
 * 4a804c4f8356 (6.2, backported to 5.15.88): "Allow PKRU to be (once again) written by ptrace" —
 * copy_uabi_to_xstate writes the PKRU slot to thread.pkru (0 when the header's PKRU bit is clear,
 * d7e5aceace51). From 5.14 up to the fix, a ptrace write of PKRU was silently lost.
 */
function setWritesThreadPkru(k: Kernel): boolean {
  return hasChange(k.cfg.version, [6, 2], { '5.15': 88 });
}

/** mxcsr_feature_mask: the MXCSR_MASK FXSAVE reports, 0000FFBFH when it reports 0 (SDM 11.6.6). */
export function mxcsrFeatureMask(k: Kernel): number {
  return k.m.profile.quirks.mxcsrMask >>> 0 || 0xffbf;
}

/** Size of the NT_X86_XSTATE regset: fpu_user_cfg.max_size (update_regset_xstate_info). */
export function uabiXstateSize(k: Kernel): number {
  return k.cfg.userMaxSize;
}

function hexMask(lo: number, hi: number): string {
  return `0x${((BigInt(hi >>> 0) << 32n) | BigInt(lo >>> 0)).toString(16)}`;
}

/** After bytes of an area changed outside the XSAVE family: no slot of the cache may be trusted. */
function dropAllSlots(fps: FpState): void {
  forgetAllSlots(fps.area);
}

/** Standard-format offset and size of a user component in the UABI image (FP and SSE in the legacy region). */
function uabiOffset(k: Kernel, i: number): number {
  return i === 0 ? 0 : i === 1 ? XMM_SPACE : k.m.g.stdOffset[i];
}

function componentSize(k: Kernel, i: number): number {
  return i === 0 ? XMM_SPACE : i === 1 ? 256 : k.m.g.size[i];
}

/** The XCOMP_BV a compacted kernel buffer is laid out with (its own header, else the buffer's features). */
function xcompOf(fps: FpState, bytes: Uint8Array): [number, number] {
  const lo = readU32(bytes, XCOMP_BV);
  const hi = readU32(bytes, XCOMP_BV + 4);
  if ((hi & BIT63_HI) === 0) return [fps.xfeaturesLo, fps.xfeaturesHi & ~BIT63_HI];
  return [lo, (hi & ~BIT63_HI) >>> 0];
}

/** __raw_xsave_addr(): where component i sits in the kernel buffer, -1 when the buffer has no room for it. */
export function kernelOffset(k: Kernel, fps: FpState, bytes: Uint8Array, i: number): number {
  if (i < 2) return uabiOffset(k, i);
  if (!k.cfg.compacted) return k.m.g.stdOffset[i];
  const [lo, hi] = xcompOf(fps, bytes);
  return compactedOffset(k.m.profile, lo, hi, i);
}

/**
 * The legacy region as __copy_xstate_to_uabi_buf writes it: each piece from the buffer when its
 * feature is in the header, else from init_fpstate (FCW 037FH, MXCSR 1F80H and the CPU's MXCSR_MASK).
 * MXCSR goes with SSE or YMM (both need it).
 */
function copyLegacy(k: Kernel, out: Uint8Array, b: Uint8Array, hdrLo: number): void {
  const init = k.initFpstate.area.bytes;
  const fp = (hdrLo & 1) !== 0;
  const sse = (hdrLo & 2) !== 0;
  const mx = (hdrLo & 6) !== 0;
  out.set((fp ? b : init).subarray(0, MXCSR_OFF), 0);
  out.set((mx ? b : init).subarray(MXCSR_OFF, ST_SPACE), MXCSR_OFF);
  out.set((fp ? b : init).subarray(ST_SPACE, XMM_SPACE), ST_SPACE);
  out.set((sse ? b : init).subarray(XMM_SPACE, XMM_END), XMM_SPACE);
}

/**
 * copy_xstate_to_uabi_buf(XSTATE_COPY_XSAVE) for `t`: the NT_X86_XSTATE image (fpu_user_cfg.max_size
 * bytes, standard format, XCOMP_BV 0). The header's XSTATE_BV is the buffer's & user_xfeatures; bytes
 * 464..471 hold the user max features (the regset's xstate_fx_sw_bytes, what debuggers read as XCR0);
 * PKRU comes from thread.pkru (5.14+). Components absent from the header read as their init values;
 * features the task's buffer lacks (AMX before ARCH_REQ_XCOMP_PERM) are zero.
 */
export function copyXstateToUabi(k: Kernel, t: Task): Uint8Array {
  const out = new Uint8Array(uabiXstateSize(k));
  const fps = t.fpu.fpstate;
  const b = fps.area.bytes;
  const hdrLo = (readU32(b, XSTATE_BV) & fps.userXfeaturesLo) >>> 0;
  const hdrHi = (readU32(b, XSTATE_BV + 4) & fps.userXfeaturesHi) >>> 0;
  copyLegacy(k, out, b, hdrLo);
  // Padding (416..463) stays zero; sw_reserved = xstate_fx_sw_bytes; then the header.
  writeU32(out, USER_XSTATE_SW_BYTES, k.cfg.userMaxLo);
  writeU32(out, USER_XSTATE_SW_BYTES + 4, k.cfg.userMaxHi);
  writeU32(out, XSTATE_BV, hdrLo);
  writeU32(out, XSTATE_BV + 4, hdrHi);
  const only = copiesOnlyPresent(k);
  const walkLo = only ? hdrLo : fps.userXfeaturesLo;
  const walkHi = only ? hdrHi : fps.userXfeaturesHi;
  const g = k.m.g;
  for (let n = 0; n < g.extended.length; n++) {
    const i = g.extended[n];
    if (!maskHas(walkLo, walkHi, i) || g.stdOffset[i] < 0) continue;
    const dst = g.stdOffset[i];
    const size = g.size[i];
    if (dst + size > out.length) continue;
    if (i === PKRU && pkruInThread(k)) {
      // "PKRU is not necessarily up to date in the XSAVE buffer": struct pkru_state {pkru, pad}.
      writeU32(out, dst, t.pkru >>> 0);
      continue;
    }
    if (!maskHas(hdrLo, hdrHi, i)) continue; // init configuration: all zeros for every extended component
    const src = kernelOffset(k, fps, b, i);
    if (src < 0 || src + size > b.length) continue;
    out.set(b.subarray(src, src + size), dst);
  }
  return out;
}

/**
 * validate_user_xstate_header() plus copy_uabi_to_xstate()'s MXCSR check, on an NT_X86_XSTATE image
 * for `t`: null when a write would be accepted.
 */
export function validateUabiXstate(k: Kernel, t: Task, img: Uint8Array): string | null {
  if (!k.cfg.useXsave) return '-ENODEV: the kernel does not use XSAVE (no NT_X86_XSTATE regset)';
  if (img.length < HDR_END) return `-EFAULT: ${img.length} bytes cannot hold an XSAVE header (576 needed)`;
  const fps = t.fpu.fpstate;
  const lo = readU32(img, XSTATE_BV);
  const hi = readU32(img, XSTATE_BV + 4);
  // No unknown, supervisor, unpermitted or not-yet-allocated dynamic features.
  if ((lo & ~fps.userXfeaturesLo) !== 0 || (hi & ~fps.userXfeaturesHi) !== 0) {
    return `-EINVAL: header xfeatures ${hexMask(lo, hi)} has bits outside the task's user_xfeatures ${hexMask(fps.userXfeaturesLo, fps.userXfeaturesHi)}`;
  }
  // The user must use the standard format (CVE-2017-15537: a compacted-format image reached XRSTORS).
  const xcLo = readU32(img, XCOMP_BV);
  const xcHi = readU32(img, XCOMP_BV + 4);
  if ((xcLo | xcHi) !== 0) return `-EINVAL: xcomp_bv ${hexMask(xcLo, xcHi)} is not 0 (user images are standard format)`;
  for (let o = HDR_RESERVED; o < HDR_END; o++) {
    if (img[o] !== 0) return `-EINVAL: reserved XSAVE header byte ${o - XSTATE_BV} (image offset ${o}) is not zero`;
  }
  // MXCSR is used by FP, SSE and YMM: reserved bits must be zero (XRSTOR would #GP in the kernel).
  if ((lo & 7) !== 0) {
    const mx = readU32(img, MXCSR_OFF);
    const mask = mxcsrFeatureMask(k);
    if ((mx & ~mask) >>> 0 !== 0) return `-EINVAL: MXCSR 0x${mx.toString(16)} sets reserved bits (mxcsr_feature_mask 0x${mask.toString(16)})`;
  }
  const g = k.m.g;
  for (let i = 0; i < 64; i++) {
    if (!maskHas(lo, hi, i)) continue;
    const end = uabiOffset(k, i) + componentSize(k, i);
    if (i >= 2 && g.stdOffset[i] < 0) return `-EINVAL: component ${i} has no standard-format location`;
    if (end > img.length) return `-EFAULT: component ${i} ends at ${end}, past the ${img.length}-byte image`;
  }
  return null;
}

/**
 * A compacted buffer whose XCOMP_BV lacks components the new header needs is re-laid out with
 * XCOMP_BV = bit 63 | the buffer's features | those components, moving the components it held (XRSTORS
 * #GPs when XSTATE_BV has a bit outside XCOMP_BV). Returns null when the buffer is too small.
 */
function relayoutCompacted(k: Kernel, fps: FpState, b: Uint8Array, needLo: number, needHi: number): Uint8Array | null {
  const [oLo, oHi] = xcompOf(fps, b);
  const hasBit63 = (readU32(b, XCOMP_BV + 4) & BIT63_HI) !== 0;
  if (hasBit63 && (needLo & ~oLo) === 0 && (needHi & ~oHi) === 0) return b;
  const nLo = (oLo | fps.xfeaturesLo | needLo) >>> 0;
  const nHi = (oHi | fps.xfeaturesHi | needHi) & ~BIT63_HI;
  if (compactedSize(k.m.profile, nLo, nHi) > b.length) return null;
  const out = new Uint8Array(b.length);
  out.set(b.subarray(0, HDR_END), 0);
  const g = k.m.g;
  for (let n = 0; n < g.extended.length; n++) {
    const i = g.extended[n];
    const from = compactedOffset(k.m.profile, oLo, oHi, i);
    const to = compactedOffset(k.m.profile, nLo, nHi, i);
    if (from >= 0 && to >= 0) out.set(b.subarray(from, from + g.size[i]), to);
  }
  writeU32(out, XCOMP_BV, nLo);
  writeU32(out, XCOMP_BV + 4, (nHi | BIT63_HI) >>> 0);
  return out;
}

/**
 * copy_uabi_to_xstate(fpstate, kbuf, &thread.pkru) for `t`: validate the header and MXCSR, copy each
 * component present in the header from its standard offset to its place in the kernel buffer (MXCSR and
 * MXCSR_MASK on their own when SSE or YMM come without FP), divert PKRU to thread.pkru (0 when the bit
 * is clear: XRSTOR's init behaviour, 6.2+), then XSTATE_BV := the kernel's supervisor bits | the
 * header's. All or nothing: on error nothing changed. The caller must have made the memory image
 * current and forced a reload (fpu_force_restore) first.
 */
/**
 * Before 814fb7bb7db5 (4.14, "x86/fpu: Don't let userspace set bogus xcomp_bv", CVE-2017-15537),
 * xstateregs_set() on a kernel keeping the standard format (a CPU without XSAVES) copied the whole
 * user image into the task's buffer (user_regset_copyin), header included: XSTATE_BV, XCOMP_BV and the
 * reserved bytes unchecked; only MXCSR was masked with mxcsr_feature_mask. The compacted path
 * converted and checked the image; the fix added validate_xstate_header() to this one.
 */
export function xstateregsSetVerbatim(k: Kernel): boolean {
  return k.cfg.useXsave && !k.cfg.compacted && !hasChange(k.cfg.version, [4, 14]);
}

/** The pre-4.14 standard-format NT_X86_XSTATE write (see xstateregsSetVerbatim): the image as it is, MXCSR masked. */
export function copyUabiToXstateVerbatim(k: Kernel, t: Task, img: Uint8Array): null {
  const fps = t.fpu.fpstate;
  const s = img.slice(0, Math.min(img.length, fps.area.bytes.length));
  // "mxcsr reserved bits must be masked to zero for security reasons"
  writeU32(s, MXCSR_OFF, (readU32(s, MXCSR_OFF) & mxcsrFeatureMask(k)) >>> 0);
  fps.area.bytes.set(s);
  dropAllSlots(fps);
  return null;
}

export function copyUabiToXstate(k: Kernel, t: Task, img: Uint8Array): string | null {
  const err = validateUabiXstate(k, t, img);
  if (err) return err;
  const fps = t.fpu.fpstate;
  const hdrLo = readU32(img, XSTATE_BV);
  const hdrHi = readU32(img, XSTATE_BV + 4);
  let s: Uint8Array = fps.area.bytes.slice();
  if (k.cfg.compacted) {
    const r = relayoutCompacted(k, fps, s, hdrLo, hdrHi);
    if (!r) return `-EINVAL: the task's ${s.length}-byte buffer cannot hold features ${hexMask(hdrLo, hdrHi)}`;
    s = r;
  }
  if ((hdrLo & 7) !== 0 && (hdrLo & 1) === 0) {
    // SSE and YMM need MXCSR even when FP is not in use.
    s.set(img.subarray(MXCSR_OFF, MXCSR_MASK_OFF + 4), MXCSR_OFF);
  }
  for (let i = 0; i < 64; i++) {
    if (!maskHas(hdrLo, hdrHi, i)) continue;
    const src = uabiOffset(k, i);
    const size = componentSize(k, i);
    const dst = kernelOffset(k, fps, s, i);
    if (dst < 0 || dst + size > s.length) return `-EINVAL: component ${i} does not fit the task's ${s.length}-byte buffer`;
    s.set(img.subarray(src, src + size), dst);
  }
  const bvLo = ((readU32(s, XSTATE_BV) & SUPERVISOR_LO) | hdrLo) >>> 0;
  const bvHi = ((readU32(s, XSTATE_BV + 4) & SUPERVISOR_HI) | hdrHi) >>> 0;
  writeU32(s, XSTATE_BV, bvLo);
  writeU32(s, XSTATE_BV + 4, bvHi);
  // Commit.
  fps.area.bytes.set(s);
  dropAllSlots(fps);
  if (setWritesThreadPkru(k)) {
    const at = uabiOffset(k, PKRU);
    t.pkru = maskHas(hdrLo, hdrHi, PKRU) && at > 0 ? readU32(img, at) : 0;
  }
  return null;
}

/**
 * xfpregs_get(): the NT_PRFPREG image, 512 bytes. With XSAVE it is copy_xstate_to_uabi_buf in
 * XSTATE_COPY_FX mode (header masked to FP|SSE, pieces of absent features from init_fpstate, bytes
 * 416..511 zero); without XSAVE the FXSAVE buffer itself.
 */
export function copyFxsaveToUabi(k: Kernel, t: Task): Uint8Array {
  const b = t.fpu.fpstate.area.bytes;
  if (!k.cfg.useXsave) return b.slice(0, FXSAVE_SIZE);
  const out = new Uint8Array(FXSAVE_SIZE);
  copyLegacy(k, out, b, readU32(b, XSTATE_BV) & 3);
  return out;
}

/** xfpregs_set()'s checks: a full 512-byte write whose MXCSR has no reserved bit set. */
export function validateUabiFxsave(k: Kernel, img: Uint8Array): string | null {
  // "No funny business with partial or oversized writes is permitted."
  if (img.length !== FXSAVE_SIZE) return `-EINVAL: NT_PRFPREG writes must be exactly ${FXSAVE_SIZE} bytes, not ${img.length}`;
  const mx = readU32(img, MXCSR_OFF);
  const mask = mxcsrFeatureMask(k);
  if ((mx & ~mask) >>> 0 !== 0) return `-EINVAL: MXCSR 0x${mx.toString(16)} sets reserved bits (mxcsr_feature_mask 0x${mask.toString(16)})`;
  return null;
}

/**
 * xfpregs_set(): the 512 bytes replace the legacy region of the buffer and, with XSAVE, FP and SSE are
 * marked in use (XSTATE_BV |= 3). All or nothing, like copyUabiToXstate.
 */
export function copyUabiFxsaveToXstate(k: Kernel, t: Task, img: Uint8Array): string | null {
  const err = validateUabiFxsave(k, img);
  if (err) return err;
  const fps = t.fpu.fpstate;
  const s = fps.area.bytes.slice();
  s.set(img.subarray(0, FXSAVE_SIZE), 0);
  if (k.cfg.useXsave) writeU32(s, XSTATE_BV, (readU32(s, XSTATE_BV) | 3) >>> 0);
  fps.area.bytes.set(s);
  dropAllSlots(fps);
  return null;
}
