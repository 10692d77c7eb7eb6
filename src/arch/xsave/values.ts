/**
 * Component values and their byte codec.
 *
 * Inside the model a state component's content is a *token*: a small integer naming an immutable byte
 * image of that component (token 0 is always the component's init configuration, SDM 13.6). Tokens
 * make register files cheap to copy, compare and hash, which the kernel model and the checker need;
 * the codec turns a token into the exact bytes XSAVE* writes and interns bytes that XRSTOR* loads.
 *
 * Loading bytes into a register can lose information (reserved bits a register cannot hold); that
 * normalization is applied by `normalizeLoaded` before interning, so a token always names a value the
 * register file can really contain and `encode(decode(bytes))` is what a save of that register writes.
 */
import { CpuProfile } from '../profile.js';
import { geometryOf } from '../geometry.js';

/** Size of a component's value image. x87 is the 160-byte legacy prefix (bytes 24-31, MXCSR, excluded). */
export function valueSize(p: CpuProfile, i: number): number {
  if (i === 0) return 160;
  if (i === 1) return 256;
  return geometryOf(p).size[i];
}

/** FCW after FNINIT / init configuration (SDM 13.6: x87 init = FCW 037FH, FSW 0, FTW empty, pointers 0). */
export const FCW_INIT = 0x037f;
export const MXCSR_INIT = 0x1f80;

export interface ValuePool {
  /** images[i][token] = the bytes of that value of component i. */
  readonly images: Uint8Array[][];
  /** Interning index, per component: content hash (30 bits) -> candidate tokens. */
  readonly index: Map<number, number[]>[];
  /**
   * Images by content, across components (hash of size and content -> images): components whose
   * values have the same bytes share one read-only image, so fewer bytes stay in the caches.
   */
  readonly shared: Map<number, Uint8Array[]>;
  /** Where new images are carved from: 64-byte aligned slices of a few large buffers. */
  arena: ArrayBuffer;
  arenaUsed: number;
}

const ARENA_BYTES = 1 << 16;

function initImage(p: CpuProfile, i: number): Uint8Array {
  const b = new Uint8Array(valueSize(p, i));
  if (i === 0) {
    b[0] = FCW_INIT & 0xff;
    b[1] = FCW_INIT >>> 8;
  }
  return b;
}

export function createValuePool(p: CpuProfile): ValuePool {
  const images: Uint8Array[][] = [];
  for (let i = 0; i < 64; i++) images.push(valueSize(p, i) > 0 ? [initImage(p, i)] : []);
  return { images, index: Array.from({ length: 64 }, () => new Map<number, number[]>()), shared: new Map(), arena: new ArrayBuffer(0), arenaUsed: 0 };
}

function hashBytes(b: Uint8Array, off: number, len: number): number {
  // FNV-1a-like over 32-bit little-endian words, then the tail bytes; collisions are resolved by
  // comparing contents. 30 bits, so the key is a small integer.
  let h = 0x811c9dc5;
  let k = 0;
  for (; k + 4 <= len; k += 4) {
    const o = off + k;
    h ^= b[o] | (b[o + 1] << 8) | (b[o + 2] << 16) | (b[o + 3] << 24);
    h = Math.imul(h, 0x01000193);
    h ^= h >>> 15;
  }
  for (; k < len; k++) {
    h ^= b[off + k];
    h = Math.imul(h, 0x01000193);
  }
  return h & 0x3fff_ffff;
}

function sameBytes(a: Uint8Array, b: Uint8Array, off: number): boolean {
  for (let k = 0; k < a.length; k++) if (a[k] !== b[off + k]) return false;
  return true;
}

/** Token of component i whose value image is bytes[off .. off+size) (already normalized). */
export function intern(pool: ValuePool, i: number, bytes: Uint8Array, off = 0): number {
  const imgs = pool.images[i];
  const size = imgs[0].length;
  if (sameBytes(imgs[0], bytes, off)) return 0;
  const index = pool.index[i];
  const key = hashBytes(bytes, off, size);
  const cands = index.get(key);
  if (cands) for (let c = 0; c < cands.length; c++) if (sameBytes(imgs[cands[c]], bytes, off)) return cands[c];
  const t = imgs.length;
  imgs.push(sharedImage(pool, bytes, off, size, key));
  if (cands) cands.push(t);
  else index.set(key, [t]);
  return t;
}

