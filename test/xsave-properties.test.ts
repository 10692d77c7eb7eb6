/**
 * Property tests (fast-check) of the XSAVE model: the byte codec round-trips, the slot cache never
 * changes an outcome, random headers fault exactly when the SDM's rules say, and layouts obey the
 * compaction rules for random masks.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { sprProfile, SPR_XCR0 } from './fixtures/spr.js';
import { createMachine } from '../src/arch/xsave/machine.js';
import { areaFromBytes, createArea, readU32, writeU32, XsaveArea } from '../src/arch/xsave/area.js';
import { cloneXState, enabledXState, sameXState } from '../src/arch/xsave/state.js';
import { xrstor, xsave, xsavec, xsaveopt } from '../src/arch/xsave/instructions.js';
import { writeComponent } from '../src/arch/xsave/registers.js';
import { intern, normalizeLoaded } from '../src/arch/xsave/values.js';
import { computeLayout, xcr0Problem } from '../src/arch/layout.js';
import { bitsOf } from '../src/arch/mask.js';

const m0 = createMachine(sprProfile());
const USER = bitsOf(SPR_XCR0);
const NUM_RUNS = 300;

/** A random register file on SPR: each component init or a random (normalized) value. */
const arbState = fc
  .record({
    comps: fc.array(fc.tuple(fc.constantFrom(...USER), fc.uint8Array({ minLength: 16, maxLength: 16 })), { maxLength: 10 }),
    mxcsr: fc.integer({ min: 0, max: 0xffff }),
  })
  .map(({ comps, mxcsr }) => {
    const s = enabledXState(SPR_XCR0, 0n, 3);
    for (const [i, seed] of comps) {
      const size = m0.pool.images[i][0].length;
      const raw = new Uint8Array(size);
      for (let k = 0; k < size; k++) raw[k] = seed[k % 16] ^ (k * 7);
      const norm = new Uint8Array(size);
      normalizeLoaded(i, raw, 0, norm, size, m0.load);
      writeComponent(s, i, intern(m0.pool, i, norm));
    }
    s.mxcsr = mxcsr;
    return s;
  });

const arbRfbm = fc.oneof(fc.constant(0xffff_ffff), fc.integer({ min: 0, max: 0xffff_ffff }));

function noCache(a: XsaveArea): XsaveArea {
  return areaFromBytes(a.address, a.bytes);
}

test('codec round trip: XSAVE/XSAVEC then XRSTOR restores every requested component exactly', () => {
  fc.assert(
    fc.property(arbState, arbRfbm, fc.boolean(), (s, rfbm, compacted) => {
      const a = createArea(0x4000, 12288);
      const f = compacted ? xsavec(m0, s, a, rfbm, 0) : xsave(m0, s, a, rfbm, 0);
      assert.equal(f, null);
      const t = enabledXState(SPR_XCR0, 0n, 3);
      assert.equal(xrstor(m0, t, noCache(a), rfbm, 0), null);
      for (const i of USER) {
        if (((rfbm >>> i) & 1) === 0) continue;
        assert.equal(t.tok[i], s.tok[i], `component ${i}`);
      }
      if ((rfbm & 2) !== 0 || (!compacted && (rfbm & 4) !== 0)) assert.equal(t.mxcsr, s.mxcsr);
    }),
    { numRuns: NUM_RUNS },
  );
});

test('the slot cache never changes an outcome: bytes-only areas behave identically', () => {
  const ops = [xsave, xsaveopt, xsavec, xrstor];
  fc.assert(
    fc.property(arbState, fc.array(fc.tuple(fc.integer({ min: 0, max: 3 }), arbRfbm), { minLength: 1, maxLength: 8 }), (s0, prog) => {
      const s1 = cloneXState(s0);
      const s2 = cloneXState(s0);
      const a1 = createArea(0x8000, 12288);
      assert.equal(xsave(m0, s1, a1, 0xffff_ffff, 0), null);
      let a2 = noCache(a1);
      assert.equal(xsave(m0, s2, createArea(0x8000, 12288), 0xffff_ffff, 0), null);
      for (const [op, rfbm] of prog) {
        const r1 = ops[op](m0, s1, a1, rfbm, 0);
        const r2 = ops[op](m0, s2, a2, rfbm, 0);
        assert.deepEqual(r1, r2);
        assert.deepEqual(a1.bytes, a2.bytes);
        assert.ok(sameXState(s1, s2));
        a2 = noCache(a2); // keep the second path on decoding from bytes every time
      }
    }),
    { numRuns: NUM_RUNS },
  );
});

