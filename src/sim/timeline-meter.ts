/**
 * A meter that records, with the model's clock, the operations no tracepoint shows (#NM and #GP
 * traps, IPIs, INVLPGs, the lazy vmap purge, buffer allocations, MSR writes) and samples the XSTATE
 * bytes allocated, for timelines (report/perfetto.ts). It forwards every charge to an inner meter.
 */
import type { Kernel } from '../kernel/kernel.js';
import type { Meter, OpKind } from '../kernel/meter.js';
import type { Cpu } from '../kernel/state.js';

export interface TimelineMark {
  ts: number;
  cpu: number;
  name: string;
  category: string;
  args: Record<string, number>;
}

export interface TimelineSample {
  ts: number;
  name: string;
  value: number;
}

export const XSTATE_BYTES = 'XSTATE bytes allocated';

const MARKED: Partial<Record<OpKind, string>> = {
  'nm-trap': '#NM',
  'gp-trap': '#GP (PASID fix-up)',
  ipi: 'IPI',
  invlpg: 'INVLPG',
  'vmap-purge': 'lazy vmap purge (kernel TLB flush on every CPU)',
  vzalloc: 'vzalloc XSTATE buffer',
  vfree: 'vfree XSTATE buffer',
  'page-alloc': 'alloc_pages XSTATE buffer',
  'wrmsr-xfd': 'WRMSR IA32_XFD',
  'wrmsr-pasid': 'WRMSR IA32_PASID',
  memcpy: 'memcpy (bounce buffer)',
};

export class TimelineMeter implements Meter {
  readonly marks: TimelineMark[] = [];
  readonly samples: TimelineSample[] = [];
  private lastBytes = 0;

  constructor(private readonly inner?: Meter) {}

  charge(k: Kernel, cpu: Cpu, pid: number, op: OpKind, bytes: number, extra: number): void {
    this.inner?.charge(k, cpu, pid, op, bytes, extra);
    const now = k.st.now;
    // Allocation accounting runs next to its charge; a change shows up by the next operation at the latest.
    this.sample(now, k.st.counters.xstateBytes);
    const name = MARKED[op];
    if (name === undefined) return;
    const args: Record<string, number> = { pid };
    if (bytes) args.bytes = bytes;
    if (extra) args[op === 'ipi' ? 'targets' : op === 'invlpg' ? 'pages' : 'extra'] = extra;
    this.marks.push({ ts: now, cpu: cpu.id, name, category: op, args });
  }

  /** The last sample (at the end of the run). */
  finish(now: number, xstateBytes: number): void {
    this.sample(now, xstateBytes);
  }

  private sample(ts: number, value: number): void {
    if (value === this.lastBytes && this.samples.length > 0) return;
    this.lastBytes = value;
    this.samples.push({ ts, name: XSTATE_BYTES, value });
  }
}
