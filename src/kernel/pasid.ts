/**
 * PASID and ENQCMD (seed 003; linux-fpu-spec §10, x86-mm-spec §3): the kernel's side of IA32_PASID.
 *
 *  - IA32_PASID (MSR D93H) holds the PASID ENQCMD sends (bits 19:0) and a valid bit (31); ENQCMD from
 *    user mode raises #GP while the valid bit is clear. The MSR is XSAVE supervisor component 10, so
 *    a thread's value travels in its XSAVES buffer: the register file keeps it as `xs.tok[10]`.
 *  - A PASID belongs to an mm (mm->pasid): allocated at the first SVA bind, freed at mm exit (5.18+),
 *    or changed by unbind/rebind (5.10). How it reaches the mm's threads is the PASID policy
 *    (src/policies/pasid/): a lazy #GP fix-up, a write at switch_mm plus IPIs to mm_cpumask, or IPIs
 *    to every CPU.
 *  - Putting a value into a thread follows Andy Lutomirski's rule (Sep 2021 review): change the
 *    registers when they are the only true copy, otherwise change the memory image and invalidate
 *    every preserved register copy (`writeTaskPasid`, what 5.10's update_pasid() did).
 *  - The model's invariant: every ENQCMD that completes carries its mm's current PASID (`enqcmd`
 *    records a 'pasid' violation otherwise).
 *
 * IPIs (`onEachCpuMask`) run their function on the target CPU at once unless that CPU is inside an
 * open `pasidSwitchMmSplit` (interrupts off in switch_mm): then it runs when the split completes.
 */
import { charge } from './meter.js';
import { readU32, writeAreaU32, XCOMP_BV, XSTATE_BV } from '../arch/xsave/area.js';
import { storeComponent } from '../arch/xsave/component-io.js';
import { compactedOffset } from '../arch/layout.js';
import { hasPasidMsr, MSR_IA32_PASID, MSR_IA32_PASID_VALID, PASID_COMPONENT, PASID_MASK, pasidToken, rdmsr, wrmsr } from '../arch/xsave/control.js';
import type { Kernel } from './kernel.js';
import { violation } from './kernel.js';
import { fpuInvalidateFpregsState } from './fpu/core.js';
import { mmOf } from './mm.js';
import { sendSignal } from './signal.js';
import { contextSwitch, PrevState } from './sched.js';
import { Cpu, MmState, Task } from './state.js';

export { MSR_IA32_PASID, MSR_IA32_PASID_VALID, PASID_MASK };
/** XFEATURE_PASID. */
export const XFEATURE_PASID = PASID_COMPONENT;
/** The largest PASID (20 bits). */
export const PASID_MAX = PASID_MASK;
const SIGSEGV = 11;

/** The IA32_PASID value for an mm's PASID: pasid | MSR_IA32_PASID_VALID, or 0 when it has none. */
export function pasidMsrValue(pasid: number): number {
  return pasid === 0 ? 0 : ((pasid & PASID_MASK) | MSR_IA32_PASID_VALID) >>> 0;
}

/** ENQCMD is usable: the CPU has IA32_PASID and the kernel manages component 10 in IA32_XSS. */
export function pasidSupported(k: Kernel): boolean {
  return hasPasidMsr(k.m) && (k.cfg.xss & (1n << BigInt(PASID_COMPONENT))) !== 0n;
}

/** WRMSR IA32_PASID on `cpu` (at CPL 0): tok[10] := the value's token, XINUSE/XMODIFIED[10] set. */
export function writePasidMsr(k: Kernel, cpu: Cpu, value: number): void {
  const xs = cpu.xs;
  const cpl = xs.cpl;
  xs.cpl = 0;
  const f = wrmsr(k.m, xs, MSR_IA32_PASID, BigInt(value >>> 0));
  xs.cpl = cpl;
  if (f) {
    violation(k, 'kernel-msr-fault', `WRMSR IA32_PASID 0x${(value >>> 0).toString(16)} raised ${f.vector}: ${f.reason}`, cpu.id, cpu.curr);
    return;
  }
  k.st.counters.msrWrites++;
  charge(k, cpu, 'wrmsr-pasid');
}

