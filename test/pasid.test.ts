// PASID / ENQCMD (seed 003): the kernel side (src/kernel/pasid.ts) and the four designs
// (src/policies/pasid/), driven through step() plus the PASID calls step.ts does not have yet.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { InputError } from '../src/arch/errors.js';
import { builtinProfile } from '../src/arch/profiles/builtin.js';
import { readU32, XSTATE_BV } from '../src/arch/xsave/area.js';
import { createKernel, Kernel, Violation } from '../src/kernel/kernel.js';
import type { PasidPolicy } from '../src/kernel/designs.js';
import { KEvent, step } from '../src/kernel/step.js';
import { Counters, Task } from '../src/kernel/state.js';
import {
  bufferPasid,
  enqcmd,
  EnqcmdResult,
  MSR_IA32_PASID_VALID,
  pasidBind,
  pasidChange,
  pasidForkChild,
  pasidMmExit,
  pasidMsrValue,
  pasidSwitchMmSplit,
  readPasidMsr,
  SwitchMmOrder,
  taskPasidMsr,
  writePasidMsr,
} from '../src/kernel/pasid.js';
import { deferred } from '../src/policies/fpu/deferred.js';
import { PASID_POLICIES, pasidPolicy } from '../src/policies/pasid/index.js';

const SIGSEGV = 11;
type Cost = Pick<Counters, 'msrWrites' | 'gpTraps' | 'ipis' | 'cacheLinesDirtied'>;

/** A kernel on Sapphire Rapids (IA32_PASID in IA32_XSS) with a PASID policy, driven event by event. */
class Lab {
  readonly k: Kernel;
  readonly violations: Violation[] = [];
  private now = 0;

  constructor(readonly policy: PasidPolicy | null, cpus = 2) {
    this.k = createKernel(builtinProfile('sapphire-rapids')!, deferred, { cpus, designs: { pasid: policy } });
  }

  do(ev: KEvent): void {
    ev.ts = this.now += 1000;
    const r = step(this.k, ev, false);
    this.violations.push(...r.violations);
  }

  /** A call outside step(): collect the violations it records. */
  call<T>(f: () => T): T {
    this.k.violations = [];
    const r = f();
    this.violations.push(...this.k.violations);
    this.k.violations = [];
    return r;
  }

  task(pid: number): Task {
    return this.k.st.tasks.get(pid)!;
  }

  spawn(pid: number, cpu: number): void {
    this.do({ type: 'spawn', pid, comm: `t${pid}`, kind: 'user', cpu });
  }

  /** Switch `cpu` to `pid` (if needed) and return it to user mode. */
  run(pid: number, cpu: number): void {
    if (this.k.st.cpus[cpu].curr !== pid) this.do({ type: 'switch', cpu, next: pid, prevState: 'S' });
    this.do({ type: 'return', pid });
  }

  /** pid blocks in a syscall; its CPU runs `next` (idle when omitted). */
  block(pid: number, next?: number): void {
    const cpu = this.task(pid).cpu;
    this.do({ type: 'syscall', pid, nr: 202 });
    this.do({ type: 'switch', cpu, next: next ?? -1 - cpu, prevState: 'S' });
    if (next !== undefined) this.do({ type: 'return', pid: next });
  }

  /** Wake `pid` on `cpu`, whose current task blocks (or is idle), and run it in user mode. */
  wakeOn(pid: number, cpu: number): void {
    this.do({ type: 'wakeup', pid, by: cpu, cpu });
    const cur = this.task(this.k.st.cpus[cpu].curr);
    if (cur.kind === 'user') this.do({ type: 'syscall', pid: cur.pid, nr: 202 });
    this.run(pid, cpu);
  }

  /** fork (a thread with `thread`), with fpu_clone's PASID rule unless `inherit`. */
  fork(parent: number, child: number, thread: boolean, inherit = false): Task {
    this.do({ type: 'fork', pid: parent, child, thread });
    if (!inherit) this.call(() => pasidForkChild(this.k, this.task(child)));
    return this.task(child);
  }

  /** The first SVA bind, from a syscall of `pid`. */
  bind(pid: number): number {
    this.do({ type: 'syscall', pid, nr: 16 });
    const t = this.task(pid);
    const p = this.call(() => pasidBind(this.k, this.k.st.cpus[t.cpu], t));
    this.do({ type: 'sysexit', pid, nr: 16, ret: 0 });
    this.do({ type: 'return', pid });
    return p;
  }

