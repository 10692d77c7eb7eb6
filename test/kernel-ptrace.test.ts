// ptrace FPU regsets (NT_X86_XSTATE, NT_PRFPREG) on the kernel model: what a debugger reads is what
// the tracee wrote, what it writes the tracee finds in its registers after its next return to user
// (every policy), and a write Linux rejects (validate_user_xstate_header, MXCSR, size) changes nothing.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { builtinProfile } from '../src/arch/profiles/builtin.js';
import { readU32, writeU32, XCOMP_BV, XSTATE_BV } from '../src/arch/xsave/area.js';
import { createKernel, Kernel, KernelOptions } from '../src/kernel/kernel.js';
import { KEvent, step } from '../src/kernel/step.js';
import { Task } from '../src/kernel/state.js';
import { valueToken } from '../src/kernel/entry.js';
import { FpuPolicy } from '../src/kernel/fpu/policy.js';
import { ptraceGetRegset, ptraceSetRegset, regsetSize } from '../src/kernel/ptrace.js';
import { FPU_POLICIES } from '../src/policies/fpu/index.js';
import { deferred } from '../src/policies/fpu/deferred.js';

const TRACEE = 100;
const TRACER = 200;
const PKRU = 9;

function run(k: Kernel, ev: KEvent): void {
  const r = step(k, ev);
  assert.deepEqual(r.violations, [], `${ev.type}: ${JSON.stringify(r.violations)}`);
}

function enabled(k: Kernel, i: number): boolean {
  return ((k.cfg.xcr0 >> BigInt(i)) & 1n) === 1n;
}

/** The user components the scenario writes: SSE, AVX and, where the kernel enabled them, AVX-512. */
function written(k: Kernel): number[] {
  return [1, 2, 5, 6, 7].filter((i) => enabled(k, i));
}

const tagOf = (i: number): number => 0x5a00_0000 + 0x100 * i + 7;

/** Standard-format (UABI) offset and size of user component i. */
function uabiSpan(k: Kernel, i: number): [number, number] {
  if (i === 0) return [0, 160];
  if (i === 1) return [160, 256];
  return [k.m.g.stdOffset[i], k.m.g.size[i]];
}

function imageOf(k: Kernel, i: number, tag: number): Uint8Array {
  return k.m.pool.images[i][valueToken(k, i, tag)];
}

interface Scene {
  k: Kernel;
  tracee: Task;
  tracer: Task;
}

/**
 * A tracee on CPU 0 execs, returns to user, writes a value into each component, enters the kernel and
 * is switched out to the idle task in TASK_TRACED ('t'): a ptrace-stopped tracee. The tracer runs on CPU 1.
 */
function scene(profile: string, policy: FpuPolicy, opts: Partial<KernelOptions> = {}): Scene {
  const p = builtinProfile(profile);
  assert.ok(p, profile);
  const k = createKernel(p, policy, { cpus: 2, ...opts });
  run(k, { type: 'spawn', pid: TRACEE, comm: 'tracee', kind: 'user', cpu: 0, running: true });
  run(k, { type: 'spawn', pid: TRACER, comm: 'gdb', kind: 'user', cpu: 1, running: true });
  run(k, { type: 'exec', pid: TRACEE, filename: '/usr/bin/tracee' });
  run(k, { type: 'return', pid: TRACEE });
  for (const i of written(k)) run(k, { type: 'user-write', pid: TRACEE, comp: i, tag: tagOf(i) });
  run(k, { type: 'syscall', pid: TRACEE, nr: 39 });
  run(k, { type: 'switch', cpu: 0, next: -1, prevState: 't' });
  const tracee = k.st.tasks.get(TRACEE)!;
  tracee.traced = true;
  assert.equal(tracee.run, 'stopped');
  return { k, tracee, tracer: k.st.tasks.get(TRACER)! };
}

/** Switch the tracee back in on CPU 0 and return to user; then its first FPU instruction (a write of
 * x87, which under lazy-ts takes the #NM that loads the state). */