/** RDMSR IA32_PASID on `cpu` (at CPL 0); 0 when the processor has no such MSR (a violation). */
export function readPasidMsr(k: Kernel, cpu: Cpu): number {
  const xs = cpu.xs;
  const cpl = xs.cpl;
  xs.cpl = 0;
  const r = rdmsr(k.m, xs, MSR_IA32_PASID);
  xs.cpl = cpl;
  if (r.fault) {
    violation(k, 'kernel-msr-fault', `RDMSR IA32_PASID raised ${r.fault.vector}: ${r.fault.reason}`, cpu.id, cpu.curr);
    return 0;
  }
  return Number(r.value);
}

/** Offset of component 10 in t's XSAVES buffer, -1 when the buffer's format has no place for it. */
function pasidOffset(k: Kernel, t: Task): number {
  const b = t.fpu.fpstate.area.bytes;
  const xcHi = readU32(b, XCOMP_BV + 4);
  if ((xcHi & 0x8000_0000) === 0) return -1; // standard format: supervisor state has no location
  return compactedOffset(k.m.profile, readU32(b, XCOMP_BV), xcHi & 0x7fff_ffff, PASID_COMPONENT);
}

/** The IA32_PASID value in t's XSAVE buffer (0 when XSTATE_BV[10] is clear: the init configuration). */
export function bufferPasid(k: Kernel, t: Task): number {
  const b = t.fpu.fpstate.area.bytes;
  if ((readU32(b, XSTATE_BV) & (1 << PASID_COMPONENT)) === 0) return 0;
  const off = pasidOffset(k, t);
  return off < 0 ? 0 : readU32(b, off);
}

/** Is t running on its CPU with its FPU registers as the only true copy of its state? */
function registersLive(k: Kernel, t: Task): boolean {
  const cpu = k.st.cpus[t.cpu];
  return cpu !== undefined && cpu.curr === t.pid && k.policy.registersValid(k, cpu, t);
}

/** The IA32_PASID value t's user code runs with: its registers when live, else its memory image. */
export function taskPasidMsr(k: Kernel, t: Task): number {
  return registersLive(k, t) ? readPasidMsr(k, k.st.cpus[t.cpu]) : bufferPasid(k, t);
}

/**
 * Put IA32_PASID value `value` into t's memory image: component 10 and XSTATE_BV[10] (as 5.10's
 * update_pasid() did), one dirtied cache line, then __fpu_invalidate_fpregs_state so that no CPU's
 * preserved copy of t's registers is reused (the return to user reloads the buffer).
 */
export function writeBufferPasid(k: Kernel, t: Task, value: number): void {
  const a = t.fpu.fpstate.area;
  const off = pasidOffset(k, t);
  if (off < 0) {
    violation(k, 'pasid', `${t.comm}-${t.pid}: its XSAVE buffer has no PASID component`, t.cpu, t.pid);
    return;
  }
  storeComponent(k.m, a, PASID_COMPONENT, pasidToken(k.m, value >>> 0), off);
  writeAreaU32(a, XSTATE_BV, (readU32(a.bytes, XSTATE_BV) | (1 << PASID_COMPONENT)) >>> 0);
  k.st.counters.cacheLinesDirtied++;
  fpuInvalidateFpregsState(t.fpu);
}

/**
 * Which copy `writeTaskPasid` reads before writing: 'none' writes unconditionally, 'memory' compares
 * only the buffer (5.10's update_pasid(): WRMSR always, the buffer only when it differs), 'all' also
 * reads the MSR first (RDMSR; the model has no counter for reads).
 */
export type PasidCompare = 'none' | 'memory' | 'all';

/** Are t's FPU registers, on the CPU it runs on, the only true copy of its state? */
export function pasidRegistersLive(k: Kernel, t: Task): boolean {
  return registersLive(k, t);
}

