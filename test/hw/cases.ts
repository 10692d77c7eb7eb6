/**
 * Seeded generator of XSAVE-family programs for the real-silicon differential test. Every case starts
 * with a full-RFBM XRSTOR from a random image, so that the registers, MXCSR, XINUSE and XRSTOR_INFO
 * are fully determined before the interesting steps, whatever ran before.
 */
import { CpuProfile } from '../../src/arch/profile.js';
import { cpuid, EBX, ECX } from '../../src/arch/cpuid.js';
import { compactedOffset } from '../../src/arch/layout.js';
import { bitsOf } from '../../src/arch/mask.js';
import { chance, createPrng, fillRandom, nextInt, nextU32, pick, Prng } from '../../src/util/prng.js';
import { HwCase, HwStep, Op, OP_NAMES, step } from './program.js';

const BUF = 12288;

interface Ctx {
  r: Prng;
  p: CpuProfile;
  xcr0: bigint;
  comps: number[]; // components in XCR0
  mxcsrMask: number;
  /** Tile palette 1 as CPUID leaf 1DH sub-leaf 1 gives it (for crafting TILECFG images). */
  tiles: { names: number; bytesPerRow: number; maxRows: number };
}

function u32le(b: Uint8Array, o: number, v: number): void {
  b[o] = v & 0xff;
  b[o + 1] = (v >>> 8) & 0xff;
  b[o + 2] = (v >>> 16) & 0xff;
  b[o + 3] = (v >>> 24) & 0xff;
}

/** A random MXCSR the CPU accepts (within MXCSR_MASK), often the default. */
function randomMxcsr(c: Ctx): number {
  return chance(c.r, 0.3) ? 0x1f80 : (nextU32(c.r) & c.mxcsrMask) >>> 0;
}

/** Random subset of XCR0 as an RFBM, sometimes everything. */
function randomRfbm(c: Ctx): number {
  if (chance(c.r, 0.35)) return 0xffff_ffff;
  let m = 0;
  for (const i of c.comps) if (chance(c.r, 0.6)) m |= 1 << i;
  return m >>> 0;
}

/** Fill a component region with random data, all zeros, or leave the garbage there. */
function componentData(c: Ctx, b: Uint8Array, off: number, len: number, zero: boolean): void {
  if (zero) b.fill(0, off, off + len);
  else fillRandom(c.r, b, off, off + len);
}

const TILECFG = 17;

/**
 * A TILECFG image (64 bytes at `off`): a valid palette-1 configuration (random start_row, a random subset
 * of the palette's tiles configured within its row and bytes-per-row limits), half the time with one
 * near miss that LDTILECFG would reject (palette 0 or above the maximum, a reserved byte, a limit
 * exceeded by one or more, rows or colsb alone zero, a tile beyond the palette's max_names). Random
 * bytes alone are practically never a valid configuration, and XRSTOR loads the two kinds differently.
 */
function tileConfig(c: Ctx, b: Uint8Array, off: number): void {
  const { names, bytesPerRow, maxRows } = c.tiles;
  b.fill(0, off, off + 64);
  b[off] = 1;
  if (chance(c.r, 0.5)) b[off + 1] = nextU32(c.r) & 0xff;
  for (let t = 0; t < names; t++) {
    if (chance(c.r, 0.3)) continue;
    const colsb = 1 + nextInt(c.r, bytesPerRow);
    b[off + 16 + 2 * t] = colsb & 0xff;
    b[off + 17 + 2 * t] = colsb >>> 8;
    b[off + 48 + t] = 1 + nextInt(c.r, maxRows);
  }
  if (chance(c.r, 0.5)) return;
  const t = nextInt(c.r, names);
  switch (nextInt(c.r, 8)) {
    case 0:
      b[off] = 0; // palette 0: the init configuration whatever follows
      break;
    case 1:
      b[off] = 2 + nextInt(c.r, 254);
      break;
    case 2:
      b[off + 2 + nextInt(c.r, 14)] = 1 + nextInt(c.r, 255);
      break;
    case 3: {
      const colsb = bytesPerRow + 1 + nextInt(c.r, chance(c.r, 0.5) ? 2 : 0xffff - bytesPerRow);
      b[off + 16 + 2 * t] = colsb & 0xff;
      b[off + 17 + 2 * t] = colsb >>> 8;
      if (b[off + 48 + t] === 0) b[off + 48 + t] = 1;
      break;
    }
    case 4:
      b[off + 48 + t] = maxRows + 1 + nextInt(c.r, 255 - maxRows);
      if (b[off + 16 + 2 * t] === 0) b[off + 16 + 2 * t] = 4;
      break;
    case 5:
      b[off + 16 + 2 * t] = 0;
      b[off + 17 + 2 * t] = 0;
      b[off + 48 + t] = 1 + nextInt(c.r, maxRows);
      break;
    case 6:
      b[off + 16 + 2 * t] = 1 + nextInt(c.r, bytesPerRow);
      b[off + 48 + t] = 0;
      break;
    default:
      if (names >= 16) b[off] = 0;
      else if (chance(c.r, 0.5)) b[off + 16 + 2 * names + nextInt(c.r, 32 - 2 * names)] = 1 + nextInt(c.r, 255);
      else b[off + 48 + names + nextInt(c.r, 16 - names)] = 1 + nextInt(c.r, 255);
  }
}

