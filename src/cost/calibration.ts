/**
 * Host calibration: this machine's cost figures, measured by native/calibrate.c (a C microbenchmark
 * harness built with the system compiler) and kept as data/calibration/host.json (`npm run calibrate`).
 *
 * Every figure is per operation: the median over repeated batches (each batch timed by the TSC, LFENCE /
 * RDTSCP around it, the timer's own overhead subtracted), with p10 and p90 of the same samples and n,
 * the number of batches. `cycles`, `p10` and `p90` are TSC cycles; `ns` is the median over `tscMHz`.
 * The TSC ticks at a constant rate, which is not the core clock: `coreMHz` estimates that (a chain of
 * dependent register ADDs timed by the OS clock); under a hypervisor the two can differ a lot. A figure
 * the CPU or OS cannot provide is absent from `figures` and its reason is in `skipped`.
 *
 * The keys (CALIBRATION_KEYS, in this order):
 *   fxsave, fxrstor          FXSAVE64 / FXRSTOR64 with x87 and SSE in use
 *   xgetbv1                  XGETBV with ECX = 1 (XINUSE)
 *   For each component set S and state T, RFBM = S:
 *     S: x87sse = x87|SSE; avx = x87|SSE|AVX; avx512 = avx|opmask|ZMM_Hi256|Hi16_ZMM;
 *        amx = avx512|TILECFG|TILEDATA (after ARCH_REQ_XCOMP_PERM)
 *     T: inuse = every component of S loaded with random nonzero data (TILECFG: 8 tiles of 16 x 64 bytes);
 *        init = every component of S in its init configuration
 *   xsave.S.T                XSAVE64 to a standard-format buffer
 *   xsaveopt.S.T             XSAVEOPT64 to the buffer the state was just loaded from by XRSTOR, nothing
 *                            modified since (the modified optimization may apply)
 *   xsavec.S.T               XSAVEC64 to a compacted buffer
 *   xrstor.S.T               XRSTOR64 from a standard-format image
 *   xrstorc.S.T              XRSTOR64 from a compacted image
 *   xsaveopt.S.modified      XSAVEOPT64 as above with every component of S written before it (the cost
 *                            of those writes, measured alone, subtracted)
 *   memcpy.Nk                glibc memcpy of N KiB between cache-resident buffers, N = 1 2 4 8 12 16 32 64
 *   pagefault                first write to a fresh anonymous page (minor fault, THP off), per page
 *   syscall                  syscall(SYS_getppid) round trip
 *   ctxswitch                pipe ping-pong between two processes pinned to one CPU: round trip / 2
 *                            (one switch, plus one pipe write and one pipe read)
 *   tlbflush.local           one mprotect call (RW->RO or RO->RW) of one present page and the access after
 *                            it, single-threaded: syscall, PTE change and local TLB flush
 *   tlbflush.remote          the same with another thread of the process running on another CPU: the
 *                            flush needs a shootdown IPI (batches in which that CPU took fewer than one per
 *                            RW->RO->RW round, per /proc/interrupts, are dropped: a paravirtual flush
 *                            skips the IPI to a preempted vCPU; `notes` says how many)
 *
 * Layer 'cost': no wall clock here; the caller passes the date.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { release } from 'node:os';
import { dirname } from 'node:path';
import { z } from 'zod';
import { zodLine } from '../util/zod-line.js';
import { InputError, readInputFile } from '../arch/errors.js';
import { buildNative } from '../util/native.js';

/** The component sets, smallest first. */
export const CALIBRATION_SETS = ['x87sse', 'avx', 'avx512', 'amx'] as const;
export type CalibrationSet = (typeof CALIBRATION_SETS)[number];

const XSAVE_INSNS = ['xsave', 'xsaveopt', 'xsavec', 'xrstor', 'xrstorc'] as const;
export const MEMCPY_KIB = [1, 2, 4, 8, 12, 16, 32, 64] as const;

/** Every key the harness reports (as a figure or as skipped), in its order. */
export const CALIBRATION_KEYS: readonly string[] = [
  'fxsave',
  'fxrstor',
  'xgetbv1',
  ...CALIBRATION_SETS.flatMap((s) => [
    ...['inuse', 'init'].flatMap((t) => XSAVE_INSNS.map((i) => `${i}.${s}.${t}`)),
    `xsaveopt.${s}.modified`,
  ]),
  ...MEMCPY_KIB.map((k) => `memcpy.${k}k`),
  'pagefault',
  'syscall',
  'ctxswitch',
  'tlbflush.local',
  'tlbflush.remote',
];

export interface CalibrationFigure {
  /** Median, TSC cycles per operation. */
  cycles: number;
  /** Median in nanoseconds (cycles / tscMHz). */
  ns: number;
  /** 10th and 90th percentiles, TSC cycles. */
  p10: number;
  p90: number;
  /** Batches measured. */
  n: number;
}

export interface Calibration {
  machine: {
    /** /proc/cpuinfo "model name". */
    cpu: string;
    /** os.release(). */
    kernel: string;
  };
  /** When it was measured (ISO 8601, from the caller). */
  date: string;
  /** TSC rate, estimated against CLOCK_MONOTONIC_RAW. */
  tscMHz: number;
  /** Core clock estimate (dependent ADD chain); not the TSC rate under turbo or a hypervisor. */
  coreMHz: number;
  hypervisor: boolean;
  /** XCR0 as the harness read it, hex. */
  xcr0: string;
  /** Reduced repetitions (tests), not a profile to keep. */
  quick: boolean;
  figures: Record<string, CalibrationFigure>;
  /** Figure key -> why this machine cannot measure it. */
  skipped: Record<string, string>;
  notes: string[];
}

