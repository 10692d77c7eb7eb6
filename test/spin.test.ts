/**
 * Checker deliverable 6: Spin and our explorer count the same distinct states of the `deferred`
 * model (bench/spin/deferred.pml against explore() on the equivalent configuration). Skipped, with
 * the reason, when `spin` or `cc` is missing (the test never installs anything).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CASES, runOurs, runPan, spinUnavailable } from '../bench/spin/pan.js';

test('Spin and switchlab explore the same deferred state space (2 CPUs, 3 tasks)', (t) => {
  const why = spinUnavailable(false);
  if (why) {
    console.log(`spin test skipped: ${why}`);
    t.skip(why);
    return;
  }
  const c = CASES.find((x) => x.name === 'core')!;
  const pan = runPan(c);
  assert.equal(pan.errors, 0, pan.output);
  const ours = runOurs(c);
  assert.ok(ours.fixpoint, 'the explorer reached a fixpoint');
  assert.equal(pan.states, ours.states);
  assert.equal(ours.states, 13_056);
});

test('Spin and switchlab agree with signals (1 CPU, 1 task)', (t) => {
  const why = spinUnavailable(false);
  if (why) {
    t.skip(why);
    return;
  }
  const c = { name: 'signals-small', cpus: 1, tasks: 1, signals: true };
  const pan = runPan(c);
  assert.equal(pan.errors, 0, pan.output);
  const ours = runOurs(c);
  assert.ok(ours.fixpoint);
  assert.equal(pan.states, ours.states);
});