function resume(s: Scene): void {
  s.tracee.traced = false;
  run(s.k, { type: 'switch', cpu: 0, next: TRACEE, prevState: 'R' });
  run(s.k, { type: 'return', pid: TRACEE });
  run(s.k, { type: 'user-write', pid: TRACEE, comp: 0, tag: 0x77 });
}

function getX(s: Scene): Uint8Array {
  const r = ptraceGetRegset(s.k, s.tracer, s.tracee, 'xstate');
  assert.ok(r instanceof Uint8Array, `GETREGSET failed: ${String(r)}`);
  return r;
}

function kernelBytes(t: Task): Uint8Array {
  return t.fpu.fpstate.area.bytes.slice();
}

const PROFILES = ['sapphire-rapids', 'zen4'];

for (const prof of PROFILES) {
  test(`${prof}: NT_X86_XSTATE GET returns exactly what the tracee wrote`, () => {
    const s = scene(prof, deferred);
    const { k } = s;
    const img = getX(s);
    assert.equal(img.length, k.cfg.userMaxSize);
    assert.equal(img.length, regsetSize(k, 'xstate'));
    const hdr = readU32(img, XSTATE_BV);
    for (const i of written(k)) {
      assert.ok(hdr & (1 << i), `component ${i} is in the header`);
      const [off, size] = uabiSpan(k, i);
      assert.deepEqual(img.subarray(off, off + size), imageOf(k, i, tagOf(i)), `component ${i}`);
    }
    // Standard format: XCOMP_BV 0, reserved header bytes 0, header ⊆ user_xfeatures.
    assert.equal(readU32(img, XCOMP_BV) | readU32(img, XCOMP_BV + 4), 0);
    assert.ok(img.subarray(528, 576).every((x) => x === 0));
    assert.equal(hdr & ~s.tracee.fpu.fpstate.userXfeaturesLo, 0);
    // xstate_fx_sw_bytes: word 0 is the user max features (what debuggers read as XCR0), the rest 0.
    assert.equal(readU32(img, 464), k.cfg.userMaxLo);
    assert.equal(readU32(img, 468), k.cfg.userMaxHi);
    assert.ok(img.subarray(472, 512).every((x) => x === 0));
    // MXCSR: the task never changed it.
    assert.equal(readU32(img, 24), 0x1f80);
    // A dynamic feature the task has not been given (AMX TILEDATA) reads as zeros.
    if (enabled(k, 18)) {
      const [off, size] = uabiSpan(k, 18);
      assert.ok(img.subarray(off, off + size).every((x) => x === 0));
      assert.equal(hdr & (1 << 18), 0);
    }
  });

  test(`${prof}: NT_PRFPREG GET is the legacy region, its tail zero`, () => {
    const s = scene(prof, deferred);
    const x = getX(s);
    const f = ptraceGetRegset(s.k, s.tracer, s.tracee, 'fpreg');
    assert.ok(f instanceof Uint8Array);
    assert.equal(f.length, 512);
    assert.deepEqual(f.subarray(0, 416), x.subarray(0, 416));
    assert.ok(f.subarray(416).every((b) => b === 0));
  });

  for (const policy of FPU_POLICIES) {
    test(`${prof} / ${policy.name}: a SETREGSET takes effect at the tracee's next return to user`, () => {
      const s = scene(prof, policy);
      const { k } = s;
      const img = getX(s);
      const [off] = uabiSpan(k, 2);
      img.set(imageOf(k, 2, 0xbeef), off);
      assert.equal(ptraceSetRegset(k, s.tracer, s.tracee, 'xstate', img), null);
      // Read back before it runs: the kernel buffer holds the new value.
      assert.deepEqual(getX(s).subarray(off, off + 256), imageOf(k, 2, 0xbeef));
      resume(s);
      const xs = k.st.cpus[0].xs;
      assert.equal(xs.tok[2], valueToken(k, 2, 0xbeef), 'AVX holds the value the tracer wrote');
      for (const i of written(k)) if (i !== 2) assert.equal(xs.tok[i], valueToken(k, i, tagOf(i)), `component ${i} kept`);
    });

    test(`${prof} / ${policy.name}: NT_PRFPREG SET of XMM reaches the registers`, () => {
      const s = scene(prof, policy);
      const { k } = s;
      const f = ptraceGetRegset(k, s.tracer, s.tracee, 'fpreg');
      assert.ok(f instanceof Uint8Array);
      const img = f.slice();
      img.set(imageOf(k, 1, 0xcafe), 160);
      assert.equal(ptraceSetRegset(k, s.tracer, s.tracee, 'fpreg', img), null);
      resume(s);
      const xs = k.st.cpus[0].xs;
      assert.equal(xs.tok[1], valueToken(k, 1, 0xcafe));
      assert.equal(xs.tok[2], valueToken(k, 2, tagOf(2)), 'AVX untouched');
    });
  }

  test(`${prof}: a header without AVX puts AVX in its init state`, () => {
    const s = scene(prof, deferred);
    const img = getX(s);
    writeU32(img, XSTATE_BV, readU32(img, XSTATE_BV) & ~(1 << 2));
    assert.equal(ptraceSetRegset(s.k, s.tracer, s.tracee, 'xstate', img), null);
    assert.equal(readU32(getX(s), XSTATE_BV) & (1 << 2), 0);
    resume(s);
    assert.equal(s.k.st.cpus[0].xs.tok[2], 0);
    assert.equal(s.k.st.cpus[0].xs.tok[1], valueToken(s.k, 1, tagOf(1)));
  });

  test(`${prof}: rejected writes change nothing`, () => {
    const s = scene(prof, deferred);
    const { k, tracee } = s;
    const good = getX(s);
    const before = kernelBytes(tracee);
    const lastCpu = tracee.fpu.lastCpu;
    const pkru = tracee.pkru;
    const cases: Array<[string, (b: Uint8Array) => Uint8Array, RegExp]> = [
      // CVE-2017-15537: a compacted-format image must not reach XRSTORS.
      ['xcomp_bv set (compacted format)', (b) => (writeU32(b, XCOMP_BV, readU32(b, XSTATE_BV)), writeU32(b, XCOMP_BV + 4, 0x8000_0000), b), /^-EINVAL/],
      ['xcomp_bv low bit only', (b) => (writeU32(b, XCOMP_BV, 1), b), /^-EINVAL/],
      ['reserved header byte', (b) => ((b[540] = 1), b), /^-EINVAL/],
      ['last reserved header byte', (b) => ((b[575] = 0x80), b), /^-EINVAL/],
      ['supervisor feature (PT) in xfeatures', (b) => (writeU32(b, XSTATE_BV, readU32(b, XSTATE_BV) | (1 << 8)), b), /^-EINVAL/],
      ['unknown feature bit 40', (b) => (writeU32(b, XSTATE_BV + 4, 1 << 8), b), /^-EINVAL/],
      ['reserved MXCSR bits', (b) => (writeU32(b, 24, 0xffff_ffff), b), /^-EINVAL/],
      ['MXCSR bit 31 with SSE only', (b) => (writeU32(b, XSTATE_BV, 2), writeU32(b, 24, 0x8000_1f80), b), /^-EINVAL/],
      ['short write', (b) => b.slice(0, b.length - 8), /^-EFAULT/],
      ['oversized write', (b) => Uint8Array.from([...b, 0, 0, 0, 0, 0, 0, 0, 0]), /^-EFAULT/],
    ];
    if (enabled(k, 18)) {
      // AMX TILEDATA is dynamic: not in a task's user_xfeatures before ARCH_REQ_XCOMP_PERM and a fault.
      cases.push(['dynamic feature not yet allocated', (b) => (writeU32(b, XSTATE_BV, readU32(b, XSTATE_BV) | (1 << 18) | (1 << 17)), b), /^-EINVAL/]);
    }
    // Size errors first: they return before fpu_force_restore(); every other check comes after it.
    cases.sort((a, b) => Number(/EFAULT/.test(String(b[2]))) - Number(/EFAULT/.test(String(a[2]))));
    assert.notEqual(lastCpu, -1, 'the tracee was saved on a CPU');
    for (const [what, edit, want] of cases) {
      const lc = tracee.fpu.lastCpu;
      const r = ptraceSetRegset(k, s.tracer, tracee, 'xstate', edit(good.slice()));
      assert.match(String(r), want, what);
      assert.deepEqual(kernelBytes(tracee), before, `${what}: the kernel buffer is unchanged`);
      if (/EFAULT/.test(String(want))) assert.equal(tracee.fpu.lastCpu, lc, `${what}: refused before fpu_force_restore`);
      else assert.equal(tracee.fpu.lastCpu, -1, `${what}: xstateregs_set runs fpu_force_restore before the checks`);
      assert.equal(tracee.pkru, pkru, `${what}: thread.pkru unchanged`);
    }
    const fx = ptraceGetRegset(k, s.tracer, tracee, 'fpreg');
    assert.ok(fx instanceof Uint8Array);
    assert.match(String(ptraceSetRegset(k, s.tracer, tracee, 'fpreg', fx.slice(0, 511))), /^-EINVAL/);
    const badMx = fx.slice();
    writeU32(badMx, 24, 0x0001_1f80);
    assert.match(String(ptraceSetRegset(k, s.tracer, tracee, 'fpreg', badMx)), /^-EINVAL/);
    assert.deepEqual(kernelBytes(tracee), before);
    // And the untouched image still goes through, and the tracee still gets its own values back.
    assert.equal(ptraceSetRegset(k, s.tracer, tracee, 'xstate', good), null);
    resume(s);
    for (const i of written(k)) assert.equal(k.st.cpus[0].xs.tok[i], valueToken(k, i, tagOf(i)), `component ${i}`);
  });

  test(`${prof}: a running tracee is refused`, () => {
    const p = builtinProfile(prof)!;
    const k = createKernel(p, deferred, { cpus: 2 });
    run(k, { type: 'spawn', pid: TRACEE, comm: 'tracee', kind: 'user', cpu: 0, running: true });
    run(k, { type: 'spawn', pid: TRACER, comm: 'gdb', kind: 'user', cpu: 1, running: true });
    run(k, { type: 'exec', pid: TRACEE, filename: '/usr/bin/tracee' });
    run(k, { type: 'return', pid: TRACEE });
    run(k, { type: 'user-write', pid: TRACEE, comp: 2, tag: 1 });
    const tracee = k.st.tasks.get(TRACEE)!;
    const tracer = k.st.tasks.get(TRACER)!;
    const before = kernelBytes(tracee);
    const tif = tracee.tif;
    const img = new Uint8Array(regsetSize(k, 'xstate'));
    writeU32(img, 24, 0x1f80);
    assert.match(String(ptraceGetRegset(k, tracer, tracee, 'xstate')), /^-ESRCH/);
    assert.match(String(ptraceSetRegset(k, tracer, tracee, 'xstate', img)), /^-ESRCH/);
    assert.match(String(ptraceGetRegset(k, tracer, tracee, 'fpreg')), /^-ESRCH/);
    // Marked traced but still current on its CPU: not yet inactive.
    tracee.traced = true;
    assert.match(String(ptraceGetRegset(k, tracer, tracee, 'xstate')), /^-EBUSY/);
    assert.match(String(ptraceSetRegset(k, tracer, tracee, 'xstate', img)), /^-EBUSY/);
    assert.match(String(ptraceSetRegset(k, tracer, tracer, 'xstate', img)), /^-EPERM/);
    assert.deepEqual(kernelBytes(tracee), before);
    assert.equal(tracee.tif, tif);
    assert.equal(k.st.cpus[0].xs.tok[2], valueToken(k, 2, 1), 'the live registers are untouched');
  });

  test(`${prof}: PKRU goes through thread.pkru`, () => {
    const s = scene(prof, deferred);
    const { k, tracee } = s;
    assert.ok(((s.k.m.profile.xcr0Supported >> 9n) & 1n) === 1n, 'the CPU has PKRU');
    assert.ok(enabled(k, PKRU), 'the kernel enabled PKRU');
    const [off] = uabiSpan(k, PKRU);
    const img = getX(s);
    writeU32(img, XSTATE_BV, readU32(img, XSTATE_BV) | (1 << PKRU));
    writeU32(img, off, 0x1234_5678);
    assert.equal(ptraceSetRegset(k, s.tracer, tracee, 'xstate', img), null);
    assert.equal(tracee.pkru, 0x1234_5678);
    const back = getX(s);
    assert.ok(readU32(back, XSTATE_BV) & (1 << PKRU));
    assert.equal(readU32(back, off), 0x1234_5678);
    // GET reads thread.pkru, not the buffer.
    tracee.pkru = 0x5555_5554;
    assert.equal(readU32(getX(s), off), 0x5555_5554);
    // The header's PKRU bit clear: XRSTOR's init behaviour, thread.pkru = 0.
    writeU32(img, XSTATE_BV, readU32(img, XSTATE_BV) & ~(1 << PKRU));
    assert.equal(ptraceSetRegset(k, s.tracer, tracee, 'xstate', img), null);
    assert.equal(tracee.pkru, 0);
  });
}

