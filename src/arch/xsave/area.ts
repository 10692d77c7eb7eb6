/**
 * An XSAVE area in memory: its linear address (alignment and the XRSTOR_INFO tuple depend on it) and
 * its bytes, which are the truth. A per-component slot cache remembers which token the model last
 * wrote (or read) at which offset while those bytes stay untouched, so repeated saves and restores of
 * the same value need neither a copy nor a decode; any other write to the bytes drops the slots it
 * overlaps.
 */

export interface XsaveArea {
  /** Linear address of byte 0. */
  address: number;
  bytes: Uint8Array;
  /**
   * The slot cache, interleaved (one small array, so a save or restore touches one or two cache lines
   * of it): slots[SLOT_OFF + 3i] is the offset where the bytes of component i hold token
   * slots[SLOT_TOK + 3i], -1 when unknown; slots[SLOT_LEN + 3i] the bytes that slot covers (for
   * overlap checks).
   */
  slots: Int32Array;
  /** Bit i set when the offset of slot i is >= 0 (so overlap checks visit only live slots). */
  slotLiveLo: number;
  slotLiveHi: number;
  /**
   * An immutable copy of bytes this area held at some point, with their content hash: the checker
   * (kernel/snapshot.ts) keeps one per stored area and compares before it trusts it, so writers need
   * not know about it. Never part of the state.
   */
  memo?: AreaImage;
}

/** Bytes that never change again and their 64-bit content hash (two 32-bit words). */
export interface AreaImage {
  readonly bytes: Uint8Array;
  readonly h1: number;
  readonly h2: number;
}

export const SLOT_OFF = 0;
export const SLOT_TOK = 1;
export const SLOT_LEN = 2;
/** Entries per component in `slots`. */
export const SLOT_STRIDE = 3;

function newSlots(): Int32Array {
  return new Int32Array(64 * SLOT_STRIDE).fill(-1);
}

export function createArea(address: number, size: number, fill = 0): XsaveArea {
  return {
    address,
    bytes: new Uint8Array(size).fill(fill),
    slots: newSlots(),
    slotLiveLo: 0,
    slotLiveHi: 0,
    memo: undefined,
  };
}

export function areaFromBytes(address: number, bytes: Uint8Array): XsaveArea {
  const a = createArea(address, 0);
  a.bytes = bytes.slice();
  return a;
}

export function cloneArea(a: XsaveArea): XsaveArea {
  return { ...a, bytes: a.bytes.slice(), slots: a.slots.slice() };
}

/** Forget every slot (the bytes were replaced wholesale). */
export function forgetAllSlots(a: XsaveArea): void {
  a.slotLiveLo = 0;
  a.slotLiveHi = 0;
  a.slots.fill(-1);
}

/** Forget every slot overlapping [off, off+len) except `keep`. */
export function dropSlots(a: XsaveArea, off: number, len: number, keep = -1): void {
  const end = off + len;
  const sl = a.slots;
  for (let half = 0; half < 2; half++) {
    let live = half === 0 ? a.slotLiveLo : a.slotLiveHi;
    while (live !== 0) {
      const bit = live & -live;
      live ^= bit;
      const i = 31 - Math.clz32(bit) + 32 * half;
      if (i === keep) continue;
      const o = sl[SLOT_STRIDE * i + SLOT_OFF];
      if (o < end && off < o + sl[SLOT_STRIDE * i + SLOT_LEN]) forgetSlot(a, i);
    }
  }
}

/** Component i's bytes in the area now hold token t (written or verified by the codec). */
export function setSlot(a: XsaveArea, i: number, off: number, t: number, len: number): void {
  const sl = a.slots;
  const b = SLOT_STRIDE * i;
  sl[b + SLOT_OFF] = off;
  sl[b + SLOT_TOK] = t;
  sl[b + SLOT_LEN] = len;
  if (i < 32) a.slotLiveLo |= 1 << i;
  else a.slotLiveHi |= 1 << (i - 32);
}

export function forgetSlot(a: XsaveArea, i: number): void {
  a.slots[SLOT_STRIDE * i + SLOT_OFF] = -1;
  if (i < 32) a.slotLiveLo &= ~(1 << i);
  else a.slotLiveHi &= ~(1 << (i - 32));
}

/** A write to the area that is not an XSAVE* (software editing a signal frame, ptrace, a memcpy). */
export function writeAreaBytes(a: XsaveArea, off: number, src: Uint8Array): void {
  a.bytes.set(src, off);
  dropSlots(a, off, src.length);
}

export function readU32(b: Uint8Array, o: number): number {
  return (b[o] | (b[o + 1] << 8) | (b[o + 2] << 16) | (b[o + 3] << 24)) >>> 0;
}

/** The same bits as readU32, as a signed 32-bit integer (a small integer to V8, never a heap number). */
export function readI32(b: Uint8Array, o: number): number {
  return b[o] | (b[o + 1] << 8) | (b[o + 2] << 16) | (b[o + 3] << 24);
}

export function writeU32(b: Uint8Array, o: number, v: number): void {
  b[o] = v & 0xff;
  b[o + 1] = (v >>> 8) & 0xff;
  b[o + 2] = (v >>> 16) & 0xff;
  b[o + 3] = (v >>> 24) & 0xff;
}

export function writeAreaU32(a: XsaveArea, off: number, v: number): void {
  writeU32(a.bytes, off, v);
  dropSlots(a, off, 4);
}

/** XSAVE header fields (SDM 13.4.2): XSTATE_BV at 512, XCOMP_BV at 520, reserved 528..575. */
export const XSTATE_BV = 512;
export const XCOMP_BV = 520;
export const MXCSR_OFF = 24;
export const MXCSR_MASK_OFF = 28;