const FigureSchema = z.strictObject({
  cycles: z.number(),
  ns: z.number(),
  p10: z.number(),
  p90: z.number(),
  n: z.number().int().positive(),
});

const HarnessSchema = z.object({
  harness: z.literal('switchlab-calibrate'),
  version: z.literal(1),
  quick: z.boolean(),
  tscMHz: z.number().positive(),
  coreMHz: z.number().positive(),
  hypervisor: z.boolean(),
  xcr0: z.string().regex(/^0x[0-9a-f]+$/),
  figures: z.record(z.string(), FigureSchema.extend({ batch: z.number().int().positive() }).nullable()),
  skipped: z.record(z.string(), z.string()),
  notes: z.array(z.string()),
});

const CalibrationSchema = z.strictObject({
  machine: z.strictObject({ cpu: z.string().min(1), kernel: z.string().min(1) }),
  date: z.string().regex(/^\d{4}-\d{2}-\d{2}(T[0-9:.]+(Z|[+-]\d{2}:\d{2}))?$/, 'expected an ISO 8601 date'),
  tscMHz: z.number().positive(),
  coreMHz: z.number().positive(),
  hypervisor: z.boolean(),
  xcr0: z.string().regex(/^0x[0-9a-f]+$/),
  quick: z.boolean(),
  figures: z.record(z.string(), FigureSchema),
  skipped: z.record(z.string(), z.string()),
  notes: z.array(z.string()),
});


/** The "model name" of the first processor in /proc/cpuinfo. */
function cpuModel(): string {
  const text = existsSync('/proc/cpuinfo') ? readFileSync('/proc/cpuinfo', 'utf8') : '';
  return /^model name\s*:\s*(.+)$/m.exec(text)?.[1].trim() ?? 'unknown';
}

/** Parses and checks what the harness printed; throws on anything unexpected (a harness/TS mismatch). */
export function parseHarnessOutput(stdout: string, date: string): Calibration {
  let raw: unknown;
  try {
    raw = JSON.parse(stdout);
  } catch (e) {
    throw new Error(`calibrate harness printed invalid JSON: ${(e as Error).message}`, { cause: e });
  }
  const r = HarnessSchema.safeParse(raw);
  if (!r.success) throw new Error(`calibrate harness output: ${zodLine(r.error)}`);
  const h = r.data;
  const figures: Record<string, CalibrationFigure> = {};
  const skipped: Record<string, string> = {};
  for (const key of CALIBRATION_KEYS) {
    const f = h.figures[key];
    if (f === undefined) throw new Error(`calibrate harness output: no figure ${key}`);
    if (f === null) {
      skipped[key] = h.skipped[key] ?? 'not measured';
    } else {
      figures[key] = { cycles: f.cycles, ns: f.ns, p10: f.p10, p90: f.p90, n: f.n };
    }
  }
  const extra = Object.keys(h.figures).filter((k) => !CALIBRATION_KEYS.includes(k));
  if (extra.length) throw new Error(`calibrate harness output: unknown figure ${extra[0]}`);
  return {
    machine: { cpu: cpuModel(), kernel: release() },
    date,
    tscMHz: h.tscMHz,
    coreMHz: h.coreMHz,
    hypervisor: h.hypervisor,
    xcr0: h.xcr0,
    quick: h.quick,
    figures,
    skipped,
    notes: h.notes,
  };
}

/**
 * Builds native/calibrate.c and runs it on this machine (about 1 s; `quick`: fewer repetitions). `date`
 * is recorded as given. Returns why it cannot run here (not Linux x86-64, no C compiler, build failure).
 */
export function runCalibration(date: string, options: { quick?: boolean } = {}): Calibration | { skip: string } {
  if (process.platform !== 'linux') return { skip: `not Linux (${process.platform})` };
  // -mgeneral-regs-only: the compiler never touches vector state between a setup and a timed batch;
  // -z now: no lazy binding (its resolver runs XSAVEC/XRSTOR) in between either.
  const built = buildNative('calibrate.c', ['-O2', '-mgeneral-regs-only', '-pthread', '-Wl,-z,now']);
  if ('skip' in built) return built;
  const r = spawnSync(built.path, options.quick ? ['--quick'] : [], { encoding: 'utf8', timeout: 120_000, maxBuffer: 1 << 24 });
  if (r.error) throw new Error(`calibrate harness: ${r.error.message}`);
  if (r.status !== 0) throw new Error(`calibrate harness exited ${r.status ?? r.signal}: ${r.stderr.trim().split('\n')[0]}`);
  return parseHarnessOutput(r.stdout, date);
}

/** Reads a calibration file; a missing, unreadable or malformed file is an InputError naming it. */
export function loadCalibration(path: string): Calibration {
  const text = readInputFile(path, 'calibration');
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (e) {
    throw new InputError(`not valid JSON: ${(e as Error).message.split('\n')[0]}`, path);
  }
  const r = CalibrationSchema.safeParse(raw);
  if (!r.success) throw new InputError(zodLine(r.error), path);
  return r.data;
}

/** Writes a calibration as JSON (creating the directory). */
export function writeCalibration(path: string, cal: Calibration): void {
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, JSON.stringify(cal, null, 2) + '\n');
}