/**
 * Make t's IA32_PASID `value` (what 5.10's update_pasid() did, by Andy's rule): WRMSR when t runs on
 * `cpu` with live registers, else the memory image plus invalidation; `compare` says what is read
 * first so that an equal value is not written. Returns whether anything was written.
 */
export function writeTaskPasid(k: Kernel, cpu: Cpu, t: Task, value: number, compare: PasidCompare): boolean {
  if (registersLive(k, t)) {
    if (t.cpu !== cpu.id) {
      violation(k, 'pasid', `IA32_PASID of ${t.comm}-${t.pid} written from CPU ${cpu.id} while its registers are live on CPU ${t.cpu}`, cpu.id, t.pid);
      return false;
    }
    if (compare === 'all' && readPasidMsr(k, cpu) === value >>> 0) return false;
    writePasidMsr(k, cpu, value);
    return true;
  }
  if (compare !== 'none' && bufferPasid(k, t) === value >>> 0) return false;
  writeBufferPasid(k, t, value);
  return true;
}

/**
 * An IPI handler's update on CPU `c`: if its current task uses `mm`, give it mm's PASID (registers when
 * live, else memory). Kernel threads, idle and tasks of other mms are left alone (the check 5.10's IPI
 * lacked, per tglx: it could hit a kernel thread borrowing the mm). Returns whether it wrote.
 */
export function updateCurrentPasid(k: Kernel, c: Cpu, mm: MmState, compare: PasidCompare): boolean {
  const cur = k.st.tasks.get(c.curr);
  if (!cur || cur.kind !== 'user' || cur.mm !== mm.id) return false;
  return writeTaskPasid(k, c, cur, pasidMsrValue(mm.pasid), compare);
}

// ---------------------------------------------------------------------------------------------------
// IPIs and the switch_mm interleaving

interface OpenSplit {
  /** The mm being loaded. */
  mm: number;
  /** The naive order's early READ_ONCE(mm->pasid), or null (the kernel's order reads at the end). */
  seen: number | null;
  /** IPI functions that arrived while interrupts were off. */
  queued: ((c: Cpu) => void)[];
}

/**
 * CPUs inside an open switch_mm split, per kernel. Not part of KState: a split exists only between a
 * driver's two calls (no step runs in between that could snapshot it).
 */
const openSplits = new WeakMap<Kernel, Map<number, OpenSplit>>();

function splitOf(k: Kernel, cpu: number): OpenSplit | undefined {
  return openSplits.get(k)?.get(cpu);
}

/**
 * on_each_cpu_mask(mask, fn, wait=true) from `from`: fn runs on every CPU of the mask, locally on
 * `from` and by one IPI (counted) on each other CPU. A CPU with interrupts off (inside a split) runs it
 * when they come back on.
 */
export function onEachCpuMask(k: Kernel, from: Cpu, mask: readonly number[], fn: (c: Cpu) => void): void {
  for (const id of mask) {
    const c = k.st.cpus[id];
    if (!c) continue;
    if (id !== from.id) {
      k.st.counters.ipis++;
      charge(k, from, 'ipi', 0, 1);
    }
    const s = splitOf(k, id);
    if (s) s.queued.push(fn);
    else fn(c);
  }
}

/**
 * READ_ONCE(mm->pasid) by switch_mm on `cpu`: the value itself, or, inside a naive-order split, the
 * value read before this CPU joined mm_cpumask. Switch-time PASID loads must read through this.
 */
export function readOnceMmPasid(k: Kernel, cpu: Cpu, mm: MmState): number {
  const s = splitOf(k, cpu.id);
  return s && s.mm === mm.id && s.seen !== null ? s.seen : mm.pasid;
}

/**
 * 'kernel': switch_mm_irqs_off's order: set this CPU in mm_cpumask(next) (an atomic op, a full
 * barrier), then read mm->pasid — either the reader sees a new PASID or the writer's IPI reaches it.
 * 'naive': read mm->pasid first, join mm_cpumask later (the order the seed warns against).
 */
export type SwitchMmOrder = 'kernel' | 'naive';

