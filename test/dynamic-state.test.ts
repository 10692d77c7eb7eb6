// AMX/XFD, the buffer designs and PKRU: Linux's selftests (tools/testing/selftests/x86/amx.c,
// sigaltstack.c, protection_keys.c, KVM's amx_test) ported to the model, and seed 000's claims as
// measured facts.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readU32, XSTATE_BV } from '../src/arch/xsave/area.js';
import { FPU_POLICIES } from '../src/policies/fpu/index.js';
import { deferred } from '../src/policies/fpu/deferred.js';
import { linuxDesigns } from '../src/policies/index.js';
import { XBUF_DESIGNS } from '../src/policies/xbuf/index.js';
import { pkruEager } from '../src/policies/pkru/eager.js';
import { pkruInXstate } from '../src/policies/pkru/in-xstate.js';
import { ARCH_GET_XCOMP_PERM, ARCH_GET_XCOMP_SUPP, ARCH_REQ_XCOMP_PERM, ENOMEM, ENOSPC, fpstateRealloc, freeBuffer, XFEATURE_XTILEDATA } from '../src/kernel/fpu/dynamic.js';
import { SW_BYTES } from '../src/kernel/signal.js';
import { pkruToken, pkruValue } from '../src/kernel/pkru.js';
import { Model } from './helpers/kmodel.js';

const SPR = 'sapphire-rapids';
const TILE = 18;
const CFG = 17;

function amxTask(m: Model, pid: number, permission: boolean, cpu = 0): void {
  m.spawn(pid, cpu);
  m.run(pid, cpu);
  if (permission) assert.equal(m.do({ type: 'arch-prctl', pid, code: ARCH_REQ_XCOMP_PERM, arg: XFEATURE_XTILEDATA }), 0);
}

for (const policy of FPU_POLICIES) {
  test(`${policy.name}: AMX first use takes #NM via XFD, grows the buffer once, keeps the tiles (amx.c)`, () => {
    const m = new Model(policy, SPR, 1, linuxDesigns());
    amxTask(m, 100, true);
    const t = m.task(100);
    assert.equal(t.fpu.fpstate, t.fpu.embedded);
    const nm = m.k.st.counters.nmTraps;
    m.write(100, CFG, 0x1234);
    const tile = m.write(100, TILE, 0x5678);
    assert.ok(m.k.st.counters.nmTraps > nm, '#NM taken');
    assert.notEqual(t.fpu.fpstate, t.fpu.embedded, 'grown');
    assert.ok(t.fpu.fpstate.isValloc && t.fpu.fpstate.size >= 10752);
    assert.equal(t.fpu.fpstate.xfdLo & (1 << TILE), 0, 'XFD disarmed for the task');
    m.spawn(101);
    m.block(100, 101);
    m.do({ type: 'return', pid: 101 });
    m.block(101, 100);
    m.do({ type: 'return', pid: 100 });
    assert.equal(m.read(100, TILE), tile);
    const allocations = m.k.st.counters.allocations;
    m.write(100, TILE, 0x9999);
    assert.equal(m.k.st.counters.allocations, allocations, 'never reallocated');
    assert.deepEqual(m.violations, []);
  });
}

test('no permission: TILEDATA use is SIGILL and the signal frame has no room for tiles (amx.c test_dynamic_state)', () => {
  const m = new Model(deferred, SPR, 1, linuxDesigns());
  amxTask(m, 110, false);
  m.do({ type: 'user-write', pid: 110, comp: TILE, tag: 1 });
  assert.ok(m.task(110).pending.includes(4), 'SIGILL');
  assert.equal(m.task(110).fpu.fpstate, m.task(110).fpu.embedded, 'no buffer for a task without permission');
  m.do({ type: 'kill', pid: 110, sig: 10 });
  m.do({ type: 'fault', pid: 110, address: 0 });
  m.do({ type: 'return', pid: 110 });
  const f = m.task(110).frames[0].area.bytes;
  assert.equal(readU32(f, SW_BYTES + 16), 2816, 'xstate_size without TILEDATA');
  assert.equal(readU32(f, SW_BYTES + 8) & (1 << TILE), 0);
});

