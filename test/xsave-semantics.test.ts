/**
 * Model-only tests of the XSAVE family against the SDM rules, on a Sapphire Rapids profile (AMX, XFD,
 * XSAVES) so that they do not depend on the machine running them.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { sprProfile, SPR_XCR0 } from './fixtures/spr.js';
import { createMachine, XMachine } from '../src/arch/xsave/machine.js';
import { createArea, readU32, writeAreaBytes, XsaveArea } from '../src/arch/xsave/area.js';
import { enabledXState, XState } from '../src/arch/xsave/state.js';
import { fxrstor, fxsave, xrstor, xrstors, xsave, xsavec, xsaveopt, xsaves } from '../src/arch/xsave/instructions.js';
import { rdmsr, wrmsr, xgetbv, xsetbv, MSR_IA32_XFD, MSR_IA32_XFD_ERR, MSR_IA32_XSS } from '../src/arch/xsave/control.js';
import { initComponent, writeComponent } from '../src/arch/xsave/registers.js';
import { intern } from '../src/arch/xsave/values.js';
import { compactedOffset } from '../src/arch/layout.js';
import { builtinProfile } from '../src/arch/profiles/builtin.js';

const ALL = 0xffff_ffff;

function setup(cpl = 3): { m: XMachine; s: XState } {
  const m = createMachine(sprProfile());
  return { m, s: enabledXState(SPR_XCR0, cpl === 0 ? 0x400n : 0n, cpl) };
}

function value(m: XMachine, i: number, byte: number): number {
  const b = new Uint8Array(m.pool.images[i][0].length).fill(byte);
  if (i === 0) {
    // a valid x87 image: FCW with bit 6, FSW without pending exceptions, 48-bit canonical pointers
    b.fill(0, 0, 32);
    b[0] = 0x7f;
    b[1] = 0x03;
    b[4] = byte;
    for (let r = 0; r < 8; r++) b.fill(0, 32 + 16 * r + 10, 32 + 16 * r + 16);
  }
  return intern(m.pool, i, b);
}

function area(size = 12288, address = 0x1000): XsaveArea {
  return createArea(address, size);
}

test('XSAVE writes every requested component and merges XSTATE_BV (SDM 13.7)', () => {
  const { m, s } = setup();
  writeComponent(s, 2, value(m, 2, 0x11));
  const a = area();
  a.bytes.fill(0xee, 512, 528); // XSTATE_BV and XCOMP_BV hold junk
  assert.equal(xsave(m, s, a, 0x4, 0), null);
  assert.equal(a.bytes[576], 0x11);
  // bits outside RFBM keep their old value; XCOMP_BV is not written
  assert.equal(readU32(a.bytes, 512), 0xeeeeeeee >>> 0);
  assert.equal(readU32(a.bytes, 520), 0xeeeeeeee);
  // a component in init state is still written (with its init value) by XSAVE
  a.bytes.fill(0x55, 2816, 2816 + 64);
  assert.equal(xsave(m, s, a, 1 << 18, 0), null);
  assert.equal(a.bytes[2816], 0);
  assert.equal(readU32(a.bytes, 512) & (1 << 18), 0);
});

test('XSAVEC: compacted offsets, XSTATE_BV = XINUSE & RFBM, XCOMP_BV = RFBM | bit 63 (SDM 13.10)', () => {
  const { m, s } = setup();
  writeComponent(s, 18, value(m, 18, 0x22));
  writeComponent(s, 9, value(m, 9, 0x33));
  const a = area();
  a.bytes.fill(0xff, 512, 528);
  assert.equal(xsavec(m, s, a, ALL, ALL), null);
  assert.equal(readU32(a.bytes, 512), (1 << 9) | (1 << 18));
  assert.equal(readU32(a.bytes, 520), Number(SPR_XCR0));
  assert.equal(readU32(a.bytes, 524), 0x8000_0000);
  assert.equal(a.bytes[compactedOffset(m.profile, Number(SPR_XCR0), 0, 18)], 0x22);
  assert.equal(a.bytes[2432], 0x33); // PKRU right after Hi16_ZMM in compacted form
  // SSE is saved when MXCSR is not the default even with XMM in init state
  s.mxcsr = 0x1f81 & 0xffff;
  const b = area();
  assert.equal(xsavec(m, s, b, 0x2, 0), null);
  assert.equal(readU32(b.bytes, 512), 2);
  assert.equal(readU32(b.bytes, 24), 0x1f81);
});

test('XSAVEOPT: init optimization, and the modified optimization keyed by XRSTOR_INFO (SDM 13.9)', () => {
  const { m, s } = setup();
  writeComponent(s, 2, value(m, 2, 0x44));
  const a = area();
  assert.equal(xsave(m, s, a, ALL, ALL), null);
  assert.equal(xrstor(m, s, a, ALL, ALL), null);
  // software breaks the obligation: it edits the area between XRSTOR and XSAVEOPT
  writeAreaBytes(a, 600, new Uint8Array([0x99]));
  assert.equal(xsaveopt(m, s, a, ALL, ALL), null);
  assert.equal(a.bytes[600], 0x99, 'AVX not modified since XRSTOR from this address: not written');
  // a different address defeats the optimization
  const b = area(12288, 0x9000);
  b.bytes.set(a.bytes);
  assert.equal(xsaveopt(m, s, b, ALL, ALL), null);
  assert.equal(b.bytes[600], 0x44);
  // modifying the component defeats it too
  writeComponent(s, 2, value(m, 2, 0x45));
  assert.equal(xsaveopt(m, s, a, ALL, ALL), null);
  assert.equal(a.bytes[600], 0x45);
  // init optimization: a component in init state is not written, XSTATE_BV[i] = 0
  initComponent(s, 2);
  a.bytes.fill(0x77, 576, 832);
  assert.equal(xsaveopt(m, s, a, ALL, ALL), null);
  assert.equal(a.bytes[576], 0x77);
  assert.equal(readU32(a.bytes, 512) & 4, 0);
});

test('XSAVES/XRSTORS: CPL 0 only, supervisor components, compacted-only restore, modified optimization tuple', () => {
  const { m, s } = setup(0);
  writeComponent(s, 10, value(m, 10, 0x5a)); // PASID
  const a = area();
  assert.equal(xsaves(m, s, a, ALL, ALL), null);
  assert.equal(readU32(a.bytes, 520), Number(SPR_XCR0) | 0x400);
  assert.equal(a.bytes[compactedOffset(m.profile, Number(SPR_XCR0) | 0x400, 0, 10)], 0x5a);
  s.tok[10] = 0;
  assert.equal(xrstors(m, s, a, ALL, ALL), null);
  assert.notEqual(s.tok[10], 0);
  const user = enabledXState(SPR_XCR0, 0x400n, 3);
  assert.equal(xsaves(m, user, a, ALL, ALL)?.vector, '#GP');
  assert.equal(xrstors(m, user, a, ALL, ALL)?.vector, '#GP');
  const std = area();
  assert.equal(xsave(m, s, std, ALL, ALL), null);
  assert.equal(xrstors(m, s, std, ALL, ALL)?.reason, 'XRSTORS from a standard-format area (XCOMP_BV[63] = 0)');
});

test('XRSTOR header, MXCSR and alignment faults are #GP values (SDM 13.8)', () => {
  const { m, s } = setup();
  const good = area();
  assert.equal(xsave(m, s, good, ALL, ALL), null);
  const cases: Array<[string, (b: Uint8Array) => void]> = [
    ['XSAVE header bytes 23:8 are not zero (standard form)', (b) => (b[530] = 1)],
    ['XSTATE_BV has bits not enabled in XCR0', (b) => (b[513] |= 0x04)], // bit 10, PASID: supervisor
    ['MXCSR 0x10000 sets bits outside MXCSR_MASK 0xffff', (b) => b.set([0, 0, 1, 0], 24)],
  ];
  for (const [reason, mutate] of cases) {
    const a = area();
    a.bytes.set(good.bytes);
    mutate(a.bytes);
    const f = xrstor(m, s, a, ALL, ALL);
    assert.equal(f?.vector, '#GP', reason);
    assert.equal(f?.reason, reason);
    assert.equal(s.trkValid, false, 'a failed XRSTOR leaves no XRSTOR_INFO');
  }
  const c = area();
  assert.equal(xsavec(m, s, c, ALL, ALL), null);
  const compactCases: Array<[string, (b: Uint8Array) => void]> = [
    ['XCOMP_BV has bits not enabled in XCR0', (b) => (b[521] |= 0x04)],
    ['XSTATE_BV has bits not set in XCOMP_BV', (b) => ((b[520] &= ~0x04), (b[512] |= 0x04))],
    ['XSAVE header bytes 63:16 are not zero', (b) => (b[575] = 1)],
  ];
  for (const [reason, mutate] of compactCases) {
    const a = area();
    a.bytes.set(c.bytes);
    mutate(a.bytes);
    assert.equal(xrstor(m, s, a, ALL, ALL)?.reason, reason);
  }
  assert.equal(xsave(m, s, area(12288, 0x1010), ALL, ALL)?.vector, '#GP');
  assert.equal(fxsave(m, s, area(512, 0x1008))?.vector, '#GP');
  assert.equal(fxsave(m, s, area(512, 0x1010)), null);
  assert.equal(xsave(m, s, area(1000), ALL, ALL)?.vector, '#PF');
});

test('#UD without CR4.OSXSAVE, #NM with CR0.TS', () => {
  const { m, s } = setup();
  s.cr4Osxsave = false;
  assert.equal(xsave(m, s, area(), ALL, ALL)?.vector, '#UD');
  assert.equal(xgetbv(m, s, 0).fault?.vector, '#UD');
  s.cr4Osxsave = true;
  s.cr0Ts = true;
  assert.equal(xrstor(m, s, area(), ALL, ALL)?.vector, '#NM');
  assert.equal(fxrstor(m, s, area())?.vector, '#NM');
});

test('XFD: armed components save as init, restore raises #NM and records IA32_XFD_ERR (SDM 13.14)', () => {
  const { m, s } = setup(0);
  writeComponent(s, 18, value(m, 18, 0x66));
  const a = area();
  assert.equal(xsave(m, s, a, ALL, ALL), null);
  assert.equal(wrmsr(m, s, MSR_IA32_XFD, 1n << 18n), null);
  assert.equal(wrmsr(m, s, MSR_IA32_XFD, 1n << 17n)?.vector, '#GP', 'TILECFG has no XFD support');
  const b = area();
  assert.equal(xsavec(m, s, b, ALL, ALL), null);
  assert.equal(readU32(b.bytes, 512) & (1 << 18), 0, 'armed TILEDATA saved as init');
  const f = xrstor(m, s, a, ALL, ALL);
  assert.equal(f?.vector, '#NM');
  assert.equal(rdmsr(m, s, MSR_IA32_XFD_ERR).value, 1n << 18n);
  assert.equal(writeComponent(s, 18, 1)?.vector, '#NM', 'any use of an armed component traps');
  // the profile switch: silent-init
  const quiet = createMachine({ ...m.profile, quirks: { ...m.profile.quirks, xfdRestore: 'silent-init' } });
  const s2 = enabledXState(SPR_XCR0, 0n, 0);
  s2.xfdLo = 1 << 18;
  s2.tok[18] = 5;
  const a2 = createArea(0x4000, 12288);
  a2.bytes.set(a.bytes);
  assert.equal(xrstor(quiet, s2, a2, ALL, ALL), null);
  assert.equal(s2.tok[18], 0);
});

test('XGETBV / XSETBV / IA32_XSS rules', () => {
  const { m, s } = setup();
  assert.equal(xgetbv(m, s, 0).value, SPR_XCR0);
  writeComponent(s, 2, value(m, 2, 1));
  assert.equal(xgetbv(m, s, 1).value, 4n);
  assert.equal(xgetbv(m, s, 2).fault?.vector, '#GP');
  assert.equal(xsetbv(m, s, 0, 7n)?.vector, '#GP', 'CPL 3');
  s.cpl = 0;
  assert.equal(xsetbv(m, s, 0, 0x27n)?.vector, '#GP', 'partial AVX-512');
  assert.equal(xsetbv(m, s, 0, 0x20007n)?.vector, '#GP', 'half of AMX');
  assert.equal(xsetbv(m, s, 0, 3n), null);
  assert.equal(s.tok[2], 0, 'AVX disabled returns to init');
  assert.equal(wrmsr(m, s, MSR_IA32_XSS, 0x2n)?.vector, '#GP');
  assert.equal(wrmsr(m, s, MSR_IA32_XSS, 0x400n), null);
});

test('FXSAVE/FXRSTOR move x87, MXCSR and XMM only', () => {
  const { m, s } = setup();
  writeComponent(s, 1, value(m, 1, 0x3c));
  writeComponent(s, 2, value(m, 2, 0x3d));
  const a = area(512, 0x2000);
  a.bytes.fill(0xab);
  assert.equal(fxsave(m, s, a), null);
  assert.equal(a.bytes[160], 0x3c);
  assert.equal(a.bytes[500], 0xab, 'bytes 464-511 are never written');
  assert.equal(readU32(a.bytes, 28), 0xffff);
  s.tok[1] = 0;
  assert.equal(fxrstor(m, s, a), null);
  assert.equal(m.pool.images[1][s.tok[1]][0], 0x3c);
});

/** A standard-format image holding only `bv`'s components, with TILECFG `cfg` and TILEDATA bytes 0x5a. */
function amxImage(cfg: Uint8Array, bv = 0x60000): XsaveArea {
  const a = area();
  a.bytes[0] = 0x7f;
  a.bytes[1] = 0x03;
  a.bytes.set([0x80, 0x1f], 24);
  a.bytes.set([bv & 0xff, (bv >>> 8) & 0xff, (bv >>> 16) & 0xff], 512);
  a.bytes.set(cfg, 2752);
  a.bytes.fill(0x5a, 2816, 2816 + 8192);
  return a;
}