/** A read-only image of bytes[off .. off+size): one another component already has, or a new one. */
function sharedImage(pool: ValuePool, bytes: Uint8Array, off: number, size: number, hash: number): Uint8Array {
  const key = (Math.imul(hash ^ size, 0x9e3779b1) >>> 2) & 0x3fff_ffff;
  let same = pool.shared.get(key);
  if (same) {
    for (let c = 0; c < same.length; c++) if (same[c].length === size && sameBytes(same[c], bytes, off)) return same[c];
  } else {
    same = [];
    pool.shared.set(key, same);
  }
  let img: Uint8Array;
  if (size > ARENA_BYTES >> 4) img = bytes.slice(off, off + size);
  else {
    if (pool.arenaUsed + size > pool.arena.byteLength) {
      pool.arena = new ArrayBuffer(ARENA_BYTES);
      pool.arenaUsed = 0;
    }
    img = new Uint8Array(pool.arena, pool.arenaUsed, size);
    pool.arenaUsed += (size + 63) & ~63;
    for (let k = 0; k < size; k++) img[k] = bytes[off + k]; // (a subarray per image is slower)
  }
  same.push(img);
  return img;
}

/** The bytes of a token (do not modify). */
export function imageOf(pool: ValuePool, i: number, token: number): Uint8Array {
  return pool.images[i][token];
}

export function isInitToken(token: number): boolean {
  return token === 0;
}

/**
 * The AMX tile palettes as CPUID leaf 1DH enumerates them (palette p in sub-leaf p): what LDTILECFG
 * accepts (Intel ISA Extensions Programming Reference, ch. 3, LDTILECFG operation).
 */
export interface TilePalettes {
  /** CPUID.(1DH,0):EAX: the highest palette id. */
  maxPalette: number;
  /** Indexed by palette id (index 0 unused): CPUID.(1DH,p):EBX[31:16], EBX[15:0], ECX[15:0]. */
  maxNames: Int32Array;
  bytesPerRow: Int32Array;
  maxRows: Int32Array;
}

/** What `normalizeLoaded` needs to know about the processor (computed once per machine). */
export interface LoadRules {
  /** Linear-address width (CPUID 80000008H EAX[15:8]): FIP (and FDP when `fdpCanonical`) are canonical to it. */
  laBits: number;
  /** AMD Zen (quirk x87PointersZeroWithoutEs): FOP/FIP/FDP read back as 0 unless FSW.ES is set. */
  pointersNeedEs: boolean;
  /** Quirk x87FdpCanonical: FDP is made canonical like FIP (else kept as loaded). */
  fdpCanonical: boolean;
  /** The component number of TILECFG when the processor has AMX (17), else -1. */
  tilecfg: number;
  palettes: TilePalettes;
}

/**
 * Is a 64-byte TILECFG image a configuration LDTILECFG would load with TILES_CONFIGURED = 1? (ISA
 * Extensions ch. 3, LDTILECFG operation: a palette id from 1 to the maximum; bytes 2-15 zero; for each of
 * the palette's max_names tiles colsb <= bytes_per_row, rows <= max_rows, and colsb and rows both zero or
 * both non-zero; every byte past the palette's tiles zero. start_row (byte 1) is not checked.)
 */
export function tilecfgConfigured(b: Uint8Array, off: number, pal: TilePalettes): boolean {
  const id = b[off];
  if (id === 0 || id > pal.maxPalette) return false;
  for (let k = 2; k < 16; k++) if (b[off + k] !== 0) return false;
  const n = pal.maxNames[id];
  for (let t = 0; t < n; t++) {
    const colsb = b[off + 16 + 2 * t] | (b[off + 17 + 2 * t] << 8);
    const rows = b[off + 48 + t];
    if (colsb > pal.bytesPerRow[id] || rows > pal.maxRows[id] || (colsb === 0) !== (rows === 0)) return false;
  }
  for (let k = 16 + 2 * n; k < 48; k++) if (b[off + k] !== 0) return false;
  for (let k = 48 + n; k < 64; k++) if (b[off + k] !== 0) return false;
  return true;
}