  enq(pid: number): EnqcmdResult {
    const t = this.task(pid);
    return this.call(() => enqcmd(this.k, this.k.st.cpus[t.cpu], t));
  }

  cost(): Cost {
    const c = this.k.st.counters;
    return { msrWrites: c.msrWrites, gpTraps: c.gpTraps, ipis: c.ipis, cacheLinesDirtied: c.cacheLinesDirtied };
  }

  since(before: Cost): Cost {
    const now = this.cost();
    return {
      msrWrites: now.msrWrites - before.msrWrites,
      gpTraps: now.gpTraps - before.gpTraps,
      ipis: now.ipis - before.ipis,
      cacheLinesDirtied: now.cacheLinesDirtied - before.cacheLinesDirtied,
    };
  }

  pasidViolations(): Violation[] {
    return this.violations.filter((v) => v.rule === 'pasid');
  }

  /** Every violation, for assertion messages. */
  report(): string {
    return this.violations.map((v) => `${v.rule}: ${v.detail}`).join('\n');
  }
}

function xstateBv(t: Task): number {
  return readU32(t.fpu.fpstate.area.bytes, XSTATE_BV);
}

/**
 * Process 10 (threads 10 on CPU 0 and 11 on CPU 1, both in user mode), then thread 10 binds the mm
 * (PASID 1) and both threads ENQCMD. Returns the lab and the cost of bind + the two ENQCMDs.
 */
function boundProcess(policy: PasidPolicy): { lab: Lab; cost: Cost; first: EnqcmdResult[] } {
  const lab = new Lab(policy);
  lab.spawn(10, 0);
  lab.run(10, 0);
  lab.fork(10, 11, true);
  lab.run(11, 1);
  const before = lab.cost();
  assert.equal(lab.bind(10), 1);
  const first = [lab.enq(10), lab.enq(11)];
  return { lab, cost: lab.since(before), first };
}

/** What each design costs for bind + each thread's first ENQCMD (2 CPUs, both threads running). */
const BIND_COST: Record<string, Omit<Cost, 'cacheLinesDirtied'>> = {
  'gp-fixup': { gpTraps: 2, msrWrites: 2, ipis: 0 }, // one #GP + WRMSR per thread, nothing else
  'switch-mm': { gpTraps: 0, msrWrites: 2, ipis: 1 }, // IPI to the other CPU of mm_cpumask; WRMSR on both
  'switch-mm-cmp': { gpTraps: 0, msrWrites: 2, ipis: 1 },
  'ipi-all': { gpTraps: 0, msrWrites: 2, ipis: 1 }, // every other CPU: with 2 CPUs, the same one
};

test('PASID: IA32_PASID is component 10 of the register file', () => {
  const lab = new Lab(null);
  const k = lab.k;
  const cpu = k.st.cpus[0];
  assert.equal(cpu.xs.tok[10], 0);
  lab.call(() => writePasidMsr(k, cpu, pasidMsrValue(5)));
  assert.notEqual(cpu.xs.tok[10], 0);
  assert.equal(readPasidMsr(k, cpu), (5 | MSR_IA32_PASID_VALID) >>> 0);
  assert.deepEqual([...k.m.pool.images[10][cpu.xs.tok[10]]], [5, 0, 0, 0x80, 0, 0, 0, 0], '8-byte little-endian image, upper half 0');
  assert.ok((cpu.xs.xinuseLo & (1 << 10)) !== 0 && (cpu.xs.xmodLo & (1 << 10)) !== 0, 'a written component: XINUSE[10], XMODIFIED[10]');
  lab.call(() => writePasidMsr(k, cpu, 0));
  assert.equal(cpu.xs.tok[10], 0, 'value 0 is the init token');
  assert.equal(k.st.counters.msrWrites, 2);
  lab.call(() => writePasidMsr(k, cpu, 0x4000_0000)); // bit 30 is reserved
  assert.equal(k.st.counters.msrWrites, 2);
  assert.deepEqual(
    lab.violations.map((v) => v.rule),
    ['kernel-msr-fault'],
  );
  // A processor without ENQCMD has no IA32_PASID.
  const zen = createKernel(builtinProfile('zen4')!, deferred, { cpus: 1 });
  writePasidMsr(zen, zen.st.cpus[0], pasidMsrValue(1));
  assert.equal(zen.violations[0]?.rule, 'kernel-msr-fault');
});