/** Palette 1, start_row 5, tile 0 with 16 rows of 64 bytes and tile 7 with 1 row of 4 bytes. */
function validTilecfg(): Uint8Array {
  const c = new Uint8Array(64);
  c[0] = 1;
  c[1] = 5;
  c[16] = 64;
  c[48] = 16;
  c[30] = 4;
  c[55] = 1;
  return c;
}

test('AMX TILECFG: XRSTOR loads a configuration LDTILECFG would reject as init, without a fault (measured on Intel)', () => {
  const { m, s } = setup();
  // valid: kept byte for byte (start_row included), XINUSE[17] = TILES_CONFIGURED = 1
  const good = amxImage(validTilecfg());
  assert.equal(xrstor(m, s, good, ALL, ALL), null);
  assert.equal(xgetbv(m, s, 1).value! & 0x60000n, 0x60000n);
  const out = area(12288, 0x8000);
  assert.equal(xsave(m, s, out, ALL, ALL), null);
  assert.deepEqual(out.bytes.slice(2752, 2816), validTilecfg());
  const bad: Array<[string, (c: Uint8Array) => void]> = [
    ['palette 0', (c) => (c[0] = 0)],
    ['palette 2 (above CPUID.(1DH,0):EAX)', (c) => (c[0] = 2)],
    ['reserved byte 2', (c) => (c[2] = 1)],
    ['colsb above bytes_per_row', (c) => (c[16] = 65)],
    ['rows above max_rows', (c) => (c[48] = 17)],
    ['rows without colsb', (c) => (c[49] = 1)],
    ['colsb without rows', (c) => (c[18] = 4)],
    ['tile 8 (beyond max_names)', (c) => ((c[32] = 4), (c[56] = 1))],
  ];
  for (const [what, mutate] of bad) {
    const cfg = validTilecfg();
    mutate(cfg);
    const t = enabledXState(SPR_XCR0, 0n, 3);
    assert.equal(xrstor(m, t, amxImage(cfg), ALL, ALL), null, what);
    assert.equal(t.tok[17], 0, `${what}: TILECFG in its init configuration`);
    assert.equal(xgetbv(m, t, 1).value! & 0x60000n, 0x40000n, `${what}: XINUSE[17] = 0, TILEDATA still loaded`);
    const c = area(12288, 0x8000);
    assert.equal(xsavec(m, t, c, ALL, ALL), null);
    assert.equal(readU32(c.bytes, 512) & 0x60000, 0x40000, `${what}: XSAVEC writes XSTATE_BV[17] = 0`);
  }
});

