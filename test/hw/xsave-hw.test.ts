/**
 * Proof against real silicon: the XSAVE family on this CPU versus the model, byte for byte.
 * Skips (printing why) only when the machine has no XSAVE or no C compiler.
 * Replay a run with SWITCHLAB_HW_SEED=<seed> (and SWITCHLAB_HW_CASES=<n>).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { computeLayout } from '../../src/arch/layout.js';
import { bitsOf } from '../../src/arch/mask.js';
import { loadProfile } from '../../src/arch/profiles/index.js';
import { createMachine } from '../../src/arch/xsave/machine.js';
import { generateCases } from './cases.js';
import { runDifferential } from './differential.js';
import { buildHarness, runOnHardware } from './harness.js';
import { HwCase, Op, step } from './program.js';

const SEED = Number(process.env.SWITCHLAB_HW_SEED ?? 20261124);
const CASES = Number(process.env.SWITCHLAB_HW_CASES ?? 3000);

const harness = buildHarness();

test('real silicon: XSAVE, XSAVEOPT, XSAVEC, XRSTOR, FXSAVE, FXRSTOR and XGETBV match the model', (t) => {
  if ('skip' in harness) {
    console.log(`# hardware differential skipped: ${harness.skip}`);
    t.skip(harness.skip);
    return;
  }
  const probe = runOnHardware(harness.path, []).header;
  const p = loadProfile('host');
  assert.equal(p.quirks.mxcsrMask, probe.mxcsrMask, 'MXCSR_MASK predicted from CPUID equals what FXSAVE stores');
  const cases = generateCases(p, probe.xcr0, probe.mxcsrMask, SEED, CASES);
  const rep = runDifferential(harness.path, createMachine(p), probe.xcr0, cases);
  const faults = cases.filter((c) => /crafted|misaligned/.test(c.kind)).length;
  console.log(
    `# hardware differential: ${rep.cases} cases (seed ${SEED}, XCR0 0x${probe.xcr0.toString(16)}, ${p.brand}), ` +
      `${rep.mismatches.length} mismatches, ${faults} fault probes, ${rep.rerun} re-run after a disturbed hardware run, ${rep.unstable} unstable`,
  );
  for (const [k, n] of Object.entries(rep.byKind)) console.log(`#   ${n} × ${k}`);
  const shown = rep.mismatches
    .slice(0, 5)
    .map((x) => `case ${x.index} (${x.kind}): ${x.program}\n    ${x.diffs.join('\n    ')}`)
    .join('\n');
  assert.equal(rep.unstable, 0, 'every case produced two agreeing hardware runs');
  assert.equal(rep.mismatches.length, 0, `model and CPU disagree (replay with SWITCHLAB_HW_SEED=${SEED}):\n${shown}`);
});

test('real silicon: XSAVEC places every enabled component at the offsets computeLayout gives', (t) => {
  if ('skip' in harness) {
    t.skip(harness.skip);
    return;
  }
  const probe = runOnHardware(harness.path, []).header;
  const p = loadProfile('host');
  const layout = computeLayout(p, probe.xcr0, 0n);
  const img = new Uint8Array(12288);
  // Each component filled with its own byte, except TILECFG: XRSTOR loads a configuration LDTILECFG would
  // reject (such as 64 bytes of 0x21) as the init configuration, which XSAVEC then does not write. It gets
  // a valid palette-1 configuration instead: tile 0 with 1 row of 4 bytes, and its own byte as start_row.
  const expected = (i: number, size: number): Uint8Array => {
    const b = new Uint8Array(size).fill(0x10 + i);
    if (i !== 17) return b;
    b.fill(0);
    b[0] = 1;
    b[1] = 0x10 + i;
    b[16] = 4;
    b[48] = 1;
    return b;
  };
  for (const c of layout.components) img.set(expected(c.index, c.size), c.standardOffset!);
  img.fill(0x5a, 160, 416); // XMM
  img.fill(0, 0, 32);
  img[0] = 0x7f;
  img[1] = 0x03;
  img[24] = 0x80;
  img[25] = 0x1f;
  img.fill(0, 512, 576);
  const bv = Number(probe.xcr0 & 0xffff_ffffn);
  img[512] = bv & 0xff;
  img[513] = (bv >>> 8) & 0xff;
  img[514] = (bv >>> 16) & 0xff;
  const c: HwCase = {
    kind: 'layout probe',
    bufs: [
      { misalign: 0, bytes: img },
      { misalign: 0, bytes: new Uint8Array(12288).fill(0xa5) },
    ],
    steps: [step(Op.XRSTOR, 0), step(Op.XSAVEC, 1)],
  };
  const out = runOnHardware(harness.path, [c]).results[0].bufs[1];
  for (const comp of layout.components) {
    const at = comp.xsavecOffset!;
    assert.deepEqual(out.slice(at, at + comp.size), expected(comp.index, comp.size), `component ${comp.index} (${comp.name}) found at XSAVEC offset ${at}`);
  }
  assert.ok(out.slice(160, 416).every((b) => b === 0x5a), 'XMM at 160');
  assert.equal(out[layout.xsavecSize], 0xa5, `nothing written at or past the XSAVEC size ${layout.xsavecSize}`);
  console.log(`# host XSAVEC layout verified for components ${bitsOf(probe.xcr0).join(', ')}; size ${layout.xsavecSize}`);
});
