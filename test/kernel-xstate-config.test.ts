import { test } from 'node:test';
import assert from 'node:assert/strict';
import { InputError } from '../src/arch/errors.js';
import { featureKeys, xstateConfig } from '../src/kernel/fpu/xstate-config.js';
import { dumpProfile, hostFixture, withCpuid } from './fixtures/kernel/load.js';

const SPR = 'GenuineIntel00806F8_SapphireRapids_05_CPUID';

test('Zen 4 VM, 6.18: XCR0 0xe7 and IA32_XSS 0x1800 as recorded; CET_S is guest-only', () => {
  const { profile, host } = hostFixture('amd-zen4-vm-linux-6.18.json');
  const c = xstateConfig(profile, '6.18');
  assert.equal(c.xcr0, BigInt(host.xcr0));
  assert.equal(c.xss, BigInt(host.xss ?? '0'));
  assert.equal(c.kernelCfg.maxFeatures, 0x18e7n);
  // task buffers carry CET_U but not CET_S: xcomp_bv 0x80000000000008e7 in the host's x86_fpu trace
  assert.equal(c.kernelCfg.defaultFeatures, 0x8e7n);
  assert.equal(c.kernelCfg.maxSize, 2472);
  assert.equal(c.kernelCfg.defaultSize, 2448);
  assert.deepEqual(c.userCfg, { maxFeatures: 0xe7n, defaultFeatures: 0xe7n, maxSize: 2432, defaultSize: 2432 });
  assert.equal(c.compacted, true);
  assert.equal(c.saveInstruction, 'XSAVES');
  assert.equal(c.initXfd, 0n);
});

test('SPR: dynamic AMX, default sizes, init_fpstate.xfd, LBR in IA32_XSS', () => {
  const p = dumpProfile(SPR);
  const c = xstateConfig(p, '6.18');
  assert.deepEqual(featureKeys(c.userCfg.maxFeatures), ['FP', 'SSE', 'YMM', 'OPMASK', 'ZMM_Hi256', 'Hi16_ZMM', 'PKRU', 'XTILE_CFG', 'XTILE_DATA']);
  assert.equal(c.userCfg.maxSize, 11008);
  assert.equal(c.userCfg.defaultSize, 2816); // stops after XTILE_CFG (2752 + 64)
  assert.equal(c.kernelCfg.maxSize, 10752);
  assert.equal(c.kernelCfg.defaultFeatures, 0x20ee7n); // no TILE_DATA, no CET_S
  assert.equal(c.initXfd, 0x40000n);
  assert.equal(c.xcr0, 0x602e7n);
  // PASID, CET_U, CET_S + arch LBR (independent) in IA32_XSS
  assert.equal(c.xss, 0x9c00n);
  assert.equal(c.independentFeatures, 0x8000n);
  assert.ok(c.dropped.some((d) => d.bit === 8 && /PT/.test(d.reason)));
  // before 5.16: no AMX at all, no init XFD
  const old = xstateConfig(p, '5.15');
  assert.equal(old.xcr0, 0x2e7n);
  assert.equal(old.initXfd, 0n);
  assert.equal(old.xss, 0x8000n); // LBR only: PASID is off 5.13-5.17
});

test('IA32_XSS is only written with XSAVES and from 5.8', () => {
  const p = dumpProfile(SPR);
  assert.equal(xstateConfig(p, '5.7').xss, 0n);
  assert.equal(xstateConfig(p, '6.18', { noxsaves: true }).xss, 0n);
  assert.equal(xstateConfig(p, '6.18', { noxsaves: true }).kernelCfg.maxFeatures & 0x1c00n, 0n);
});

test('XSAVES disabled by the kernel from 4.2 to 4.7', () => {
  const p = dumpProfile('GenuineIntel00406E3_Skylake_CPUID');
  assert.deepEqual(['4.1', '4.2', '4.7', '4.8'].map((v) => xstateConfig(p, v).xsavesAtInit), [true, false, false, true]);
  assert.equal(xstateConfig(p, '4.4').saveInstruction, 'XSAVEOPT');
});

test('erratum 1386 on Zen 2: runtime XSAVES off; 6.10+ keeps it with fixed microcode', () => {
  const p = dumpProfile('AuthenticAMD0870F10_K17_Matisse_CPUID'); // family 0x17 model 0x71
  assert.equal(xstateConfig(p, '6.2').saveInstruction, 'XSAVES');
  assert.equal(xstateConfig(p, '6.3').saveInstruction, 'XSAVEC');
  assert.equal(xstateConfig(p, '6.1.20').saveInstruction, 'XSAVEC');
  assert.equal(xstateConfig(p, '6.1.20').xsavesAtInit, true); // FPU init still ran first
  assert.equal(xstateConfig(p, '6.1.44').xsavesAtInit, false);
  // Rome (family 0x17, model 0x31, stepping 0) with microcode 0x08301052 keeps XSAVES from 6.10.
  const rome = { ...p, model: 0x31, stepping: 0 };
  assert.equal(xstateConfig(rome, '6.10', { microcode: 0x08301052 }).saveInstruction, 'XSAVES');
  assert.equal(xstateConfig(rome, '6.9', { microcode: 0x08301052 }).saveInstruction, 'XSAVEC');
  assert.equal(xstateConfig(rome, '6.10').saveInstruction, 'XSAVEC');
});

test('hypervisor hiding AVX-512F: the xstate follows (4.15+), not before', () => {
  const { profile } = hostFixture('amd-zen4-vm-linux-6.18.json');
  const hidden = withCpuid(profile, [['0x7.0', 1, 16, false]]);
  assert.equal(xstateConfig(hidden, '4.14').xcr0, 0xe7n);
  assert.equal(xstateConfig(hidden, '4.15').xcr0, 0x7n);
});

test('bad versions are input errors naming --kernel', () => {
  const p = dumpProfile(SPR);
  for (const v of ['3.10', '6.19', 'latest']) {
    assert.throws(
      () => xstateConfig(p, v),
      (e: unknown) => e instanceof InputError && e.where === '--kernel',
    );
  }
});
