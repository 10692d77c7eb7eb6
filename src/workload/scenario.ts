/**
 * Scenarios: what runs on the simulated machine. A scenario is YAML or JSON validated by a zod schema
 * (unknown fields are refused, errors name the field). Times are in microseconds; ranges are
 * [min, max] drawn uniformly by the seeded PRNG.
 */
import { z } from 'zod';
import { zodLine } from '../util/zod-line.js';
import { InputError, parseYamlInput, readInputFile } from '../arch/errors.js';

const range = z.tuple([z.number().nonnegative(), z.number().nonnegative()]).refine((r) => r[0] <= r[1], 'min must not exceed max');
const prob = z.number().min(0).max(1);

/** The XSAVE components a task's user code writes, by family. */
export const COMPONENT_FAMILIES = {
  x87: [0],
  sse: [1],
  avx: [2],
  avx512: [5, 6, 7],
  /** WRPKRU: the task's protection keys (only where the CPU and kernel enable PKRU). */
  pkru: [9],
  /** AMX: TILECFG and TILEDATA (TILEDATA is dynamic: first use takes #NM and grows the buffer). */
  amx: [17, 18],
} as const;
export type ComponentFamily = keyof typeof COMPONENT_FAMILIES;

const TaskGroup = z.strictObject({
  /** comm of the tasks. */
  name: z.string().min(1).max(15),
  count: z.number().int().min(1).max(4096).default(1),
  kind: z.enum(['user', 'kthread']).default('user'),
  /** The group's tasks are threads of one process (share an mm). */
  threads: z.boolean().default(false),
  /** What user code writes between kernel entries. */
  components: z.array(z.enum(Object.keys(COMPONENT_FAMILIES) as [ComponentFamily, ...ComponentFamily[]])).default(['sse', 'avx']),
  /** Probability that a stretch of user work touches the FPU at all (lazy FPU switching pays off when it is low). */
  fpuProbability: prob.default(1),
  /** Length of a stretch of user (or kthread) work between kernel entries. */
  computeUs: range.default([20, 200]),
  /** After a stretch: a syscall with this probability; it blocks with blockProbability for sleepUs. */
  syscallProbability: prob.default(0.5),
  blockProbability: prob.default(0.3),
  sleepUs: range.default([50, 500]),
  /**
   * A woken task finds it must wait again before returning to user mode (a futex requeue, a restarted
   * sleep, a vhost-like kernel loop): it runs only kernel code and blocks again, with this probability.
   */
  kernelReblockProbability: prob.default(0),
  /** After a stretch (if no syscall): a user page fault with this probability, else a sched_yield with yieldProbability. */
  pageFaultProbability: prob.default(0.05),
  yieldProbability: prob.default(0),
  /** Signals sent to each task of the group every everyUs; the handler computes for handlerUs. */
  signals: z.strictObject({ everyUs: z.number().positive(), handlerUs: range.default([5, 20]) }).optional(),
  /** Each task forks a child every everyUs that (optionally) execs and exits after lifetimeUs. */
  forkExec: z.strictObject({ everyUs: z.number().positive(), lifetimeUs: range.default([50, 300]), exec: z.boolean().default(true) }).optional(),
  /** Kernel threads: probability that a stretch of work is a kernel FPU section (crypto, RAID). */
  kernelFpuProbability: prob.default(0),
  /** This group's tasks read (and with write, change) the registers of the first task of `target` by ptrace. */
  ptrace: z.strictObject({ target: z.string(), everyUs: z.number().positive(), write: z.boolean().default(false) }).optional(),
  /**
   * KVM vCPU threads: after a stretch of user work the task enters KVM_RUN, where its guest writes
   * guestComponents for guestUs per VM entry, with exitsPerRun VM exits before KVM_RUN returns.
   */
  kvm: z
    .strictObject({
      guestUs: range.default([20, 200]),
      exitsPerRun: range.default([1, 5]),
      guestComponents: z.array(z.enum(Object.keys(COMPONENT_FAMILIES) as [ComponentFamily, ...ComponentFamily[]])).default(['sse', 'avx']),
    })
    .optional(),
  /** Request AMX (ARCH_REQ_XCOMP_PERM) at start; default: when `amx` is among the components. */
  amxPermission: z.boolean().optional(),
  /** Install a sigaltstack of this many bytes at start (before the AMX request, as programs do). */
  sigaltstackBytes: z.number().int().min(0).optional(),
  /** Probability that a syscall copies to/from user memory (the PKRU it uses is checked). */
  uaccessProbability: prob.default(0),
  /**
   * ENQCMD submitters: the group's mm is bound to a device (PASID allocated) when its first task
   * starts; after a stretch, a task issues ENQCMD with `probability`. With changeAtUs, the PASID of the
   * mm changes once at that time (an unbind/rebind, as the 5.10 design allowed).
   */
  enqcmd: z.strictObject({ probability: prob.default(0.5), changeAtUs: z.number().positive().optional() }).optional(),
  /** The tasks stop after this long (exit); default: run to the end. */
  lifetimeUs: range.optional(),
});

export const ScenarioSchema = z.strictObject({
  name: z.string().min(1),
  description: z.string().default(''),
  cpus: z.number().int().min(1).max(1024).default(4),
  durationMs: z.number().positive().max(60_000).default(20),
  /** Time slice before an involuntary switch when other tasks wait. */
  sliceUs: z.number().positive().default(3000),
  /** Interrupts on every CPU: every everyUs; a softirq or hardirq that uses the FPU with these probabilities. */
  irq: z
    .strictObject({ everyUs: z.number().positive(), softirqFpuProbability: prob.default(0), hardirqFpuProbability: prob.default(0) })
    .optional(),
  tasks: z.array(TaskGroup).min(1),
});

export type Scenario = z.infer<typeof ScenarioSchema>;
export type TaskGroupSpec = z.infer<typeof TaskGroup>;


/** Validates a parsed scenario; `where` names its source in errors. */
export function validateScenario(raw: unknown, where: string): Scenario {
  const r = ScenarioSchema.safeParse(raw);
  if (!r.success) throw new InputError(zodLine(r.error), where);
  const names = new Set(r.data.tasks.map((t) => t.name));
  r.data.tasks.forEach((t, i) => {
    if (t.ptrace && !names.has(t.ptrace.target)) throw new InputError(`tasks.${i}.ptrace.target: no task group named '${t.ptrace.target}'`, where);
  });
  return r.data;
}

/** Reads a YAML or JSON scenario file. */
export function loadScenarioFile(path: string): Scenario {
  const text = readInputFile(path, 'scenario');
  return validateScenario(parseYamlInput(text, path), path);
}