test('with permission the frame carries the tiles; without tiles in use XSTATE_BV says so (amx.c, sigaltstack sizing)', () => {
  const m = new Model(deferred, SPR, 1, linuxDesigns());
  amxTask(m, 120, true);
  m.write(120, CFG, 0x22);
  const tile = m.write(120, TILE, 0x33);
  m.do({ type: 'kill', pid: 120, sig: 10 });
  m.do({ type: 'fault', pid: 120, address: 0 });
  m.do({ type: 'return', pid: 120 });
  const f = m.task(120).frames[0].area.bytes;
  assert.equal(readU32(f, SW_BYTES + 16), 11008);
  assert.ok(readU32(f, XSTATE_BV) & (1 << TILE));
  assert.deepEqual(Array.from(f.subarray(2816, 2816 + 64)), Array.from(m.k.m.pool.images[TILE][tile].subarray(0, 64)));
  assert.equal(m.read(120, TILE), 0, 'the handler starts with init tiles');
  m.do({ type: 'sigreturn', pid: 120 });
  m.do({ type: 'return', pid: 120 });
  assert.equal(m.read(120, TILE), tile, 'sigreturn restores them');
  assert.deepEqual(m.violations, []);
});

test('permission vs sigaltstack: a too-small installed stack refuses the request; a permitted process cannot install one (sigaltstack.c)', () => {
  const m = new Model(deferred, SPR, 1, linuxDesigns());
  m.spawn(130);
  m.run(130);
  assert.equal(m.do({ type: 'sigaltstack', pid: 130, size: 4096 }), 0);
  assert.equal(m.do({ type: 'arch-prctl', pid: 130, code: ARCH_REQ_XCOMP_PERM, arg: XFEATURE_XTILEDATA }), ENOSPC);
  assert.equal(m.do({ type: 'sigaltstack', pid: 130, size: 16384 }), 0);
  assert.equal(m.do({ type: 'arch-prctl', pid: 130, code: ARCH_REQ_XCOMP_PERM, arg: XFEATURE_XTILEDATA }), 0);
  assert.equal(m.do({ type: 'sigaltstack', pid: 130, size: 8192 }), ENOMEM);
  assert.equal(m.do({ type: 'arch-prctl', pid: 130, code: ARCH_GET_XCOMP_SUPP, arg: 0 }) & (1 << TILE), 1 << TILE);
});

test('permission is inherited by fork, reset by exec; fork does not inherit tile contents (amx.c test_fork)', () => {
  const m = new Model(deferred, SPR, 2, linuxDesigns());
  amxTask(m, 140, true);
  m.write(140, CFG, 0x44);
  m.write(140, TILE, 0x45);
  m.do({ type: 'syscall', pid: 140, nr: 57 });
  m.do({ type: 'fork', pid: 140, child: 141, thread: false });
  m.do({ type: 'sysexit', pid: 140, nr: 57, ret: 141 });
  m.do({ type: 'return', pid: 140 });
  const child = m.task(141);
  assert.equal(child.fpu.fpstate, child.fpu.embedded, 'the child gets no big buffer');
  m.run(141, 1, 'R');
  assert.equal(m.do({ type: 'arch-prctl', pid: 141, code: ARCH_GET_XCOMP_PERM, arg: 0 }) & (1 << TILE), 1 << TILE, 'inherited permission');
  assert.equal(m.read(141, TILE), 0, 'tiles not inherited (first use grows the child buffer, init state)');
  m.do({ type: 'syscall', pid: 141, nr: 59 });
  m.do({ type: 'exec', pid: 141, filename: '/bin/amx' });
  assert.equal(m.do({ type: 'arch-prctl', pid: 141, code: ARCH_GET_XCOMP_PERM, arg: 0 }) & (1 << TILE), 0, 'exec resets it');
  assert.equal(child.fpu.fpstate, child.fpu.embedded, 'exec returns to the default buffer');
  assert.deepEqual(m.violations, []);
});

test('ptrace reads the tiles of a stopped AMX tracee (amx.c test_ptrace)', () => {
  const m = new Model(deferred, SPR, 1, linuxDesigns());
  amxTask(m, 150, true);
  m.spawn(151);
  m.write(150, CFG, 0x55);
  m.write(150, TILE, 0x56);
  m.do({ type: 'switch', cpu: 0, next: 151, prevState: 't' });
  m.task(150).run = 'stopped';
  assert.equal(m.do({ type: 'ptrace', pid: 151, target: 150, write: true, set: { comp: TILE, tag: 0x77 } }), 0);
  m.do({ type: 'return', pid: 151 });
  m.block(151, 150);
  m.do({ type: 'return', pid: 150 });
  assert.equal(m.read(150, TILE), m.token(TILE, 0x77), "the tracer's tile data reached the tracee");
  assert.deepEqual(m.violations, []);
});

test('violations: a sleeping allocation under fpregs_lock, and freeing the embedded buffer', () => {
  const m = new Model(deferred, SPR, 1, linuxDesigns());
  amxTask(m, 160, true);
  const cpu = m.k.st.cpus[0];
  cpu.fpregsLocked = true;
  fpstateRealloc(m.k, cpu, m.task(160), 1 << TILE);
  assert.ok(m.k.violations.some((v) => v.rule === 'sleep-in-atomic'));
  cpu.fpregsLocked = false;
  m.k.violations = [];
  freeBuffer(m.k, cpu, m.task(160), m.task(160).fpu.embedded);
  assert.ok(m.k.violations.some((v) => v.rule === 'free-embedded'));
});