/**
 * A valid XRSTOR image over random garbage: each component of XCR0 is init (XSTATE_BV[i] = 0, its
 * bytes left as garbage), random, or zero with XSTATE_BV[i] = 1.
 */
function randomImage(c: Ctx, compacted: boolean): { bytes: Uint8Array; bv: number } {
  const b = new Uint8Array(BUF);
  fillRandom(c.r, b);
  let bv = 0;
  let xc = 0;
  if (compacted) for (const i of c.comps) if (i < 2 || chance(c.r, 0.8)) xc |= 1 << i;
  for (const i of c.comps) {
    if (compacted && !((xc >>> i) & 1)) continue;
    const mode = nextInt(c.r, 3); // 0 init, 1 random, 2 zero but present
    if (mode === 0) continue;
    bv |= 1 << i;
    const off = i === 0 ? 0 : i === 1 ? 160 : compacted ? compactedOffset(c.p, xc, 0, i) : c.p.components.find((g) => g.index === i)!.offset;
    const len = i === 0 ? 160 : i === 1 ? 256 : c.p.components.find((g) => g.index === i)!.size;
    if (i === 0) {
      componentData(c, b, 0, 24, mode === 2);
      componentData(c, b, 32, 160, mode === 2);
    } else if (i === TILECFG && mode === 1 && len === 64 && chance(c.r, 0.7)) tileConfig(c, b, off);
    else componentData(c, b, off, len, mode === 2);
  }
  u32le(b, 24, randomMxcsr(c));
  b.fill(0, 512, 576);
  u32le(b, 512, bv >>> 0);
  if (compacted) {
    u32le(b, 520, xc >>> 0);
    u32le(b, 524, 0x8000_0000);
  }
  return { bytes: b, bv };
}

function sentinel(c: Ctx, misalign = 0): { misalign: number; bytes: Uint8Array } {
  const b = new Uint8Array(BUF);
  if (chance(c.r, 0.5)) fillRandom(c.r, b);
  else b.fill(0xa5);
  // Standard-format saves keep XSTATE_BV bits outside RFBM and never write XCOMP_BV: make them visible.
  if (chance(c.r, 0.5)) b.fill(0, 512, 576);
  return { misalign, bytes: b };
}

function firstRestore(c: Ctx): { misalign: number; bytes: Uint8Array } {
  return { misalign: 0, bytes: randomImage(c, chance(c.r, 0.3)).bytes };
}

const SAVES = [Op.XSAVE, Op.XSAVEOPT, Op.XSAVEC];

/** Restore, then observe with XGETBV(1) and a save of a random kind and RFBM. */
function restoreSave(c: Ctx): HwCase {
  const op = pick(c.r, SAVES);
  return {
    kind: `XRSTOR then ${OP_NAMES[op]}`,
    bufs: [firstRestore(c), sentinel(c)],
    steps: [step(Op.XRSTOR, 0), step(Op.XGETBV, 0, 1), step(op, 1, randomRfbm(c), 0)],
  };
}

/** A second XRSTOR with a random RFBM over a full one: untouched components must survive. */
function partialRestore(c: Ctx): HwCase {
  const img = randomImage(c, chance(c.r, 0.4));
  return {
    kind: 'XRSTOR, partial XRSTOR, XSAVE',
    bufs: [firstRestore(c), { misalign: 0, bytes: img.bytes }, sentinel(c)],
    steps: [step(Op.XRSTOR, 0), step(Op.XRSTOR, 1, randomRfbm(c), 0), step(Op.XGETBV, 0, 1), step(pick(c.r, SAVES), 2)],
  };
}

/**
 * XSAVEOPT after XRSTOR from the same address, with the area changed in between (the modified
 * optimization may then leave the stale byte), or into a different address (it may not apply).
 */