/** The SDM's XRSTOR header rules, restated independently of the model (SDM 13.8.1). */
function expectGp(b: Uint8Array, xcr0: number, mxcsrMask: number, rfbm: number): boolean {
  const bv = readU32(b, 512);
  const bvHi = readU32(b, 516);
  const xc = readU32(b, 520);
  const xcHi = readU32(b, 524);
  const rsv = (from: number, to: number): boolean => b.slice(from, to).some((x) => x !== 0);
  const mx = readU32(b, 24);
  if (xcHi & 0x8000_0000) {
    if ((xcHi & 0x7fff_ffff) !== 0 || (xc & ~xcr0) !== 0) return true;
    if (bvHi !== 0 || (bv & ~xc) !== 0) return true;
    if (rsv(528, 576)) return true;
    return (rfbm & bv & 2) !== 0 && (mx & ~mxcsrMask) !== 0;
  }
  if (rsv(520, 536)) return true;
  if (bvHi !== 0 || (bv & ~xcr0) !== 0) return true;
  return (rfbm & 6) !== 0 && (mx & ~mxcsrMask) !== 0;
}

test('random XSAVE headers: XRSTOR raises #GP exactly when the SDM rules say so', () => {
  const s0 = enabledXState(SPR_XCR0, 0n, 3);
  const base = createArea(0x4000, 12288);
  xsavec(m0, s0, base, 0xffff_ffff, 0);
  fc.assert(
    fc.property(
      fc.boolean(),
      fc.array(fc.tuple(fc.integer({ min: 512, max: 575 }), fc.integer({ min: 0, max: 255 })), { maxLength: 3 }),
      fc.option(fc.integer({ min: 0, max: 0xffff_ffff })),
      arbRfbm,
      (compacted, pokes, mxcsr, rfbm) => {
        const b = base.bytes.slice();
        if (!compacted) b.fill(0, 512, 576);
        for (const [o, v] of pokes) b[o] = v;
        if (mxcsr !== null) writeU32(b, 24, mxcsr);
        const s = cloneXState(s0);
        const f = xrstor(m0, s, areaFromBytes(0x4000, b), rfbm, 0);
        assert.equal(f?.vector === '#GP', expectGp(b, Number(SPR_XCR0), m0.profile.quirks.mxcsrMask, (rfbm & Number(SPR_XCR0)) >>> 0), f?.reason);
      },
    ),
    { numRuns: 2000 },
  );
});

test('random XCR0/XSS: compacted layouts are ordered, aligned and dense; standard ones never overlap', () => {
  const p = sprProfile();
  fc.assert(
    fc.property(fc.bigInt({ min: 0n, max: (1n << 19n) - 1n }), fc.bigInt({ min: 0n, max: (1n << 17n) - 1n }), (x, y) => {
      const xcr0 = (x & p.xcr0Supported) | 1n;
      const xss = y & p.xssSupported;
      if (xcr0Problem(p, xcr0)) return;
      const l = computeLayout(p, xcr0, xss);
      let end = 576;
      for (const c of l.components) {
        const off = c.xsavesOffset!;
        assert.ok(off >= end, 'compacted components ascend without overlap');
        assert.equal(off, c.align64 ? (end + 63) & ~63 : end, 'and are packed');
        end = off + c.size;
      }
      assert.equal(l.xsavesSize, end);
      const std = l.components.filter((c) => c.standardOffset !== null).sort((a, b) => a.standardOffset! - b.standardOffset!);
      for (let k = 1; k < std.length; k++) assert.ok(std[k].standardOffset! >= std[k - 1].standardOffset! + std[k - 1].size);
    }),
    { numRuns: 1000 },
  );
});
