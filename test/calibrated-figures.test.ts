// Calibration → cost figures: the fit is exact on linear data, only measured keys change, and the
// shipped host calibration only applies to the CPU it was measured on.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { applyCalibration, calibrationFits } from '../src/cost/calibrated-figures.js';
import type { Calibration, CalibrationFigure } from '../src/cost/calibration.js';
import { defaultFigures } from '../src/cost/figures.js';
import { loadProfile } from '../src/arch/profiles/index.js';

const fig = (cycles: number): CalibrationFigure => ({ cycles, ns: cycles / 3, p10: cycles, p90: cycles, n: 11 });
const BYTES = { x87sse: 576, avx: 832, avx512: 2688, amx: 11008 };

function synthetic(): Calibration {
  const figures: Record<string, CalibrationFigure> = { fxsave: fig(40), syscall: fig(100), ctxswitch: fig(1000), 'memcpy.12k': fig(192) };
  for (const [set, bytes] of Object.entries(BYTES)) {
    // xsave = 50 + 10/KiB, xrstor = 80 + 30/KiB exactly; xsaveopt unmodified 45..48, modified slope 12/KiB.
    figures[`xsave.${set}.inuse`] = fig(50 + (bytes / 1024) * 10);
    figures[`xrstor.${set}.inuse`] = fig(80 + (bytes / 1024) * 30);
    figures[`xsaveopt.${set}.inuse`] = fig(45 + bytes / 4096);
    figures[`xsaveopt.${set}.modified`] = fig(60 + (bytes / 1024) * 12);
  }
  figures['xrstor.amx.init'] = fig(80 + 8 * 2);
  return { machine: { cpu: 'Test CPU', kernel: '6.18' }, date: '2026-01-02T03:04:05Z', tscMHz: 3000, coreMHz: 3000, hypervisor: false, xcr0: '0x600e7', quick: false, figures, skipped: {}, notes: [] };
}

test('calibration figures: least-squares lines recover base and per-KiB exactly; unmeasured keys keep their defaults', () => {
  const base = defaultFigures(loadProfile('sapphire-rapids'));
  const f = applyCalibration(base, synthetic());
  assert.equal(f['xsave.base'].cycles, 50);
  assert.equal(f['xsave.perKiB'].cycles, 10);
  assert.equal(f['xrstor.base'].cycles, 80);
  assert.equal(f['xrstor.perKiB'].cycles, 30);
  assert.equal(f['xrstor.perInit'].cycles, 2);
  assert.equal(f['xsaveopt.perKiB'].cycles, 12);
  assert.equal(f['xsaveopt.base'].cycles, 45.1); // the smallest set's unmodified save, rounded
  assert.equal(f['memcpy.bytesPerCycle'].cycles, 64);
  assert.equal(f.ctxswitch.cycles, 800);
  assert.equal(f.clockGHz.cycles, 3);
  assert.match(f['xsave.base'].source, /^measured on this machine 2026-01-02/);
  assert.deepEqual(f['xsaves.base'], base['xsaves.base']);
  assert.deepEqual(f['nm.trap'], base['nm.trap']);
  assert.deepEqual(f['ipi.base'], base['ipi.base'], 'no remote flush measured: the default stays');
});

test('a calibration applies only to the CPU it was measured on, and never a quick run', () => {
  const c = synthetic();
  assert.equal(calibrationFits(c, 'Test CPU '), true);
  assert.equal(calibrationFits(c, 'AMD EPYC 9654 96-Core Processor'), false);
  assert.equal(calibrationFits({ ...c, quick: true }, 'Test CPU'), false);
});