test('PASID: policies by name', () => {
  assert.deepEqual(
    PASID_POLICIES.map((p) => p.name),
    ['gp-fixup', 'switch-mm', 'switch-mm-cmp', 'ipi-all'],
  );
  assert.equal(pasidPolicy('gp-fixup').name, 'gp-fixup');
  assert.throws(
    () => pasidPolicy('lazy'),
    (e: unknown) => e instanceof InputError && e.where === '--pasid' && /gp-fixup/.test(e.message),
  );
});

for (const policy of PASID_POLICIES) {
  const name = policy.name;

  test(`PASID ${name}: the first ENQCMD after bind carries the mm's PASID, at the design's cost`, () => {
    const { lab, cost, first } = boundProcess(policy);
    assert.deepEqual(first, [
      { ok: true, pasid: 1 },
      { ok: true, pasid: 1 },
    ]);
    const { msrWrites, gpTraps, ipis } = cost;
    assert.deepEqual({ msrWrites, gpTraps, ipis }, BIND_COST[name]);
    if (name === 'gp-fixup') assert.ok(lab.task(10).pasidActivated && lab.task(11).pasidActivated);
    // Later ENQCMDs cost nothing.
    const before = lab.cost();
    assert.deepEqual([lab.enq(10), lab.enq(11)], first);
    assert.deepEqual(lab.since(before), { msrWrites: 0, gpTraps: 0, ipis: 0, cacheLinesDirtied: 0 });
    assert.equal(lab.violations.length, 0, lab.report());
  });

  test(`PASID ${name}: the PASID rides in the XSAVES buffer across switches; another mm never carries it`, () => {
    const { lab } = boundProcess(policy);
    const want = pasidMsrValue(1);
    lab.spawn(20, 0); // process 20: its own mm, no PASID
    lab.block(10, 20); // CPU 0: 10 -> 20
    assert.equal(bufferPasid(lab.k, lab.task(10)), want, 'XSAVES saved IA32_PASID with thread 10');
    assert.ok(xstateBv(lab.task(10)) & (1 << 10));
    assert.equal(readPasidMsr(lab.k, lab.k.st.cpus[0]) & MSR_IA32_PASID_VALID, 0, "process 20 runs without 10's PASID");
    const traps = lab.k.st.counters.gpTraps;
    assert.deepEqual(lab.enq(20), { ok: false, pasid: 0 }, 'no PASID in its mm: the #GP is a SIGSEGV');
    assert.equal(lab.k.st.counters.gpTraps, traps + 1);
    assert.deepEqual(lab.task(20).pending, [SIGSEGV]);
    lab.task(20).pending.length = 0;

    // Back to 10 on CPU 0 (XRSTORS brings the PASID back: no second #GP under gp-fixup).
    const before = lab.cost();
    lab.wakeOn(10, 0);
    assert.deepEqual(lab.enq(10), { ok: true, pasid: 1 });
    assert.equal(lab.since(before).gpTraps, 0);

    // Thread 11 moves from CPU 1 to CPU 0 (a switch within the mm there), and 10 goes to CPU 1.
    lab.block(11); // CPU 1 idles (keeps mm 10 loaded: lazy TLB)
    assert.equal(taskPasidMsr(lab.k, lab.task(11)), want);
    lab.block(10);
    lab.wakeOn(11, 0);
    lab.wakeOn(10, 1);
    assert.deepEqual([lab.enq(11), lab.enq(10)], [
      { ok: true, pasid: 1 },
      { ok: true, pasid: 1 },
    ]);
    assert.equal(lab.since(before).gpTraps, 0, 'each thread faulted at most once, ever');
    // And process 20 again, on CPU 1 after thread 10.
    lab.block(10, 20);
    assert.equal(readPasidMsr(lab.k, lab.k.st.cpus[1]), 0);
    assert.equal(lab.enq(20).ok, false);
    assert.equal(lab.violations.length, 0, lab.report());
  });

  test(`PASID ${name}: fork children do not inherit PASID state`, () => {
    const { lab } = boundProcess(policy);
    const parent = lab.task(10);
    assert.equal(taskPasidMsr(lab.k, parent), pasidMsrValue(1));
    // fork(): fpu_clone copies the live registers (IA32_PASID included), then clears XSTATE_BV[10].
    const child = lab.fork(10, 30, false);
    assert.equal(xstateBv(child) & (1 << 10), 0);
    assert.equal(bufferPasid(lab.k, child), 0);
    assert.equal(child.pasidActivated, false);
    const thread = lab.fork(10, 31, true);
    assert.equal(xstateBv(thread) & (1 << 10), 0);
    assert.equal(thread.pasidActivated, false);
    // The new process never carries the parent's PASID: its ENQCMD faults into SIGSEGV.
    lab.block(11);
    lab.wakeOn(30, 1);
    assert.deepEqual(lab.enq(30), { ok: false, pasid: 0 });
    if (name === 'gp-fixup') {
      // The new thread gets the mm's PASID from its own first #GP.
      lab.block(30);
      const traps = lab.k.st.counters.gpTraps;
      lab.wakeOn(31, 1);
      assert.deepEqual(lab.enq(31), { ok: true, pasid: 1 });
      assert.equal(lab.k.st.counters.gpTraps, traps + 1);
    }
    assert.equal(lab.pasidViolations().length, 0, lab.report());
  });
}

