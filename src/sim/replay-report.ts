/**
 * A whole replay as the CLI and tests use it: parse, replay (scanning the hidden entropy fill level
 * when asked), compare, time.
 */
import { InputError } from '../arch/errors.js';
import { CpuProfile } from '../arch/profile.js';
import { FpuPolicy } from '../kernel/fpu/policy.js';
import { parseKernelVersion } from '../kernel/fpu/kernel-version.js';
import { TraceEvent } from '../kernel/trace/events.js';
import { Agreement, compareFpuEvents, predictedItems, recordedItems } from './compare.js';
import { readTrace, replay } from './replay.js';

export interface ReplayReport {
  file: string;
  cpu: string;
  policy: string;
  kernel: string;
  /** Input lines that were trace events, and model events applied. */
  records: number;
  modelEvents: number;
  /** The random.c BLAKE2s fill level used, and the agreement for each one tried. */
  entropyBuf: number;
  entropyScan: { entropyBuf: number; agreement: number }[];
  agreement: Agreement;
  violations: number;
  predictedFpu: TraceEvent[];
}

export interface ReplayTraceOptions {
  version: string;
  entropy: number | 'auto';
  file: string;
}

export function replayTrace(profile: CpuProfile, policy: FpuPolicy, text: string, o: ReplayTraceOptions): ReplayReport {
  parseKernelVersion(o.version);
  const input = readTrace(text);
  if (input.records.length === 0) throw new InputError('no ftrace event lines (expected the text of /sys/kernel/tracing/trace)', o.file);
  const levels = o.entropy === 'auto' ? [0, 8, 16, 24, 32, 40, 48, 56, 64] : [o.entropy];
  let best: { e: number; a: Agreement; run: ReturnType<typeof replay> } | null = null;
  const scan: { entropyBuf: number; agreement: number }[] = [];
  for (const e of levels) {
    const run = replay(profile, policy, input, { version: o.version, entropyBuf: e });
    const a = compareFpuEvents(recordedItems(run.recorded), predictedItems(run.predicted));
    scan.push({ entropyBuf: e, agreement: a.agreement });
    if (!best || a.agreement > best.a.agreement) best = { e, a, run };
  }
  const b = best!;
  return {
    file: o.file,
    cpu: profile.id,
    policy: policy.name,
    kernel: o.version,
    records: input.records.length,
    modelEvents: b.run.events,
    entropyBuf: b.e,
    entropyScan: scan,
    agreement: b.a,
    violations: b.run.violations,
    predictedFpu: b.run.predicted.filter((e) => e.name.startsWith('x86_fpu_')),
  };
}
