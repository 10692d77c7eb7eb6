import { test } from 'node:test';
import assert from 'node:assert/strict';
import { InputError } from '../src/arch/errors.js';
import { atMinSigStkSz, LEGACY_MINSIGSTKSZ, minSigaltstackForPermission, sigframeSizes } from '../src/kernel/fpu/sigframe.js';
import { dumpProfile, hostFixture } from './fixtures/kernel/load.js';

const SPR = 'GenuineIntel00806F8_SapphireRapids_05_CPUID';

test('AT_MINSIGSTKSZ: 832 -> 1776 (this machine), 2432 -> 3376 (Zen 4 VM), 11008 -> 11952 (SPR with AMX)', () => {
  const zen3 = hostFixture('amd-zen3-vm-linux-6.18.json');
  assert.equal(atMinSigStkSz(zen3.profile, '6.18'), 1776);
  assert.equal(zen3.host.at_minsigstksz, 1776); // getauxval(AT_MINSIGSTKSZ) recorded on the machine
  assert.equal(atMinSigStkSz(hostFixture('amd-zen4-vm-linux-6.18.json').profile, '6.18'), 3376);
  assert.equal(atMinSigStkSz(dumpProfile(SPR), '6.18'), 11952);
});

test('AT_MINSIGSTKSZ without CONFIG_IA32_EMULATION: rt_sigframe (440) and no fsave header', () => {
  const { profile } = hostFixture('amd-zen3-vm-linux-6.18.json');
  // round_up(440 + 15 + 832 + 4 + 63, 16)
  assert.equal(atMinSigStkSz(profile, '6.18', { ia32Emulation: false }), 1360);
});

test('AT_MINSIGSTKSZ appears in 5.14; before, programs had the 2048 constant', () => {
  const { profile } = hostFixture('amd-zen3-vm-linux-6.18.json');
  assert.equal(atMinSigStkSz(profile, '5.13'), null);
  assert.equal(sigframeSizes(profile, '5.13').minSigStkSz, LEGACY_MINSIGSTKSZ);
  assert.equal(atMinSigStkSz(profile, '5.14'), 1776);
});

test('task frame sizes: user_size, +4 for FP_XSTATE_MAGIC2, worst case +63 +456', () => {
  const { profile } = hostFixture('amd-zen3-vm-linux-6.18.json');
  const s = sigframeSizes(profile, '6.18');
  assert.equal(s.xstateSize, 832);
  assert.equal(s.fpuFrameSize, 836);
  assert.equal(s.frameSizeBest, 836 + 456);
  assert.equal(s.frameSize, 836 + 63 + 456);
  assert.equal(s.fpstateSize, 836 + 112);
  assert.ok(s.frameSize <= (s.atMinSigStkSz ?? 0));
});

test('SPR: the frame grows by TILE_DATA only once AMX is granted (and used)', () => {
  const p = dumpProfile(SPR);
  const plain = sigframeSizes(p, '6.18');
  assert.equal(plain.xstateSize, 2816);
  assert.equal(plain.userFeatures, 0x202e7n);
  const amx = sigframeSizes(p, '6.18', { granted: 0x40000n });
  assert.equal(amx.xstateSize, 11008);
  assert.equal(amx.fpuFrameSize, 11012);
  assert.equal(amx.atMinSigStkSz, 11952); // AT_MINSIGSTKSZ is the same either way (max size)
  assert.throws(
    () => sigframeSizes(p, '5.15', { granted: 0x40000n }),
    (e: unknown) => e instanceof InputError && e.where === '--grant',
  );
});

test('XCR0 override: a task frame and AT_MINSIGSTKSZ for XCR0 = x87|SSE|AVX on SPR', () => {
  const p = dumpProfile(SPR);
  const s = sigframeSizes(p, '6.18', { xcr0: 0x7n });
  assert.equal(s.xstateSize, 832);
  assert.equal(s.atMinSigStkSz, 1776);
  assert.throws(
    () => sigframeSizes(p, '6.18', { xcr0: 0x20007n }),
    (e: unknown) => e instanceof InputError && e.where === '--xcr0',
  );
});

test('ARCH_REQ_XCOMP_PERM: the sigaltstack needed for AMX (validate_sigaltstack, 5.16+)', () => {
  const p = dumpProfile(SPR);
  // get_sigframe_size() - fpu_user_cfg.max_size + usize, usize = 11008 for default | TILE_DATA
  assert.equal(minSigaltstackForPermission(p, '6.18', 0x40000n), 11952);
  assert.equal(minSigaltstackForPermission(p, '6.18', 0n), 11952 - 11008 + 2816);
  assert.equal(minSigaltstackForPermission(p, '5.15', 0x40000n), null);
});

test('without XSAVE: a 512-byte FXSAVE image and no magic', () => {
  const p = dumpProfile('GenuineIntel00306C3_Haswell_CPUID');
  const s = sigframeSizes(p, '6.18', { noxsave: true });
  assert.equal(s.xstateSize, 512);
  assert.equal(s.fpuFrameSize, 512);
  assert.equal(s.atMinSigStkSz, 1440); // "signal: max sigframe size: 1440" in FXSAVE-only QEMU boot logs
});