function xsaveoptTracking(c: Ctx): HwCase {
  const img = randomImage(c, false);
  const same = chance(c.r, 0.6);
  const steps: HwStep[] = [step(Op.XRSTOR, 0)];
  if (same) {
    // poke a byte inside a component that is present in the image
    const present = c.comps.filter((i) => (img.bv >>> i) & 1);
    if (present.length > 0 && chance(c.r, 0.8)) {
      const i = pick(c.r, present);
      const g = c.p.components.find((x) => x.index === i);
      const off = i === 0 ? 32 + nextInt(c.r, 128) : i === 1 ? 160 + nextInt(c.r, 256) : g!.offset + nextInt(c.r, g!.size);
      steps.push(step(Op.POKE, 0, 0, 0, off, nextU32(c.r) & 0xff));
    }
    if (chance(c.r, 0.3)) steps.push(step(Op.XRSTOR, 0, randomRfbm(c), 0));
    steps.push(step(Op.XSAVEOPT, 0, randomRfbm(c), 0));
    return { kind: 'XSAVEOPT after XRSTOR from the same address', bufs: [{ misalign: 0, bytes: img.bytes }], steps };
  }
  const other = { misalign: 0, bytes: chance(c.r, 0.5) ? img.bytes.slice() : sentinel(c).bytes };
  steps.push(step(Op.XSAVEOPT, 1, randomRfbm(c), 0));
  return { kind: 'XSAVEOPT after XRSTOR from a different address', bufs: [{ misalign: 0, bytes: img.bytes }, other], steps };
}

/** FXRSTOR/FXSAVE round trips, mixed with the XSAVE family. */
function fx(c: Ctx): HwCase {
  const legacy = new Uint8Array(BUF);
  fillRandom(c.r, legacy);
  u32le(legacy, 24, randomMxcsr(c));
  return {
    kind: 'FXRSTOR, FXSAVE, XSAVE',
    bufs: [firstRestore(c), { misalign: 0, bytes: legacy }, sentinel(c), sentinel(c)],
    steps: [step(Op.XRSTOR, 0), step(Op.FXRSTOR, 1), step(Op.XGETBV, 0, 1), step(Op.FXSAVE, 2), step(pick(c.r, SAVES), 3, randomRfbm(c), 0)],
  };
}

/** Headers and operands that must fault (#GP -> SIGSEGV), and near misses that must not. */
function crafted(c: Ctx): HwCase {
  const img = randomImage(c, chance(c.r, 0.5));
  const b = img.bytes;
  const bad: Array<[string, () => void]> = [
    ['reserved header byte', () => (b[528 + nextInt(c.r, 48)] = 1 + nextInt(c.r, 255))],
    ['XSTATE_BV bit outside XCR0', () => (b[512 + nextInt(c.r, 8)] |= 1 << nextInt(c.r, 8))],
    ['XCOMP_BV bit outside XCR0', () => (b[520 + nextInt(c.r, 7)] |= 1 << nextInt(c.r, 8))],
    ['MXCSR reserved bit', () => u32le(b, 24, (0x1f80 | ((~c.mxcsrMask >>> 0) & (1 << (18 + nextInt(c.r, 14))))) >>> 0)],
    ['XCOMP_BV[63] flipped', () => (b[527] ^= 0x80)],
  ];
  const [what, mutate] = pick(c.r, bad);
  mutate();
  const misalign = chance(c.r, 0.15) ? pick(c.r, [8, 16, 32, 48]) : 0;
  return {
    kind: `crafted XRSTOR (${what}${misalign ? `, misaligned ${misalign}` : ''})`,
    bufs: [firstRestore(c), { misalign, bytes: b }, sentinel(c)],
    steps: [step(Op.XRSTOR, 0), step(Op.XRSTOR, 1, randomRfbm(c), 0), step(Op.XSAVE, 2)],
  };
}

/** Saves to misaligned areas: XSAVE* need 64 bytes, FXSAVE 16. */
function misaligned(c: Ctx): HwCase {
  const op = pick(c.r, [Op.XSAVE, Op.XSAVEOPT, Op.XSAVEC, Op.FXSAVE, Op.FXRSTOR]);
  const mis = pick(c.r, [8, 16, 32, 48, 4]);
  return {
    kind: `${OP_NAMES[op]} to an area misaligned by ${mis}`,
    bufs: [firstRestore(c), sentinel(c, mis)],
    steps: [step(Op.XRSTOR, 0), step(op, 1, randomRfbm(c), 0)],
  };
}

export function generateCases(p: CpuProfile, xcr0: bigint, mxcsrMask: number, seed: number, n: number): HwCase[] {
  const t1 = cpuid(p.leaves, 0x1d, 1);
  const tiles = t1
    ? { names: Math.min(t1[EBX] >>> 16, 16), bytesPerRow: t1[EBX] & 0xffff, maxRows: t1[ECX] & 0xffff }
    : { names: 8, bytesPerRow: 64, maxRows: 16 };
  const c: Ctx = { r: createPrng(seed), p, xcr0, comps: bitsOf(xcr0), mxcsrMask, tiles };
  const gens: Array<[number, (c: Ctx) => HwCase]> = [
    [30, restoreSave],
    [20, partialRestore],
    [20, xsaveoptTracking],
    [12, fx],
    [12, crafted],
    [6, misaligned],
  ];
  const total = gens.reduce((s, [w]) => s + w, 0);
  const out: HwCase[] = [];
  for (let k = 0; k < n; k++) {
    let x = nextInt(c.r, total);
    for (const [w, g] of gens) {
      if (x < w) {
        out.push(g(c));
        break;
      }
      x -= w;
    }
  }
  return out;
}