/**
 * What a register can hold of a component image loaded from memory (written to `out`); returns true
 * when that differs from the memory bytes. For x87 (FXSAVE image, SDM Vol. 1 10.5.1; measured on
 * AMD Zen 3 and an Intel SPR-class VM by test/hw, and what Bochs implements):
 *  - FCW keeps only its defined bits (0-5 masks, 8-9 PC, 10-11 RC, 12 X); bit 6 reads as 1;
 *  - FSW.ES (bit 7) and FSW.B (bit 15) are recomputed: set iff an exception flag (bits 0-5) is
 *    unmasked in FCW;
 *  - byte 5 is reserved and FOP is 11 bits: the rest reads back as 0;
 *  - FIP is a canonical linear address (sign-extended from the top implemented bit); FDP too with
 *    `fdpCanonical` (AMD), else all 64 bits are kept (Intel);
 *  - bytes 10-15 of each ST/MM slot are reserved and read back as 0;
 *  - with `pointersNeedEs` (AMD Zen), FOP/FIP/FDP read back as 0 unless FSW.ES is set.
 * For TILECFG: a configuration LDTILECFG would reject, or palette 0, loads as the init configuration
 * (64 zero bytes, TILES_CONFIGURED = 0) without a fault; a valid one is kept byte for byte, start_row
 * included (measured on an Intel SPR-class VM by test/hw).
 */
export function normalizeLoaded(i: number, src: Uint8Array, off: number, out: Uint8Array, size: number, rules: LoadRules): boolean {
  for (let k = 0; k < size; k++) out[k] = src[off + k];
  if (i === rules.tilecfg) {
    if (tilecfgConfigured(src, off, rules.palettes)) return false;
    out.fill(0, 0, 64);
    for (let k = 0; k < 64; k++) if (src[off + k] !== 0) return true;
    return false;
  }
  if (i !== 0) return false;
  // bytes 24..31 (MXCSR, MXCSR_MASK) are not part of the x87 value
  out[24] = out[25] = out[26] = out[27] = out[28] = out[29] = out[30] = out[31] = 0;
  const fcw = ((out[0] | (out[1] << 8)) & 0x1f3f) | 0x0040;
  out[0] = fcw & 0xff;
  out[1] = fcw >>> 8;
  let fsw = (out[2] | (out[3] << 8)) & 0x7f7f;
  if ((fsw & ~fcw & 0x3f) !== 0) fsw |= 0x8080;
  out[2] = fsw & 0xff;
  out[3] = fsw >>> 8;
  out[5] = 0;
  out[7] &= 0x07;
  canonical(out, 8, rules.laBits);
  if (rules.fdpCanonical) canonical(out, 16, rules.laBits);
  if (rules.pointersNeedEs && (fsw & 0x80) === 0) out.fill(0, 6, 24); // FOP, FIP, FDP (profile quirk x87PointersZeroWithoutEs)
  for (let r = 0; r < 8; r++) out.fill(0, 32 + 16 * r + 10, 32 + 16 * r + 16);
  for (let k = 0; k < 160; k++) if (k < 24 || k >= 32) if (out[k] !== src[off + k]) return true;
  return false;
}

/** Sign-extend the 64-bit little-endian value at b[o..o+8) from bit laBits-1. */
function canonical(b: Uint8Array, o: number, laBits: number): void {
  for (let bit = laBits; bit < 64; bit++) {
    const top = (b[o + ((laBits - 1) >>> 3)] >>> ((laBits - 1) & 7)) & 1;
    const byte = o + (bit >>> 3);
    if (top) b[byte] |= 1 << (bit & 7);
    else b[byte] &= ~(1 << (bit & 7));
  }
}