/**
 * The interleaving "CPU `cpu` is in switch_mm for `next` while another CPU changes mm->pasid". Runs the
 * first half of switch_mm (interrupts off): with 'kernel' order the CPU joins mm_cpumask; with 'naive'
 * it reads mm->pasid. The driver then calls `pasidChange` on another CPU and then the returned
 * continuation, which finishes switch_mm (joins the mask in naive order, loads the mm, runs the PASID
 * policy's switch_mm hook, whose READ_ONCE sees what this order read), completes the context switch
 * (sched.ts contextSwitch: its own switch_mm finds the mm loaded and does nothing more), and turns
 * interrupts back on, running the IPIs that arrived meanwhile. `next` must be a user task whose mm is
 * not loaded on `cpu`. Returns a no-op continuation (and records a violation) otherwise.
 */
export function pasidSwitchMmSplit(k: Kernel, cpu: Cpu, next: Task, prevState: PrevState, order: SwitchMmOrder = 'kernel'): () => void {
  const mm = mmOf(k, next);
  const nothing = (): void => {};
  if (!mm || cpu.mm === mm.id || splitOf(k, cpu.id)) {
    violation(k, 'pasid', `switch_mm split on CPU ${cpu.id} to ${next.comm}-${next.pid}: needs a user task whose mm is not loaded, one split per CPU`, cpu.id, next.pid);
    return nothing;
  }
  let splits = openSplits.get(k);
  if (!splits) {
    splits = new Map();
    openSplits.set(k, splits);
  }
  const join = (): void => {
    if (!mm.cpumask.includes(cpu.id)) mm.cpumask.push(cpu.id);
  };
  const s: OpenSplit = { mm: mm.id, seen: null, queued: [] };
  if (order === 'kernel') join(); // cpumask_set_cpu: atomic, a full barrier before the read below
  else s.seen = mm.pasid; // READ_ONCE before this CPU is visible in mm_cpumask
  splits.set(cpu.id, s);
  const table = splits;
  return () => {
    if (order === 'naive') join();
    const prev = k.st.tasks.get(cpu.curr)!;
    cpu.mm = mm.id;
    if (k.designs.pasid) k.designs.pasid.switchMm(k, cpu, prev, next);
    table.delete(cpu.id); // switch_mm is over; the queued IPIs wait for interrupts, after the switch
    contextSwitch(k, cpu, next, prevState);
    for (const fn of s.queued) fn(cpu);
  };
}

// ---------------------------------------------------------------------------------------------------
// The PASID lifecycle of an mm

/** The lowest PASID >= 1 no mm holds (the global allocator, iommu_alloc_global_pasid). */
function allocPasid(k: Kernel): number {
  const used = new Set<number>();
  for (const m of k.st.mms.values()) if (m.pasid !== 0) used.add(m.pasid);
  for (let p = 1; p <= PASID_MAX; p++) if (!used.has(p)) return p;
  return 0;
}

/**
 * The first SVA bind of t's mm by t (running on `cpu`, in the kernel): allocate the mm's PASID if it
 * has none (iommu_sva_bind_device; the PASID then stays with the mm until mm exit), publish it (one
 * dirtied cache line) and let the PASID policy bring the mm's threads up to date. Returns the mm's
 * PASID, 0 when t has no mm or none is free.
 */
export function pasidBind(k: Kernel, cpu: Cpu, t: Task): number {
  const mm = mmOf(k, t);
  if (!mm) {
    violation(k, 'pasid', `SVA bind by ${t.comm}-${t.pid}, which has no mm`, cpu.id, t.pid);
    return 0;
  }
  if (mm.pasid !== 0) return mm.pasid;
  const p = allocPasid(k);
  if (p === 0) return 0;
  mm.pasid = p; // WRITE_ONCE / smp_store_release
  k.st.counters.cacheLinesDirtied++;
  if (k.designs.pasid) k.designs.pasid.pasidChanged(k, cpu, mm);
  return p;
}

/**
 * mm `mmId`'s PASID becomes `newPasid` (0: none) by a task on `cpu`: 5.10's unbind/rebind, and the
 * writer side of the seed's race. Publishes it and lets the policy propagate it.
 */
