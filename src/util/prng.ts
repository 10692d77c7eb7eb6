/**
 * The seeded PRNG every model and generator uses (no Math.random in src/ outside cli):
 * SplitMix32-seeded xoshiro128**, 32-bit integer arithmetic only.
 */
export interface Prng {
  s0: number;
  s1: number;
  s2: number;
  s3: number;
}

function splitmix32(x: number): [number, number] {
  x = (x + 0x9e3779b9) >>> 0;
  let z = x;
  z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
  z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
  return [x, (z ^ (z >>> 16)) >>> 0];
}

export function createPrng(seed: number): Prng {
  let x = seed >>> 0;
  const out: number[] = [];
  for (let k = 0; k < 4; k++) {
    const [nx, v] = splitmix32(x);
    x = nx;
    out.push(v);
  }
  if ((out[0] | out[1] | out[2] | out[3]) === 0) out[0] = 1;
  return { s0: out[0], s1: out[1], s2: out[2], s3: out[3] };
}

function rotl(x: number, k: number): number {
  return ((x << k) | (x >>> (32 - k))) >>> 0;
}

/** The output of the last `advance` (a typed array: reading it back allocates nothing). */
const OUT = new Uint32Array(1);

/** One xoshiro128** step: the output goes to OUT[0]. */
function advance(r: Prng): void {
  OUT[0] = Math.imul(rotl(Math.imul(r.s1, 5) >>> 0, 7), 9);
  const t = (r.s1 << 9) >>> 0;
  r.s2 ^= r.s0;
  r.s3 ^= r.s1;
  r.s1 ^= r.s2;
  r.s0 ^= r.s3;
  r.s2 ^= t;
  r.s3 = rotl(r.s3, 11);
  r.s0 >>>= 0;
  r.s1 >>>= 0;
  r.s2 >>>= 0;
}

/** Next uniformly distributed unsigned 32-bit integer. */
export function nextU32(r: Prng): number {
  advance(r);
  return OUT[0];
}

/** Integer in [0, n). */
export function nextInt(r: Prng, n: number): number {
  advance(r);
  return Math.floor((OUT[0] / 0x1_0000_0000) * n);
}

export function chance(r: Prng, p: number): boolean {
  advance(r);
  return OUT[0] / 0x1_0000_0000 < p;
}

export function pick<T>(r: Prng, xs: readonly T[]): T {
  return xs[nextInt(r, xs.length)];
}

export function fillRandom(r: Prng, b: Uint8Array, from = 0, to = b.length): void {
  for (let k = from; k < to; k += 4) {
    const v = nextU32(r);
    for (let j = 0; j < 4 && k + j < to; j++) b[k + j] = (v >>> (8 * j)) & 0xff;
  }
}
