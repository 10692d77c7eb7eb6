import { test } from 'node:test';
import assert from 'node:assert/strict';
import { InputError } from '../src/arch/errors.js';
import { atLeast, hasChange, parseKernelVersion } from '../src/kernel/fpu/kernel-version.js';

test('kernel versions: accepted spellings', () => {
  assert.deepEqual(parseKernelVersion('6.18'), { major: 6, minor: 18, patch: null, text: '6.18' });
  assert.deepEqual(parseKernelVersion('6.18.44'), { major: 6, minor: 18, patch: 44, text: '6.18.44' });
  assert.deepEqual(parseKernelVersion('v5.15'), { major: 5, minor: 15, patch: null, text: '5.15' });
  assert.equal(parseKernelVersion('5.4').text, '5.4');
  assert.equal(parseKernelVersion('4.0').text, '4.0');
  // uname -r of this machine
  assert.equal(parseKernelVersion('6.18.44-fc-v657').text, '6.18.44');
});

test('kernel versions: malformed, too old and unknown are input errors naming --kernel', () => {
  for (const bad of ['', '6', 'six', '6.18.44.1', '6..18', 'v', '3.19', '2.6.32', '4.21', '5.20', '6.19', '7.0', '6.18-', '6.18.x']) {
    assert.throws(
      () => parseKernelVersion(bad),
      (e: unknown) => e instanceof InputError && e.where === '--kernel',
      bad,
    );
  }
});

test('kernel versions: ordering and stable backports', () => {
  const v = (s: string) => parseKernelVersion(s);
  assert.ok(atLeast(v('5.19'), 5, 16));
  assert.ok(atLeast(v('6.0'), 5, 19));
  assert.ok(!atLeast(v('5.15.200'), 5, 16));
  const erratum = (s: string) => hasChange(v(s), [6, 3], { '6.1': 20 });
  assert.equal(erratum('6.3'), true);
  assert.equal(erratum('6.1'), false);
  assert.equal(erratum('6.1.19'), false);
  assert.equal(erratum('6.1.20'), true);
  assert.equal(erratum('6.2.30'), false);
});
