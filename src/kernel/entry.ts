/**
 * Entering and leaving the kernel: syscalls, user page faults, and the exit-to-user work
 * (exit_to_user_mode_loop / arch_exit_to_user_mode_prepare): pending signals are delivered, then the
 * FPU policy makes the user state live (switch_fpu_return). Also what user code does to its FPU
 * registers, with the #NM a lazy policy (CR0.TS) or XFD (AMX) raises on first use.
 */
import { charge } from './meter.js';
import { accessCheck, writeComponent, writeMxcsr, writePkru } from '../arch/xsave/registers.js';
import type { Fault } from '../arch/xsave/fault.js';
import { intern } from '../arch/xsave/values.js';
import type { Kernel } from './kernel.js';
import { emit, TOKEN_CACHE_SIZE, violation } from './kernel.js';
import { Cpu, Task } from './state.js';
import { deliverSignal, sendSignal } from './signal.js';
import { handleXfdEvent } from './fpu/dynamic.js';
import { pkruToken } from './pkru.js';

function cpuOf(k: Kernel, t: Task): Cpu {
  return k.st.cpus[t.cpu];
}

/** sys_enter: the task leaves user mode for a system call. */
export function syscallEnter(k: Kernel, t: Task, nr: number, args = '0, 0, 0, 0, 0, 0'): void {
  const cpu = cpuOf(k, t);
  t.inUser = false;
  cpu.xs.cpl = 0;
  k.st.counters.syscalls++;
  charge(k, cpu, 'syscall');
  if (k.out) emit(k, cpu, 'sys_enter', `NR ${nr} (${args})`);
}

/** sys_exit: the syscall returns (the task is still in the kernel; returnToUser follows). */
export function syscallExit(k: Kernel, t: Task, nr: number, ret: number): void {
  if (k.out) emit(k, cpuOf(k, t), 'sys_exit', `NR ${nr} = ${ret}`);
}

/** A user page fault: exception entry and handling (returnToUser follows). */
export function pageFault(k: Kernel, t: Task, address: number, ip: number): void {
  const cpu = cpuOf(k, t);
  t.inUser = false;
  cpu.xs.cpl = 0;
  k.st.counters.pageFaults++;
  charge(k, cpu, 'page-fault');
  if (k.out) emit(k, cpu, 'page_fault_user', `address=0x${address.toString(16)} ip=0x${ip.toString(16)} error_code=0x7`, 'd....');
}

/** exit_to_user_mode: deliver pending signals, then the FPU part (switch_fpu_return), then user mode. */
export function returnToUser(k: Kernel, t: Task): void {
  const cpu = cpuOf(k, t);
  if (t.kind !== 'user') {
    violation(k, 'kthread-to-user', `${t.comm} (${t.kind}) cannot return to user mode`, cpu.id, t.pid);
    return;
  }
  while (t.pending.length > 0) deliverSignal(k, cpu, t, t.pending.shift()!);
  // arch_exit_to_user_mode_prepare runs with interrupts off (signal delivery before it does not).
  cpu.irqsOff = true;
  k.policy.returnToUser(k, cpu, t);
  cpu.irqsOff = false;
  t.inUser = true;
  cpu.xs.cpl = 3;
}

/**
 * The token of the value `tag` for component i: an image whose every 32-bit word is the tag (a valid
 * x87 image for i = 0), interned once. Tags name who wrote what (the checker's oracle compares them).
 */
export function valueToken(k: Kernel, i: number, tag: number): number {
  // A direct-mapped cache in front of the per-component maps (the simulator's hot path). Simulated
  // tags are (pid << 8) | n with a small n: each pid gets 32 consecutive slots, n and the component
  // pick one of them, so the values of TOKEN_CACHE_SIZE / 32 consecutive pids never evict each other
  // (a hashed index lost about a third of them to collisions, and each miss cost a Map lookup).
  const c = k.tokenCache;
  const slot = 3 * ((((tag >>> 8) << 5) ^ ((tag & 0xff) << 2) ^ i) & (TOKEN_CACHE_SIZE - 1));
  if (c[slot] === tag && c[slot + 1] === i) return c[slot + 2];
  const memo = k.tokens[i];
  let t = memo.get(tag);
  if (t === undefined) {
    t = newValueToken(k, i, tag);
    memo.set(tag, t);
  }
  c[slot] = tag;
  c[slot + 1] = i;
  c[slot + 2] = t;
  return t;
}

let tokenScratch = new Uint8Array(256);

