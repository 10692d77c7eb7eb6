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