test('AMX TILECFG takes no modified optimization: XSAVEOPT rewrites it after XRSTOR from the same address (measured on Intel)', () => {
  const { m, s } = setup();
  const a = amxImage(validTilecfg(), 0x60004);
  a.bytes.fill(0x33, 576, 832);
  assert.equal(xrstor(m, s, a, ALL, ALL), null);
  writeAreaBytes(a, 2753, new Uint8Array([0x77])); // start_row
  writeAreaBytes(a, 2817, new Uint8Array([0x77])); // TILEDATA
  writeAreaBytes(a, 577, new Uint8Array([0x77])); // AVX
  assert.equal(xsaveopt(m, s, a, ALL, ALL), null);
  assert.equal(a.bytes[2753], 5, 'TILECFG written again');
  assert.equal(a.bytes[2817], 0x77, 'TILEDATA unmodified since the XRSTOR: skipped');
  assert.equal(a.bytes[577], 0x77, 'AVX unmodified since the XRSTOR: skipped');
});

test('x87 FDP: kept as loaded on Intel, canonical like FIP on AMD (quirk x87FdpCanonical, measured)', () => {
  assert.equal(sprProfile().quirks.x87FdpCanonical, false);
  assert.equal(builtinProfile('zen3')?.quirks.x87FdpCanonical, true);
  const img = area();
  img.bytes[0] = 0x7f;
  img.bytes[1] = 0x03;
  img.bytes.set([0x00, 0x10, 0, 0, 0, 0, 0x80, 0x86], 8); // FIP 0x8680000000001000
  img.bytes.set([0x00, 0x10, 0, 0, 0, 0, 0x80, 0x86], 16); // FDP the same
  img.bytes[512] = 1;
  for (const canonicalFdp of [false, true]) {
    const p = sprProfile();
    const m = createMachine({ ...p, quirks: { ...p.quirks, x87FdpCanonical: canonicalFdp } });
    const s = enabledXState(SPR_XCR0, 0n, 3);
    assert.equal(xrstor(m, s, img, ALL, ALL), null);
    const out = area(12288, 0x8000);
    assert.equal(fxsave(m, s, out), null);
    // SPR: 57-bit linear addresses (CPUID 80000008H EAX[15:8] = 57): bit 56 is 0
    assert.deepEqual([...out.bytes.slice(8, 16)], [0x00, 0x10, 0, 0, 0, 0, 0x80, 0x00], 'FIP canonical');
    assert.deepEqual([...out.bytes.slice(16, 24)], [0x00, 0x10, 0, 0, 0, 0, 0x80, canonicalFdp ? 0x00 : 0x86]);
  }
});

test('XGETBV(1) reports SSE in use when MXCSR != 1F80H, while the saves treat SSE as init (measured on AMD and Intel)', () => {
  const { m, s } = setup();
  const a = area();
  a.bytes[0] = 0x7f;
  a.bytes[1] = 0x03;
  a.bytes.set([0x81, 0x1f], 24); // MXCSR 1F81H, XSTATE_BV = 0
  assert.equal(xrstor(m, s, a, ALL, ALL), null);
  assert.equal(xgetbv(m, s, 1).value, 2n);
  const out = area(12288, 0x8000);
  assert.equal(xsave(m, s, out, 2, 0), null);
  assert.equal(readU32(out.bytes, 512) & 2, 0);
});
