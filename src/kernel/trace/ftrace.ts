/**
 * The ftrace text format of /sys/kernel/tracing/trace (the "nop" tracer with events):
 *
 *        fpuload-6281    [000] d..1.   608.559629: signal_deliver: sig=10 errno=0 code=0 …
 *
 * TASK-PID right-aligned to 16+1+5 columns, [CPU], five flag characters, the timestamp in seconds with
 * microseconds, then "event: fields". Written by `formatFtrace`, read by `parseFtraceLine`.
 */
import { TraceEvent } from './events.js';

export const FTRACE_HEADER = [
  '# tracer: nop',
  '#',
  '#                                _-----=> irqs-off/BH-disabled',
  '#                               / _----=> need-resched',
  '#                              | / _---=> hardirq/softirq',
  '#                              || / _--=> preempt-depth',
  '#                              ||| / _-=> migrate-disable',
  '#                              |||| /     delay',
  '#           TASK-PID     CPU#  |||||  TIMESTAMP  FUNCTION',
  '#              | |         |   |||||     |         |',
];

function timestamp(ns: number): string {
  const us = Math.floor(ns / 1000);
  const s = Math.floor(us / 1_000_000);
  return `${s}.${String(us % 1_000_000).padStart(6, '0')}`;
}

/** One line, as the kernel prints it (comm truncated to 15 characters, TASK-PID right-aligned). */
export function formatFtraceLine(e: TraceEvent): string {
  const comm = e.pid === 0 ? '<idle>' : e.comm.slice(0, 15);
  const who = `${comm}-${e.pid}`.padStart(22);
  const cpu = String(e.cpu).padStart(3, '0');
  return `${who}    [${cpu}] ${e.flags} ${timestamp(e.ts).padStart(12)}: ${e.name}: ${e.text}`;
}

export function formatFtrace(events: readonly TraceEvent[], withHeader = true): string {
  const lines = events.map(formatFtraceLine);
  return (withHeader ? [...FTRACE_HEADER, ...lines] : lines).join('\n') + '\n';
}

/** A parsed line: the common part and the raw field text. */
export interface FtraceRecord {
  comm: string;
  pid: number;
  cpu: number;
  flags: string;
  ts: number;
  name: string;
  text: string;
  /** 1-based line number in the input. */
  line: number;
}

const LINE = /^\s*(.*?)-(\d+)\s+(?:\(\s*[-\d]+\)\s+)?\[(\d+)\]\s+(\S{4,5})\s+(\d+)\.(\d+):\s+([A-Za-z0-9_]+):\s?(.*)$/;

/** Parses one trace line; null for comments, blank lines and lines in another format. */
export function parseFtraceLine(s: string, line: number): FtraceRecord | null {
  if (s.length === 0 || s.charCodeAt(0) === 35 /* # */) return null;
  const m = LINE.exec(s);
  if (!m) return null;
  const frac = m[6].padEnd(9, '0').slice(0, 9);
  return {
    comm: m[1].trim(),
    pid: Number(m[2]),
    cpu: Number(m[3]),
    flags: m[4],
    ts: Number(m[5]) * 1e9 + Number(frac),
    name: m[7],
    text: m[8],
    line,
  };
}

/** `key=value` fields of a sched_* / signal_* event (values never contain spaces there, except comm handled by position). */
export function fieldsOf(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  const re = /([a-z_]+)=(\S*)/g;
  for (let m = re.exec(text); m; m = re.exec(text)) out[m[1]] = m[2];
  return out;
}