export function pasidChange(k: Kernel, cpu: Cpu, mmId: number, newPasid: number): void {
  const mm = k.st.mms.get(mmId);
  if (!mm) {
    violation(k, 'pasid', `PASID change for mm ${mmId}, which does not exist`, cpu.id, cpu.curr);
    return;
  }
  const owner = newPasid === 0 ? undefined : [...k.st.mms.values()].find((m) => m !== mm && m.pasid === newPasid);
  if (newPasid < 0 || newPasid > PASID_MAX || owner) {
    violation(k, 'pasid', `PASID ${newPasid} for mm ${mmId}: ${owner ? `held by mm ${owner.id}` : 'out of range'}`, cpu.id, cpu.curr);
    return;
  }
  mm.pasid = newPasid;
  k.st.counters.cacheLinesDirtied++;
  if (k.designs.pasid) k.designs.pasid.pasidChanged(k, cpu, mm);
}

/** mm_pasid_drop at mm teardown: the PASID goes back to the allocator. */
export function pasidMmExit(k: Kernel, mmId: number): void {
  const mm = k.st.mms.get(mmId);
  if (mm) mm.pasid = 0;
}

/**
 * fpu_clone's PASID rule, after the policy's fork copied the parent's state: the child's XSTATE_BV[10]
 * is cleared ("children never inherit PASID state") and dup_task_struct clears pasid_activated.
 */
export function pasidForkChild(_k: Kernel, child: Task): void {
  const a = child.fpu.fpstate.area;
  writeAreaU32(a, XSTATE_BV, (readU32(a.bytes, XSTATE_BV) & ~(1 << PASID_COMPONENT)) >>> 0);
  child.pasidActivated = false;
}

// ---------------------------------------------------------------------------------------------------
// The instruction

export interface EnqcmdResult {
  /** The instruction completed (false: the task got SIGSEGV). */
  ok: boolean;
  /** The PASID it carried (0 when it did not complete). */
  pasid: number;
}

/**
 * ENQCMD by t, running in user mode on `cpu`. With IA32_PASID's valid bit clear it raises #GP
 * (counted); the #GP handler asks the PASID policy (try_fixup_enqcmd_gp), which may fix the MSR up for
 * one retry. A #GP nobody fixes is a SIGSEGV. A completed ENQCMD whose PASID is not its mm's current
 * one is a 'pasid' violation.
 */
export function enqcmd(k: Kernel, cpu: Cpu, t: Task): EnqcmdResult {
  if (cpu.curr !== t.pid || !t.inUser) {
    violation(k, 'pasid', `ENQCMD by ${t.comm}-${t.pid}, which is not in user mode on CPU ${cpu.id}`, cpu.id, t.pid);
    return { ok: false, pasid: 0 };
  }
  for (let attempt = 0; attempt < 2; attempt++) {
    const v = readPasidMsr(k, cpu);
    if (v & MSR_IA32_PASID_VALID) {
      const pasid = v & PASID_MASK;
      const mm = mmOf(k, t);
      const want = mm ? mm.pasid : 0;
      if (pasid !== want) {
        violation(k, 'pasid', `ENQCMD by ${t.comm}-${t.pid} carried PASID ${pasid}, its mm ${t.mm} has ${want === 0 ? 'none' : `PASID ${want}`}`, cpu.id, t.pid);
      }
      return { ok: true, pasid };
    }
    k.st.counters.gpTraps++;
    charge(k, cpu, 'gp-trap');
    // exc_general_protection from user mode, interrupts still off.
    cpu.xs.cpl = 0;
    const fixed = k.designs.pasid ? k.designs.pasid.enqcmdGp(k, cpu, t) : false;
    cpu.xs.cpl = 3;
    if (!fixed) break;
    if (attempt === 1) violation(k, 'pasid', `ENQCMD by ${t.comm}-${t.pid}: the #GP fix-up claimed success twice (would loop)`, cpu.id, t.pid);
  }
  sendSignal(t, SIGSEGV);
  return { ok: false, pasid: 0 };
}
