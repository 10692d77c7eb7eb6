import { test } from 'node:test';
import assert from 'node:assert/strict';
import { buildProfile } from '../src/arch/profile.js';
import { computeLayout } from '../src/arch/layout.js';
import { CpuidLeaves } from '../src/arch/cpuid.js';

// CPUID leaf 0xD of an Intel Sapphire Rapids (InstLatx64 GenuineIntel00806F8_SapphireRapids_05).
const spr: CpuidLeaves = {
  '0x0.0': [32, 1970169159, 1818588270, 1231384169],
  '0x1.0': [526072, 8390656, 2147417087, 3219913727],
  '0x7.0': [2, 4089430011, 3141631982, 4292690992],
  '0xd.0': [393959, 11008, 11008, 0],
  '0xd.1': [31, 10880, 56576, 0],
  '0xd.2': [256, 576, 0, 0],
  '0xd.5': [64, 1088, 0, 0],
  '0xd.6': [512, 1152, 0, 0],
  '0xd.7': [1024, 1664, 0, 0],
  '0xd.8': [128, 0, 1, 0],
  '0xd.9': [8, 2688, 0, 0],
  '0xd.10': [8, 0, 1, 0],
  '0xd.11': [16, 0, 1, 0],
  '0xd.12': [24, 0, 1, 0],
  '0xd.14': [48, 0, 1, 0],
  '0xd.15': [808, 0, 1, 0],
  '0xd.17': [64, 2752, 2, 0],
  '0xd.18': [8192, 2816, 6, 0],
};

test('SPR: compacted layout of the worked example in the XSAVE spec', () => {
  const p = buildProfile(spr, { id: 'spr', source: { kind: 'json' } });
  const l = computeLayout(p, 0x602e7n, 0n);
  assert.equal(l.standardSize, 11008);
  assert.equal(l.xsavecSize, 10752);
  const off = Object.fromEntries(l.components.map((c) => [c.index, c.xsavecOffset]));
  assert.deepEqual(off, { 2: 576, 5: 832, 6: 896, 7: 1408, 9: 2432, 17: 2496, 18: 2560 });
});
