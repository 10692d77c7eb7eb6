/**
 * The environment of a kernel-model run: the CPU (instruction model and value pool), the FPU
 * configuration Linux chose at boot, the FPU policy, and the current state. `step` (step.ts) applies one
 * event to `k.st` and returns the trace events it emitted; simulation, replay, the checker and the web
 * app all drive that same function.
 */
import { Meter } from './meter.js';
import { CpuProfile } from '../arch/profile.js';
import { createMachine, XMachine } from '../arch/xsave/machine.js';
import { enabledXState } from '../arch/xsave/state.js';
import { hiOf, loOf } from '../arch/mask.js';
import { FpuConfig, fpuConfig } from './fpu/config.js';
import { FpuPolicy } from './fpu/policy.js';
import { BootOptions } from './fpu/xstate-config.js';
import { Designs, NO_DESIGNS } from './designs.js';
import { KernelVersion } from './fpu/kernel-version.js';
import { Cpu, FpState, KState, newCounters } from './state.js';
import { EventName, TraceEvent } from './trace/events.js';
import { newFpstate, newIdleTask } from './task.js';

/** A rule of the model that a policy broke (the checker's invariants add more). */
export interface Violation {
  rule: string;
  detail: string;
  cpu: number;
  pid: number;
}

export interface Kernel {
  readonly m: XMachine;
  readonly cfg: FpuConfig;
  readonly policy: FpuPolicy;
  readonly designs: Designs;
  st: KState;
  /** Trace events emitted by the current step; null when tracing is off. */
  out: TraceEvent[] | null;
  /** Violations found by the current step. */
  violations: Violation[];
  /** init_fpstate: the init image in the kernel's buffer format (read-only). */
  readonly initFpstate: FpState;
  /** Memo of the value tokens user and kernel code write: tokens[component].get(tag). */
  readonly tokens: Map<number, number>[];
  /** Where the cost of each operation is reported (src/cost), or null. */
  meter: Meter | null;
  /** Direct-mapped cache of `tokens`: TOKEN_CACHE_SIZE entries of (tag, component, token), interleaved. */
  readonly tokenCache: Int32Array;
}

export interface KernelOptions {
  cpus: number;
  version?: KernelVersion | string;
  boot?: BootOptions;
  /** Initial fill of the random.c input pool's BLAKE2s buffer (hidden state of a real machine). */
  entropyBuf?: number;
  /** Buffer design, PKRU and PASID policies (src/policies); missing ones are not modeled. */
  designs?: Partial<Designs>;
  /** A cost meter (src/cost). */
  meter?: Meter;
}

/** Entries of the direct-mapped token cache (a power of two: 32 per pid, 1024 consecutive pids fit). */
export const TOKEN_CACHE_BITS = 15;
export const TOKEN_CACHE_SIZE = 1 << TOKEN_CACHE_BITS;

export function createKernel(profile: CpuProfile, policy: FpuPolicy, opts: KernelOptions): Kernel {
  const m = createMachine(profile);
  const cfg = fpuConfig(profile, opts.version ?? '6.18', opts.boot);
  const st: KState = { now: 0, cpus: [], tasks: new Map(), nextPid: 1, nextId: 1, nextAddr: 0x10_0000, counters: newCounters(), entropyBuf: opts.entropyBuf ?? 0, mms: new Map(), xbuf: { percpu: [], cache: [], lazyFreedPages: 0 } };
  const partial = { m, cfg, policy, designs: { ...NO_DESIGNS, ...opts.designs }, st, out: null, violations: [], tokens: Array.from({ length: 64 }, () => new Map<number, number>()),
    meter: opts.meter ?? null,
    tokenCache: new Int32Array(3 * TOKEN_CACHE_SIZE).fill(-1),
  };
  // init_fpstate lives at its own address and holds every component of fpu_kernel_cfg.max_features in
  // its init configuration (XSTATE_BV = 0).
  const initFpstate = newFpstate(partial, cfg.maxSize, true);
  const k: Kernel = { ...partial, initFpstate };
  for (let c = 0; c < opts.cpus; c++) {
    const xs = enabledXState(cfg.xcr0, cfg.xss, 0);
    xs.xfdLo = cfg.initXfdLo;
    xs.xfdHi = cfg.initXfdHi;
    const cpu: Cpu = {
      id: c,
      curr: 0,
      idle: 0,
      owner: 0,
      xs,
      inKernelFpu: false,
      softirq: 0,
      hardirq: 0,
      preempt: 0,
      xfdCacheLo: cfg.initXfdLo,
      xfdCacheHi: cfg.initXfdHi,
      pkru: 0,
      fpuActive: !policy.usesTs,
      preload: false,
      fpregsLocked: false,
      irqArmed: false,
      irqsOff: false,
      mm: 0,
      rq: [],
    };
    xs.cr0Ts = policy.usesTs;
    st.cpus.push(cpu);
    const idle = newIdleTask(k, c);
    cpu.curr = idle.pid;
    cpu.idle = idle.pid;
  }
  return k;
}

/** Record a violation of a model rule. */
export function violation(k: Kernel, rule: string, detail: string, cpu: number, pid: number): void {
  k.violations.push({ rule, detail, cpu, pid });
}

/** Emit a trace event in the context of the task running on `cpu`. */
export function emit(k: Kernel, cpu: Cpu, name: EventName, text: string, flags = '.....'): void {
  if (!k.out) return;
  const t = k.st.tasks.get(cpu.curr);
  k.out.push({ ts: k.st.now, cpu: cpu.id, pid: cpu.curr < 0 ? 0 : cpu.curr, comm: t ? t.comm : "?", flags, name, text });
}

export function maskLo(m: bigint): number {
  return loOf(m);
}
export function maskHi(m: bigint): number {
  return hiOf(m);
}