/** The token of a value not made before (valueToken memoizes it). */
function newValueToken(k: Kernel, i: number, tag: number): number {
  const size = k.m.pool.images[i][0].length;
  if (i === 9) {
    // PKRU: the 32-bit value, then 4 reserved bytes that read as zero.
    return pkruToken(k, tag);
  }
  // The image is built in a reused buffer (intern copies what it keeps): a run makes thousands.
  if (tokenScratch.length < size) tokenScratch = new Uint8Array(size);
  const b = tokenScratch;
  b.fill(0, 0, size);
  if (i === k.m.tilecfg) {
    // A configuration LDTILECFG accepts (palette 1: 8 tiles of up to 16 rows x 64 bytes); the tag picks
    // start_row and the row counts, which a valid configuration keeps byte for byte.
    b[0] = 1;
    b[1] = tag & 0xff;
    for (let r = 0; r < 8; r++) {
      b[16 + 2 * r] = 64;
      b[48 + r] = 1 + ((tag >>> (8 + ((r * 4) % 24))) & 15);
    }
    return intern(k.m.pool, i, b);
  }
  // Every whole 32-bit word is the tag (little-endian): one word, then doubling copies.
  const words = size & ~3;
  if (words > 0) {
    b[0] = tag & 0xff;
    b[1] = (tag >>> 8) & 0xff;
    b[2] = (tag >>> 16) & 0xff;
    b[3] = (tag >>> 24) & 0xff;
    for (let n = 4; n < words; n *= 2) b.copyWithin(n, 0, Math.min(n, words - n));
  }
  if (i === 0) {
    // x87: FCW 037FH, FSW/FTW/FOP/pointers 0, only the ST registers' 80-bit values carry the tag.
    b.fill(0, 0, 32);
    b[0] = 0x7f;
    b[1] = 0x03;
    for (let r = 0; r < 8; r++) b.fill(0, 32 + 16 * r + 10, 32 + 16 * r + 16);
  }
  return intern(k.m.pool, i, b);
}

/**
 * exc_device_not_available for a user access that faulted with `f`: an armed XFD component's first
 * use (handle_xfd_event: 'retry' once the buffer grew, 'signalled' when SIGILL was sent) or CR0.TS
 * (the lazy-era policy: 'retry', or 'unhandled'). 'other': not a #NM the FPU code handles.
 */
function deviceNotAvailable(k: Kernel, cpu: Cpu, t: Task, f: Fault): 'retry' | 'signalled' | 'unhandled' | 'other' {
  const xfd = f.vector === '#NM' && !cpu.xs.cr0Ts && (cpu.xs.xfdErrLo | cpu.xs.xfdErrHi) !== 0;
  if (!xfd && !(f.vector === '#NM' && cpu.xs.cr0Ts)) return 'other';
  k.st.counters.nmTraps++;
  charge(k, cpu, 'nm-trap');
  cpu.xs.cpl = 0;
  const ok = xfd ? handleXfdEvent(k, cpu, t) : k.policy.deviceNotAvailable(k, cpu, t);
  cpu.xs.cpl = 3;
  if (ok) return 'retry';
  return xfd ? 'signalled' : 'unhandled';
}

/**
 * User code writes value `tag` into component i (an AVX instruction, a TILELOADD, …). A #NM from
 * CR0.TS goes to the policy (lazy era) and the instruction is retried; returns false when the task
 * could not run it (no FPU handling for the trap: the model records a violation).
 */
export function userWrite(k: Kernel, t: Task, i: number, tag: number): boolean {
  const cpu = cpuOf(k, t);
  const tok = valueToken(k, i, tag);
  for (let attempt = 0; attempt < 3; attempt++) {
    const f = i === 9 ? writePkru(cpu.xs, tok, k.m.profile.quirks.pkruInitTracking) : writeComponent(cpu.xs, i, tok);
    if (!f) return true;
    const nm = deviceNotAvailable(k, cpu, t, f);
    if (nm === 'retry') continue;
    if (nm === 'signalled') return false;
    if (nm === 'unhandled') break;
    violation(k, 'user-fpu-fault', `${f.vector} on user write of component ${i}: ${f.reason}`, cpu.id, t.pid);
    return false;
  }
  violation(k, 'user-fpu-fault', `#NM on component ${i} not resolved by the FPU policy`, cpu.id, t.pid);
  return false;
}

/**
 * User code reads component i (any instruction that uses the register): the access goes through the
 * same checks as a write — CR0.TS or an armed XFD raise #NM first — and returns the token it sees.
 */
export function userRead(k: Kernel, t: Task, i: number): number {
  const cpu = cpuOf(k, t);
  for (let attempt = 0; attempt < 3; attempt++) {
    const f = accessCheck(cpu.xs, i);
    if (!f) return cpu.xs.tok[i];
    const nm = deviceNotAvailable(k, cpu, t, f);
    if (nm === 'retry') continue;
    if (nm === 'signalled') return -1;
    if (nm === 'unhandled') break;
    violation(k, 'user-fpu-fault', `${f.vector} on user read of component ${i}: ${f.reason}`, cpu.id, t.pid);
    return -1;
  }
  violation(k, 'user-fpu-fault', `#NM on component ${i} not resolved by the FPU policy`, cpu.id, t.pid);
  return -1;
}

/** User code loads MXCSR (LDMXCSR): a #NM first under CR0.TS; a reserved bit is the task's #GP (SIGSEGV). */
export function userWriteMxcsr(k: Kernel, t: Task, value: number): boolean {
  const cpu = cpuOf(k, t);
  if (userRead(k, t, 1) < 0) return false;
  const f = writeMxcsr(cpu.xs, value, k.m.profile.quirks.mxcsrMask);
  if (f) {
    sendSignal(t, 11);
    return false;
  }
  return true;
}