test('PKRU survives context switches and signals, and ptrace writes take effect (protection_keys.c)', () => {
  const m = new Model(deferred, SPR, 1, linuxDesigns());
  m.spawn(170);
  m.spawn(171);
  m.run(170);
  const mine = m.write(170, 9, 0x1111_0000);
  m.block(170, 171);
  m.do({ type: 'return', pid: 171 });
  m.write(171, 9, 0x2222_0000);
  m.block(171, 170);
  m.do({ type: 'return', pid: 170 });
  assert.equal(m.read(170, 9), mine);
  m.do({ type: 'kill', pid: 170, sig: 10 });
  m.do({ type: 'fault', pid: 170, address: 0 });
  m.do({ type: 'return', pid: 170 });
  assert.equal(pkruValue(m.k, m.read(170, 9)), 0x5555_5554, 'handler runs with the default keys');
  m.do({ type: 'sigreturn', pid: 170 });
  m.do({ type: 'return', pid: 170 });
  assert.equal(m.read(170, 9), mine, 'sigreturn restores the interrupted PKRU');
  m.block(170, 171);
  m.task(170).run = 'stopped';
  m.do({ type: 'return', pid: 171 });
  assert.equal(m.do({ type: 'ptrace', pid: 171, target: 170, write: true, set: { comp: 9, tag: 0x3333_0000 } }), 0);
  m.block(171, 170);
  m.do({ type: 'return', pid: 170 });
  assert.equal(m.read(170, 9), pkruToken(m.k, 0x3333_0000), 'ptrace write of PKRU reaches the tracee');
  assert.deepEqual(m.violations, []);
});

test("Andy's objection, measured: copy_to_user after a wakeup uses the previous task's PKRU with in-xstate, the task's own with eager", () => {
  for (const [pkru, wrong] of [
    [pkruEager, false],
    [pkruInXstate, true],
  ] as const) {
    const m = new Model(deferred, SPR, 1, linuxDesigns({ pkru }));
    m.spawn(180);
    m.spawn(181);
    m.run(180);
    m.write(180, 9, 0x1000_0004);
    m.block(180, 181); // 180 sleeps in read()
    m.do({ type: 'return', pid: 181 });
    m.write(181, 9, 0x2000_0008);
    m.block(181, 180); // 180 wakes up, copies the data to user memory before returning
    const used = m.do({ type: 'uaccess', pid: 180 });
    assert.equal(used === 0x1000_0004, !wrong, `${pkru.name}: PKRU 0x${used.toString(16)}`);
  }
});

test('seed 000: the per-CPU bounce buffer and the kmap window keep the modified optimization; costs per design', () => {
  const rows: string[] = [];
  const hits: Record<string, number> = {};
  for (const xbuf of XBUF_DESIGNS) {
    const m = new Model(deferred, SPR, 1, linuxDesigns({ xbuf }));
    amxTask(m, 200, true);
    m.spawn(201);
    m.write(200, CFG, 1);
    m.write(200, TILE, 1);
    for (let i = 0; i < 50; i++) {
      m.write(200, 2, 100 + i); // AVX changes, the tiles do not
      m.block(200, 201);
      m.do({ type: 'return', pid: 201 });
      m.write(201, 2, 500 + i);
      m.block(201, 200);
      m.do({ type: 'return', pid: 200 });
    }
    assert.equal(m.read(200, TILE), m.token(TILE, 1));
    const c = m.k.st.counters;
    hits[xbuf.name] = c.modifiedOptHits;
    rows.push(`${xbuf.name}: ${c.modifiedOptHits} modified-opt saves, ${c.bytesCopied} bytes copied, ${c.invlpgs} INVLPG, ${c.pageTableUpdates} PTE writes`);
    assert.deepEqual(m.violations, []);
    if (xbuf.name === 'percpu-bounce') assert.ok(c.bytesCopied >= 2 * 50 * 10752, 'a memcpy each way');
    if (xbuf.name === 'kmap-window') assert.ok(c.invlpgs >= 2 * 50 * 3, 'local INVLPGs around each save and restore');
  }
  console.log(`# ${rows.join('; ')}`);
  assert.ok(hits.vmalloc > 40);
  assert.equal(hits['percpu-bounce'], hits.vmalloc, 'the bounce buffer keeps every hit plain vmalloc gets');
  assert.equal(hits['kmap-window'], hits.vmalloc);
});