test('5.15 before 5.15.88 loses a ptrace write of PKRU (fixed by 4a804c4f8356)', () => {
  for (const [version, applies] of [
    ['5.15', false],
    ['5.15.88', true],
    ['6.1', false],
    ['6.2', true],
  ] as const) {
    const s = scene('zen4', deferred, { version });
    const img = getX(s);
    const [off] = uabiSpan(s.k, PKRU);
    writeU32(img, XSTATE_BV, readU32(img, XSTATE_BV) | (1 << PKRU));
    writeU32(img, off, 0x4);
    const old = s.tracee.pkru;
    assert.equal(ptraceSetRegset(s.k, s.tracer, s.tracee, 'xstate', img), null, version);
    assert.equal(s.tracee.pkru, applies ? 0x4 : old, version);
  }
});

test('a standard-format kernel buffer (XSAVEOPT, 5.15 noxsaves) converts the same way', () => {
  const s = scene('sapphire-rapids', deferred, { version: '5.15.88', boot: { noxsaves: true } });
  const { k } = s;
  assert.equal(k.cfg.compacted, false);
  const img = getX(s);
  for (const i of written(k)) {
    const [off, size] = uabiSpan(k, i);
    assert.deepEqual(img.subarray(off, off + size), imageOf(k, i, tagOf(i)), `component ${i}`);
  }
  const [off7] = uabiSpan(k, 7);
  img.set(imageOf(k, 7, 0x7777), off7);
  assert.equal(ptraceSetRegset(k, s.tracer, s.tracee, 'xstate', img), null);
  resume(s);
  assert.equal(k.st.cpus[0].xs.tok[7], valueToken(k, 7, 0x7777));
  assert.equal(k.st.cpus[0].xs.tok[6], valueToken(k, 6, tagOf(6)));
});

test('without XSAVE (noxsave) there is no NT_X86_XSTATE; NT_PRFPREG is the FXSAVE buffer', () => {
  const s = scene('zen4', deferred, { boot: { noxsave: true } });
  const { k } = s;
  assert.equal(k.cfg.useXsave, false);
  assert.match(String(ptraceGetRegset(k, s.tracer, s.tracee, 'xstate')), /^-ENODEV/);
  assert.match(String(ptraceSetRegset(k, s.tracer, s.tracee, 'xstate', new Uint8Array(576))), /^-ENODEV/);
  const f = ptraceGetRegset(k, s.tracer, s.tracee, 'fpreg');
  assert.ok(f instanceof Uint8Array);
  assert.deepEqual(f.subarray(160, 416), imageOf(k, 1, tagOf(1)));
  const img = f.slice();
  img.set(imageOf(k, 1, 0xf00d), 160);
  assert.equal(ptraceSetRegset(k, s.tracer, s.tracee, 'fpreg', img), null);
  resume(s);
  assert.equal(k.st.cpus[0].xs.tok[1], valueToken(k, 1, 0xf00d));
});
