import { test } from 'node:test';
import assert from 'node:assert/strict';
import { computeLayout } from '../src/arch/layout.js';
import { sprProfile } from './fixtures/spr.js';



test('SPR: compacted layout of the worked example in the XSAVE spec', () => {
  const p = sprProfile();
  const l = computeLayout(p, 0x602e7n, 0n);
  assert.equal(l.standardSize, 11008);
  assert.equal(l.xsavecSize, 10752);
  const off = Object.fromEntries(l.components.map((c) => [c.index, c.xsavecOffset]));
  assert.deepEqual(off, { 2: 576, 5: 832, 6: 896, 7: 1408, 9: 2432, 17: 2496, 18: 2560 });
});

test('SPR: XSAVES layout with supervisor state, sizes equal CPUID 0xD.0/0xD.1 EBX of the dump', () => {
  const p = sprProfile();
  // The dumping OS had XCR0 = 0x602e7 (EBX 11008) and XSS = PT|PASID|CET... such that 0xD.1 EBX = 10880? Check ours:
  const l = computeLayout(p, 0x602e7n, 0x1c00n); // CET_U, CET_S, PASID
  assert.equal(l.standardSize, 11008);
  const pasid = l.components.find((c) => c.index === 10)!;
  assert.equal(pasid.standardOffset, null);
  assert.equal(pasid.xsavecOffset, null);
  assert.equal(pasid.xsavesOffset, 2440); // right after PKRU (2432 + 8)
  assert.equal(l.components.find((c) => c.index === 17)!.xsavesOffset, 2496); // 2440+8+16+24 = 2488 -> aligned 2496
});

test('invalid masks are input errors naming the flag', async () => {
  const { InputError } = await import('../src/arch/errors.js');
  const p = sprProfile();
  for (const [xcr0, xss, where] of [
    [0x6n, 0n, '--xcr0'],
    [0x5n, 0n, '--xcr0'],
    [0x27n, 0n, '--xcr0'],
    [0x20007n, 0n, '--xcr0'],
    [0x1000007n, 0n, '--xcr0'],
    [0x7n, 0x2n, '--xss'],
  ] as const) {
    assert.throws(
      () => computeLayout(p, xcr0, xss),
      (e: unknown) => e instanceof InputError && e.where === where,
    );
  }
});