test('PASID ipi-all interrupts every CPU; switch-mm only mm_cpumask; gp-fixup none', () => {
  const got: Record<string, Cost> = {};
  for (const policy of PASID_POLICIES) {
    const lab = new Lab(policy, 4);
    lab.spawn(10, 0);
    lab.run(10, 0);
    lab.spawn(20, 1);
    lab.run(20, 1);
    lab.spawn(21, 2);
    lab.run(21, 2); // CPU 3 idles
    const before = lab.cost();
    lab.bind(10);
    assert.deepEqual(lab.enq(10), { ok: true, pasid: 1 });
    got[policy.name] = lab.since(before);
    assert.equal(lab.violations.length, 0, lab.report());
  }
  assert.deepEqual(
    { ipis: got['gp-fixup'].ipis, msrWrites: got['gp-fixup'].msrWrites, gpTraps: got['gp-fixup'].gpTraps },
    { ipis: 0, msrWrites: 1, gpTraps: 1 },
  );
  assert.deepEqual({ ipis: got['switch-mm'].ipis, msrWrites: got['switch-mm'].msrWrites }, { ipis: 0, msrWrites: 1 });
  // 3 IPIs; update_pasid() also rewrites IA32_PASID on the CPUs running processes 20 and 21.
  assert.deepEqual({ ipis: got['ipi-all'].ipis, msrWrites: got['ipi-all'].msrWrites, gpTraps: got['ipi-all'].gpTraps }, { ipis: 3, msrWrites: 3, gpTraps: 0 });
});

test('PASID switch-mm dirties a cache line per mm switch; switch-mm-cmp only when the value differs', () => {
  const dirtied: Record<string, number> = {};
  for (const policy of PASID_POLICIES) {
    const { lab } = boundProcess(policy);
    lab.spawn(20, 0);
    const before = lab.cost();
    for (let i = 0; i < 10; i++) {
      lab.block(10, 20);
      lab.block(20, 10);
      assert.equal(lab.enq(10).pasid, 1);
    }
    dirtied[policy.name] = lab.since(before).cacheLinesDirtied;
    assert.equal(lab.since(before).gpTraps, 0);
    assert.equal(lab.violations.length, 0, lab.report());
  }
  // 20 mm switches: the unconditional store dirties next's XSAVE image every time (even for process
  // 20, whose mm has no PASID); the compare finds the images already right.
  assert.deepEqual(dirtied, { 'gp-fixup': 0, 'switch-mm': 20, 'switch-mm-cmp': 0, 'ipi-all': 0 });
});