test('seed 000: vfree IPIs grow with task churn, not with task lifetime; a cache removes them', () => {
  const ipis: Record<string, number> = {};
  for (const xbuf of XBUF_DESIGNS.filter((x) => x.name === 'vmalloc' || x.name === 'vmalloc-cache')) {
    for (const churn of [true, false]) {
      const m = new Model(deferred, SPR, 2, linuxDesigns({ xbuf }));
      amxTask(m, 300, true);
      let pid = 1000;
      for (let i = 0; i < 4500; i++) {
        if (churn) {
          // a short-lived AMX task: fork, first tile use (buffer), exit (buffer freed)
          const child = pid++;
          m.do({ type: 'fork', pid: 300, child, thread: false });
          m.run(child, 1, 'R');
          m.write(child, TILE, i);
          m.do({ type: 'exit', pid: child });
          m.do({ type: 'switch', cpu: 1, next: -2, prevState: 'Z' });
        } else {
          m.write(300, TILE, i); // one long-lived task doing the same amount of AMX work
        }
      }
      ipis[`${xbuf.name} ${churn ? 'churn' : 'long-lived'}`] = m.k.st.counters.ipis;
      assert.deepEqual(m.violations, []);
    }
  }
  console.log(`# vfree purge IPIs: ${JSON.stringify(ipis)}`);
  assert.ok(ipis['vmalloc churn'] > 0, 'churn purges the lazy vmap areas: IPIs to every CPU');
  assert.equal(ipis['vmalloc long-lived'], 0);
  assert.equal(ipis['vmalloc-cache churn'], 0);
});

test('#NM via XFD: IA32_XFD_ERR names TILEDATA in the trap and is cleared by the handler (amx.c test_xfd)', () => {
  const m = new Model(deferred, SPR, 1, linuxDesigns());
  amxTask(m, 190, true);
  const cpu = m.k.st.cpus[0];
  assert.equal(cpu.xs.xfdLo & (1 << TILE), 1 << TILE, 'armed before first use');
  const msr = m.k.st.counters.msrWrites;
  m.write(190, TILE, 0xab);
  assert.equal(cpu.xs.xfdErrLo, 0, 'the handler wrote 0 to IA32_XFD_ERR');
  assert.equal(cpu.xs.xfdLo & (1 << TILE), 0, 'disarmed for this task');
  assert.ok(m.k.st.counters.msrWrites >= msr + 2, 'XFD_ERR cleared and XFD rewritten');
});

test('remote access to another mm ignores protection keys; a kernel access to the own mm uses the task PKRU', () => {
  const m = new Model(deferred, SPR, 1, linuxDesigns());
  m.spawn(195);
  m.spawn(196);
  m.run(195);
  m.write(195, 9, 0x0c00_0000);
  m.do({ type: 'syscall', pid: 195, nr: 310 }); // process_vm_writev into 196
  assert.equal(m.do({ type: 'uaccess', pid: 195, target: 196 }), -2);
  assert.equal(m.do({ type: 'uaccess', pid: 195 }), 0x0c00_0000);
});

test('KVM amx_test: a guest permitted AMX gets a guest fpstate with tile room and XFD 0; its tiles survive preemption', () => {
  const m = new Model(deferred, SPR, 1, linuxDesigns());
  m.spawn(210);
  m.spawn(211);
  m.run(210);
  assert.equal(m.do({ type: 'arch-prctl', pid: 210, code: 0x1025 /* ARCH_REQ_XCOMP_GUEST_PERM */, arg: XFEATURE_XTILEDATA }), 0);
  m.do({ type: 'syscall', pid: 210, nr: 16 });
  m.do({ type: 'kvm-run', pid: 210 });
  assert.equal(m.do({ type: 'arch-prctl', pid: 210, code: 0x1025, arg: XFEATURE_XTILEDATA }), 0, 'already permitted');
  const g = m.task(210).vcpu!.fpstate;
  assert.ok(g.isGuest && g.size >= 10752 && g.xfdLo === 0 && (g.xfeaturesLo & (1 << TILE)) !== 0);
  m.do({ type: 'vm-entry', pid: 210 });
  m.do({ type: 'guest-write', pid: 210, comp: TILE, tag: 0x1010 });
  m.do({ type: 'vm-exit', pid: 210 });
  m.do({ type: 'switch', cpu: 0, next: 211, prevState: 'R' });
  m.do({ type: 'return', pid: 211 });
  m.block(211, 210);
  m.do({ type: 'vm-entry', pid: 210 });
  assert.equal(m.k.st.cpus[0].xs.tok[TILE], m.token(TILE, 0x1010));
  assert.deepEqual(m.violations, []);
});
