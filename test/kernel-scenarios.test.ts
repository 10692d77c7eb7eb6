// Linux selftests and LTP scenarios, ported to the model (tools/testing/selftests/x86/xstate.c,
// sigreturn and fpu tests; LTP's fork/signal FPU tests): each asserts the architectural outcome a
// user program sees, for every FPU policy.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readU32, XSTATE_BV } from '../src/arch/xsave/area.js';
import { FPU_POLICIES } from '../src/policies/fpu/index.js';
import { FP_XSTATE_MAGIC1, FP_XSTATE_MAGIC2, SW_BYTES } from '../src/kernel/signal.js';
import { MXCSR_INIT } from '../src/arch/xsave/values.js';
import { Model } from './helpers/kmodel.js';

const AVX = [1, 2, 5, 6, 7]; // SSE, AVX, AVX-512 on Zen 4

for (const policy of FPU_POLICIES) {
  test(`${policy.name}: context-switch ring — 5 tasks on one CPU each find their own registers (xstate.c test_context_switch)`, () => {
    const m = new Model(policy);
    const pids = [101, 102, 103, 104, 105];
    for (const p of pids) m.spawn(p);
    const expect = new Map<number, number[]>();
    for (let round = 0; round < 10; round++) {
      for (const p of pids) {
        m.run(p);
        const mine = expect.get(p);
        if (mine) AVX.forEach((c, j) => assert.equal(m.read(p, c), mine[j], `round ${round}: task ${p} component ${c}`));
        expect.set(
          p,
          AVX.map((c) => m.write(p, c, p * 1000 + round)),
        );
        m.block(p);
      }
    }
    assert.deepEqual(m.violations, []);
  });

  test(`${policy.name}: signal frame ABI — magic, sw_bytes and the live registers in the frame; handler edits take effect (xstate.c test_signal)`, () => {
    const m = new Model(policy);
    m.spawn(200);
    m.run(200);
    const before = AVX.map((c) => m.write(200, c, 0x5100 + c));
    m.do({ type: 'kill', pid: 200, sig: 10 });
    m.do({ type: 'syscall', pid: 200, nr: 39 });
    m.do({ type: 'sysexit', pid: 200, nr: 39, ret: 200 });
    m.do({ type: 'return', pid: 200 }); // delivers: frame written, handler starts
    const t = m.task(200);
    assert.equal(t.frames.length, 1);
    const b = t.frames[0].area.bytes;
    const fps = t.fpu.fpstate;
    assert.equal(readU32(b, SW_BYTES), FP_XSTATE_MAGIC1);
    assert.equal(readU32(b, SW_BYTES + 4), fps.userSize + 4, 'extended_size');
    assert.equal(readU32(b, SW_BYTES + 16), fps.userSize, 'xstate_size');
    assert.equal(readU32(b, fps.userSize), FP_XSTATE_MAGIC2);
    assert.equal(readU32(b, XSTATE_BV) & 0xe7, 0xe7, 'XSTATE_BV has x87, SSE, AVX and AVX-512');
    // The handler starts from init state.
    for (const c of AVX) assert.equal(m.read(200, c), 0, `handler sees init component ${c}`);
    // The frame holds exactly the interrupted registers: AVX upper halves at their standard offset 576.
    const img = m.k.m.pool.images[2][before[1]];
    assert.deepEqual(Array.from(b.subarray(576, 576 + 256)), Array.from(img));
    // The handler changes YMM upper halves in the frame; sigreturn loads them.
    const edited = m.token(2, 0x7777);
    m.do({ type: 'frame-edit', pid: 200, offset: 576, bytes: Array.from(m.k.m.pool.images[2][edited]) });
    m.do({ type: 'sigreturn', pid: 200 });
    m.do({ type: 'return', pid: 200 });
    assert.equal(m.read(200, 2), edited);
    for (const [j, c] of AVX.entries()) if (c !== 2) assert.equal(m.read(200, c), before[j], `component ${c} restored`);
    assert.deepEqual(t.pending, []);
    assert.deepEqual(m.violations, []);
  });

  test(`${policy.name}: the frame check (check_xstate_in_sigframe): 6.15+ looks for FP_XSTATE_MAGIC2 after the task's user_size and ignores the frame's sizes; 6.14 trusted xstate_size`, () => {
    for (const [version, full] of [['6.18', true], ['6.14', false]] as const) {
      const m = new Model(policy, 'zen4', 1, undefined, version);
      m.spawn(500);
      m.run(500);
      const mine = AVX.map((c) => m.write(500, c, 0x5500 + c));
      m.do({ type: 'kill', pid: 500, sig: 10 });
      m.do({ type: 'fault', pid: 500, address: 0x1000 });
      m.do({ type: 'return', pid: 500 });
      // The handler shrinks xstate_size to the legacy area + header: MAGIC2 is not there.
      m.do({ type: 'frame-edit', pid: 500, offset: SW_BYTES + 16, bytes: [0x40, 0x02, 0, 0] });
      m.do({ type: 'sigreturn', pid: 500 });
      m.do({ type: 'return', pid: 500 });
      assert.equal(m.read(500, 1), mine[0], `${version}: SSE comes back either way (the FXSAVE part)`);
      assert.equal(m.read(500, 2), full ? mine[1] : 0, `${version}: AVX ${full ? 'restored' : 'in init state (an FX-only frame)'}`);
      assert.deepEqual(m.task(500).pending, [], `${version}: no SIGSEGV`);
    }
  });

  test(`${policy.name}: a standard signal already pending is not queued again (legacy_queue): two SIGUSR1 before the return give one handler`, () => {
    const m = new Model(policy);
    m.spawn(600);
    m.run(600);
    m.do({ type: 'kill', pid: 600, sig: 10 });
    m.do({ type: 'kill', pid: 600, sig: 10 });
    assert.deepEqual(m.task(600).pending, [10]);
    m.do({ type: 'fault', pid: 600, address: 0x1000 });
    m.do({ type: 'return', pid: 600 });
    assert.equal(m.task(600).frames.length, 1);
    assert.deepEqual(m.violations, []);
  });

  test(`${policy.name}: a corrupted XSAVE header in the frame gives SIGSEGV and touches no other task (sigreturn of a bad frame)`, () => {
    const m = new Model(policy, 'zen4', 1);
    m.spawn(300);
    m.spawn(301);
    m.run(301);
    const other = AVX.map((c) => m.write(301, c, 0x3100 + c));
    m.block(301, 300);
    m.do({ type: 'return', pid: 300 });
    AVX.forEach((c) => m.write(300, c, 0x3000 + c));
    m.do({ type: 'kill', pid: 300, sig: 10 });
    m.do({ type: 'fault', pid: 300, address: 0x1000 });
    m.do({ type: 'return', pid: 300 });
    // A standard-format frame must have header bytes 23:8 (XCOMP_BV and the next 8) zero: XRSTOR #GPs
    // (SDM 13.8; verified on silicon by test/hw). Bytes past 24 are not checked for the standard form.
    m.do({ type: 'frame-edit', pid: 300, offset: 527, bytes: [0x80] });
    m.do({ type: 'sigreturn', pid: 300 });
    assert.ok(m.task(300).pending.includes(11), 'SIGSEGV queued');
    m.do({ type: 'return', pid: 300 }); // SIGSEGV's frame is written on the way out
    m.block(300, 301);
    m.do({ type: 'return', pid: 301 });
    AVX.forEach((c, j) => assert.equal(m.read(301, c), other[j], `the other task's component ${c}`));
    assert.deepEqual(m.violations, []);
  });

  test(`${policy.name}: kernel FPU use does not change user MXCSR or registers (kernel_fpu_begin/end around SIMD code); kernel code gets the default MXCSR from 5.7`, () => {
    const m = new Model(policy);
    m.spawn(400);
    m.run(400);
    const mine = AVX.map((c) => m.write(400, c, 0x4000 + c));
    m.do({ type: 'user-mxcsr', pid: 400, value: 0x7f80 | 0x6000 }); // round toward zero, all masked
    for (const ctx of ['hardirq', 'softirq', 'task'] as const) {
      m.do({ type: 'kfpu', cpu: 0, ctx });
      m.do({ type: 'return', pid: 400 });
      AVX.forEach((c, j) => assert.equal(m.read(400, c), mine[j], `${ctx}: component ${c}`));
      assert.equal(m.k.st.cpus[0].xs.mxcsr, 0x7f80 | 0x6000, `${ctx}: MXCSR`);
    }
    assert.notEqual(0x7f80 | 0x6000, MXCSR_INIT);
    // Before 5.7 (7ad816762f9b) kernel SIMD code ran with the user's MXCSR (catalogue C1).
    if (policy.kfpuMxcsr) assert.deepEqual(m.violations, []);
    else assert.deepEqual([...new Set(m.violations.map((v) => v.rule))], ['kernel-mxcsr'], `${policy.name}: the era's C1 bug`);
  });

  test(`${policy.name}: fork copies the parent's registers into the child; exec resets them`, () => {
    const m = new Model(policy, 'zen4', 2);
    m.spawn(500);
    m.run(500);
    const mine = AVX.map((c) => m.write(500, c, 0x5000 + c));
    m.do({ type: 'syscall', pid: 500, nr: 57 });
    m.do({ type: 'fork', pid: 500, child: 501, thread: false });
    m.do({ type: 'sysexit', pid: 500, nr: 57, ret: 501 });
    m.do({ type: 'return', pid: 500 });
    AVX.forEach((c) => m.write(500, c, 0x5900 + c)); // the parent moves on
    m.run(501, 1, 'R');
    AVX.forEach((c, j) => assert.equal(m.read(501, c), mine[j], `child component ${c}`));
    m.do({ type: 'syscall', pid: 501, nr: 59 });
    m.do({ type: 'exec', pid: 501, filename: '/bin/true' });
    m.do({ type: 'sysexit', pid: 501, nr: 59, ret: 0 });
    m.do({ type: 'return', pid: 501 });
    for (const c of AVX) assert.equal(m.read(501, c), 0, `after exec, component ${c} is init`);
    assert.deepEqual(m.violations, []);
  });

  test(`${policy.name}: migration — a task that moves to another CPU and back finds its registers`, () => {
    const m = new Model(policy, 'zen4', 2);
    m.spawn(600, 0);
    m.spawn(601, 1);
    m.run(600, 0);
    let mine = AVX.map((c) => m.write(600, c, 0x6000 + c));
    m.block(600);
    m.run(601, 1);
    AVX.forEach((c) => m.write(601, c, 0x6100 + c));
    m.block(601);
    m.do({ type: 'migrate', pid: 600, cpu: 1, on: 1 });
    m.run(600, 1, 'R');
    AVX.forEach((c, j) => assert.equal(m.read(600, c), mine[j]));
    mine = AVX.map((c) => m.write(600, c, 0x6200 + c));
    m.block(600);
    m.do({ type: 'migrate', pid: 600, cpu: 0, on: 0 });
    m.run(600, 0, 'R');
    AVX.forEach((c, j) => assert.equal(m.read(600, c), mine[j], 'back on CPU 0: not the stale copy'));
    assert.deepEqual(m.violations, []);
  });
}