test('PASID: a thread asleep at bind, switched in where its mm is loaded: the switch_mm sketch misses it', () => {
  const seen: Record<string, EnqcmdResult> = {};
  for (const policy of PASID_POLICIES) {
    const lab = new Lab(policy);
    lab.spawn(10, 0);
    lab.run(10, 0);
    lab.fork(10, 11, true); // never ran; CPU 0 keeps mm 10 loaded
    lab.bind(10);
    lab.block(10, 11); // same mm: switch_mm_irqs_off returns before load_mm_pasid
    seen[policy.name] = lab.enq(11);
    assert.equal(lab.pasidViolations().length, 0, lab.report());
  }
  assert.deepEqual(seen, {
    'gp-fixup': { ok: true, pasid: 1 }, // its own #GP
    'switch-mm': { ok: false, pasid: 0 },
    'switch-mm-cmp': { ok: false, pasid: 0 },
    'ipi-all': { ok: true, pasid: 1 }, // its image was patched at bind
  });
});

test('PASID gp-fixup relies on the PASID never changing (5.18+: fixed per mm until mm exit)', () => {
  const { lab } = boundProcess(pasidPolicy('gp-fixup'));
  lab.do({ type: 'syscall', pid: 10, nr: 16 });
  lab.call(() => pasidChange(lab.k, lab.k.st.cpus[0], 10, 2)); // 5.10-style rebind
  lab.do({ type: 'return', pid: 10 });
  assert.deepEqual(lab.enq(10), { ok: true, pasid: 1 });
  assert.equal(lab.pasidViolations().length, 1);
  lab.call(() => pasidMmExit(lab.k, 10));
  assert.equal(lab.k.st.mms.get(10)!.pasid, 0);
  // The freed PASID is the lowest free one again.
  lab.spawn(20, 1);
  lab.block(11, 20);
  assert.equal(lab.bind(20), 1);
});

/**
 * The seed's race: CPU 0 is in switch_mm for thread 11 of mm 10 while CPU 1 (thread 10, in a syscall)
 * changes mm 10's PASID from 1 to 2 and IPIs mm_cpumask. Returns what 11's first ENQCMD carried.
 */
function race(policy: PasidPolicy, order: SwitchMmOrder): { lab: Lab; r: EnqcmdResult; ipis: number } {
  const lab = new Lab(policy);
  lab.spawn(10, 1);
  lab.run(10, 1);
  lab.fork(10, 11, true);
  assert.equal(lab.bind(10), 1);
  const k = lab.k;
  const t11 = lab.task(11);
  lab.do({ type: 'syscall', pid: 10, nr: 16 });
  const ipis = k.st.counters.ipis;
  const finish = lab.call(() => pasidSwitchMmSplit(k, k.st.cpus[0], t11, 'R', order));
  lab.call(() => pasidChange(k, k.st.cpus[1], 10, 2));
  lab.call(finish);
  const sent = k.st.counters.ipis - ipis;
  assert.equal(k.st.cpus[0].curr, 11);
  lab.do({ type: 'return', pid: 11 });
  lab.do({ type: 'return', pid: 10 });
  assert.deepEqual(lab.enq(10), { ok: true, pasid: 2 }, 'the writer CPU is up to date');
  return { lab, r: lab.enq(11), ipis: sent };
}

test('PASID race (seed 003): reading mm->pasid before joining mm_cpumask leaves a stale PASID', () => {
  for (const name of ['switch-mm', 'switch-mm-cmp']) {
    const naive = race(pasidPolicy(name), 'naive');
    assert.equal(naive.ipis, 0, 'CPU 0 was not in mm_cpumask yet: no IPI reached it');
    assert.deepEqual(naive.r, { ok: true, pasid: 1 });
    assert.equal(naive.lab.pasidViolations().length, 1, name);
    assert.match(naive.lab.pasidViolations()[0].detail, /carried PASID 1, its mm 10 has PASID 2/);

    const kernel = race(pasidPolicy(name), 'kernel');
    assert.equal(kernel.ipis, 1, 'CPU 0 was in mm_cpumask: the IPI waited for interrupts on');
    assert.deepEqual(kernel.r, { ok: true, pasid: 2 });
    assert.equal(kernel.lab.violations.length, 0, kernel.lab.report());
  }
  // IPIs to every CPU do not depend on mm_cpumask: both orders end right.
  for (const order of ['naive', 'kernel'] as const) {
    const all = race(pasidPolicy('ipi-all'), order);
    assert.equal(all.ipis, 1);
    assert.deepEqual(all.r, { ok: true, pasid: 2 });
    assert.equal(all.lab.violations.length, 0, all.lab.report());
  }
});
