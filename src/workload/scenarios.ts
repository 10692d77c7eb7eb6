/** The built-in scenarios (`switchlab simulate --list-scenarios`). */
import { InputError } from '../arch/errors.js';
import { existsSync } from 'node:fs';
import { loadScenarioFile, Scenario, validateScenario } from './scenario.js';

const RAW: Record<string, unknown> = {
  'avx-threads': {
    name: 'avx-threads',
    description: 'AVX/AVX-512 threads with blocking syscalls, interleaved with kernel threads',
    cpus: 4,
    durationMs: 20,
    tasks: [
      { name: 'avx', count: 6, threads: true, components: ['sse', 'avx', 'avx512'], computeUs: [30, 300], syscallProbability: 0.6, blockProbability: 0.5, sleepUs: [20, 300], kernelReblockProbability: 0.3 },
      { name: 'kworker', count: 2, kind: 'kthread', computeUs: [5, 30], sleepUs: [100, 800], blockProbability: 1, syscallProbability: 1 },
    ],
  },
  forkexec: {
    name: 'forkexec',
    description: 'a shell-like parent forking children that exec and exit',
    cpus: 2,
    durationMs: 20,
    tasks: [{ name: 'sh', count: 2, components: ['sse', 'avx'], forkExec: { everyUs: 400, lifetimeUs: [50, 300], exec: true }, syscallProbability: 0.3 }],
  },
  signals: {
    name: 'signals',
    description: 'tasks using AVX in signal handlers; every return from a handler restores the interrupted state',
    cpus: 2,
    durationMs: 20,
    tasks: [{ name: 'sig', count: 3, components: ['sse', 'avx', 'avx512'], signals: { everyUs: 150, handlerUs: [5, 30] }, syscallProbability: 0.3 }],
  },
  ptrace: {
    name: 'ptrace',
    description: 'a debugger reading and writing the xstate of a running AVX task',
    cpus: 2,
    durationMs: 20,
    tasks: [
      { name: 'tracee', count: 1, components: ['sse', 'avx', 'avx512'], syscallProbability: 0.7, blockProbability: 0.8, sleepUs: [100, 400] },
      { name: 'gdb', count: 1, components: ['sse'], ptrace: { target: 'tracee', everyUs: 200, write: true }, syscallProbability: 0.1 },
    ],
  },
  kvm: {
    name: 'kvm',
    description: 'KVM vCPU threads: guest FPU state swapped in around KVM_RUN, preempted in the guest, with host AVX tasks',
    cpus: 2,
    durationMs: 20,
    sliceUs: 500,
    tasks: [
      { name: 'vcpu', count: 2, threads: true, components: ['sse', 'avx'], kvm: { guestUs: [20, 200], exitsPerRun: [1, 6], guestComponents: ['sse', 'avx', 'avx512'] }, syscallProbability: 0.2 },
      { name: 'avx', count: 2, components: ['sse', 'avx', 'avx512'], syscallProbability: 0.4 },
    ],
  },
  'amx-pool': {
    name: 'amx-pool',
    description: 'long-lived AMX training threads (permission requested, buffers grown once) sharing CPUs with AVX-512 work',
    cpus: 4,
    durationMs: 20,
    tasks: [
      { name: 'train', count: 6, threads: true, components: ['sse', 'avx', 'avx512', 'amx'], computeUs: [50, 300], syscallProbability: 0.4, blockProbability: 0.5 },
      { name: 'avx', count: 4, components: ['sse', 'avx', 'avx512'], syscallProbability: 0.4 },
    ],
  },
  'amx-churn': {
    name: 'amx-churn',
    description: 'short-lived AMX processes forked continually: buffers allocated and freed at the rate tasks come and go',
    cpus: 4,
    durationMs: 20,
    tasks: [
      {
        name: 'launcher',
        count: 4,
        components: ['sse', 'avx', 'amx'],
        forkExec: { everyUs: 150, lifetimeUs: [50, 200], exec: false },
        syscallProbability: 0.3,
      },
    ],
  },
  'amx-signals': {
    name: 'amx-signals',
    description: 'AMX tasks taking signals: frames carry the tile data, handlers start from init state',
    cpus: 2,
    durationMs: 20,
    tasks: [{ name: 'amxsig', count: 3, components: ['sse', 'avx', 'amx'], sigaltstackBytes: 16384, signals: { everyUs: 200, handlerUs: [5, 30] }, syscallProbability: 0.3 }],
  },
  'pkru-uaccess': {
    name: 'pkru-uaccess',
    description: 'tasks with distinct protection keys whose syscalls copy to and from user memory while other tasks run',
    cpus: 2,
    durationMs: 20,
    tasks: [{ name: 'pkey', count: 6, components: ['sse', 'pkru'], syscallProbability: 0.7, blockProbability: 0.6, uaccessProbability: 1, kernelReblockProbability: 0 }],
  },
  enqcmd: {
    name: 'enqcmd',
    description: 'ENQCMD submitters (threads of one process) across all CPUs, with other processes in between',
    cpus: 4,
    durationMs: 20,
    tasks: [
      { name: 'dsa', count: 8, threads: true, components: ['sse', 'avx'], enqcmd: { probability: 0.7 }, syscallProbability: 0.5, blockProbability: 0.5 },
      { name: 'other', count: 4, components: ['sse', 'avx'], syscallProbability: 0.5 },
    ],
  },
  'enqcmd-change': {
    name: 'enqcmd-change',
    description: "the same with the mm's PASID changed mid-run (unbind/rebind, the 5.10 design): who still carries the old one?",
    cpus: 4,
    durationMs: 20,
    tasks: [
      { name: 'dsa', count: 8, threads: true, components: ['sse', 'avx'], enqcmd: { probability: 0.7, changeAtUs: 10000 }, syscallProbability: 0.5, blockProbability: 0.5 },
      { name: 'other', count: 4, components: ['sse', 'avx'], syscallProbability: 0.5 },
    ],
  },
  'kfpu-softirq': {
    name: 'kfpu-softirq',
    description: 'kernel FPU users in softirq and hardirq context while AVX tasks run (irq_fpu_usable rules)',
    cpus: 2,
    durationMs: 20,
    irq: { everyUs: 40, softirqFpuProbability: 0.3, hardirqFpuProbability: 0.3 },
    tasks: [
      { name: 'avx', count: 4, components: ['sse', 'avx'], syscallProbability: 0.4 },
      { name: 'kcryptd', count: 1, kind: 'kthread', kernelFpuProbability: 0.8, computeUs: [5, 40], blockProbability: 1, syscallProbability: 1 },
    ],
  },
};

export function builtinScenarioNames(): string[] {
  return Object.keys(RAW);
}

export function builtinScenario(name: string): Scenario | undefined {
  const raw = RAW[name];
  return raw === undefined ? undefined : validateScenario(raw, `built-in scenario ${name}`);
}

/** A built-in name or a YAML/JSON file. */
export function resolveScenario(spec: string): Scenario {
  const b = builtinScenario(spec);
  if (b) return b;
  if (existsSync(spec)) return loadScenarioFile(spec);
  throw new InputError(`unknown scenario (not a file; built-ins: ${builtinScenarioNames().join(', ')})`, `--scenario ${spec}`);
}
