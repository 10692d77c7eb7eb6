/**
 * 64-bit feature masks (XCR0, IA32_XSS, XSTATE_BV, XCOMP_BV, RFBM).
 *
 * At the edges (CLI, JSON, files) masks are `bigint`; the hot instruction paths keep them as two
 * unsigned 32-bit halves (`lo`, `hi`) so that no BigInt arithmetic happens per instruction.
 */

export const BIT63_HI = 0x8000_0000; // XCOMP_BV[63] lives in the high half

/** Bit i of the mask held as (lo, hi). */
export function maskHas(lo: number, hi: number, i: number): boolean {
  return i < 32 ? ((lo >>> i) & 1) === 1 : ((hi >>> (i - 32)) & 1) === 1;
}

export function toBig(lo: number, hi: number): bigint {
  return (BigInt(hi >>> 0) << 32n) | BigInt(lo >>> 0);
}

export function loOf(m: bigint): number {
  return Number(m & 0xffff_ffffn) >>> 0;
}

export function hiOf(m: bigint): number {
  return Number((m >> 32n) & 0xffff_ffffn) >>> 0;
}

export function bit(i: number): bigint {
  return 1n << BigInt(i);
}

export function hasBit(m: bigint, i: number): boolean {
  return ((m >> BigInt(i)) & 1n) === 1n;
}

/** Indices of the set bits, ascending. */
export function bitsOf(m: bigint): number[] {
  const out: number[] = [];
  for (let i = 0; i < 64; i++) if (hasBit(m, i)) out.push(i);
  return out;
}

export function hex(m: bigint | number): string {
  return '0x' + BigInt(m).toString(16);
}

/** Parses "0x…", decimal, or plain hex with a letter; returns null when it is not a 64-bit unsigned number. */
export function parseMask(text: string): bigint | null {
  const t = text.trim().toLowerCase().replace(/_/g, '');
  let v: bigint;
  if (/^0x[0-9a-f]+$/.test(t)) v = BigInt(t);
  else if (/^[0-9]+$/.test(t)) v = BigInt(t);
  else if (/^[0-9a-f]+$/.test(t)) v = BigInt('0x' + t);
  else return null;
  return v < 1n << 64n ? v : null;
}