for (const policy of FPU_POLICIES) {
  test(`${policy.name}: KVM vCPU — guest state survives preemption inside KVM_RUN, host state comes back after it (${policy.kvmApi})`, () => {
    const m = new Model(policy, 'zen4', 1);
    m.spawn(700);
    m.spawn(701);
    m.run(700);
    const host = AVX.map((c) => m.write(700, c, 0x7000 + c));
    m.do({ type: 'syscall', pid: 700, nr: 16 });
    m.do({ type: 'kvm-run', pid: 700 });
    m.do({ type: 'vm-entry', pid: 700 });
    for (const c of AVX) assert.equal(m.k.st.cpus[0].xs.tok[c], 0, `a new guest starts from init (component ${c})`);
    const guest = AVX.map((c) => {
      m.do({ type: 'guest-write', pid: 700, comp: c, tag: 0x7700 + c });
      return m.token(c, 0x7700 + c);
    });
    m.do({ type: 'vm-exit', pid: 700 });
    // Preempted in KVM's run loop; another task uses AVX on the same CPU.
    m.do({ type: 'switch', cpu: 0, next: 701, prevState: 'R' });
    m.do({ type: 'return', pid: 701 });
    AVX.forEach((c) => m.write(701, c, 0x7100 + c));
    m.do({ type: 'syscall', pid: 701, nr: 0 });
    m.do({ type: 'switch', cpu: 0, next: 700, prevState: 'S' });
    m.do({ type: 'vm-entry', pid: 700 });
    AVX.forEach((c, j) => assert.equal(m.k.st.cpus[0].xs.tok[c], guest[j], `guest component ${c} after preemption`));
    m.do({ type: 'vm-exit', pid: 700 });
    m.do({ type: 'kvm-put', pid: 700 });
    m.do({ type: 'sysexit', pid: 700, nr: 16, ret: 0 });
    m.do({ type: 'return', pid: 700 });
    AVX.forEach((c, j) => assert.equal(m.read(700, c), host[j], `host component ${c} after KVM_RUN`));
    assert.deepEqual(m.violations, []);
  });
}
