/**
 * Cloning, canonical hashing and serializing a kernel state (the checker explores millions of them;
 * every counterexample must be replayable from a file). The value pool of the environment is
 * append-only and tokens name byte images canonically, so states that share an environment can be
 * compared by their tokens.
 */
import { cloneArea, XsaveArea } from '../arch/xsave/area.js';
import { cloneXState, XState } from '../arch/xsave/state.js';
import { Cpu, FpState, Fpu, KState, MmState, Task } from './state.js';

function cloneFpstate(f: FpState): FpState {
  return { ...f, area: cloneArea(f.area) };
}

function cloneFpu(f: Fpu): Fpu {
  const embedded = cloneFpstate(f.embedded);
  const map = (x: FpState | null): FpState | null => (x === null ? null : x === f.embedded ? embedded : cloneFpstate(x));
  return { ...f, embedded, fpstate: map(f.fpstate)!, taskFpstate: map(f.taskFpstate) };
}

function cloneTask(t: Task): Task {
  const fpu = cloneFpu(t.fpu);
  // The guest fpstate is the active one while in KVM_RUN: keep that identity.
  const vcpu = t.vcpu && { ...t.vcpu, fpstate: t.vcpu.fpstate === t.fpu.fpstate ? fpu.fpstate : cloneFpstate(t.vcpu.fpstate) };
  if (t.fpu.taskFpstate === t.fpu.embedded) fpu.taskFpstate = fpu.embedded;
  return { ...t, fpu, vcpu, pending: t.pending.slice(), frames: t.frames.map((fr) => ({ sig: fr.sig, area: cloneArea(fr.area) })) };
}

function cloneCpu(c: Cpu): Cpu {
  return { ...c, xs: cloneXState(c.xs), rq: c.rq.slice() };
}

/** A deep copy that shares nothing mutable with `st`. */
export function cloneState(st: KState): KState {
  const tasks = new Map<number, Task>();
  for (const [pid, t] of st.tasks) tasks.set(pid, cloneTask(t));
  const mms = new Map<number, MmState>();
  for (const [id, m] of st.mms) mms.set(id, { ...m, cpumask: m.cpumask.slice() });
  const xbuf = { percpu: st.xbuf.percpu.map(cloneArea), cache: st.xbuf.cache.map(cloneFpstate), lazyFreedPages: st.xbuf.lazyFreedPages };
  return { ...st, cpus: st.cpus.map(cloneCpu), tasks, counters: { ...st.counters }, mms, xbuf };
}

/** Two independent 32-bit multiply-xorshift streams over 32-bit words: a 64-bit digest. */
class Hasher {
  private a = 0x811c9dc5;
  private b = 0x050c5d1f;
  word(v: number): void {
    let a = Math.imul(this.a ^ v, 0x01000193);
    this.a = (a ^ (a >>> 15)) >>> 0;
    a = Math.imul(this.b ^ (v + 0x9e3779b9), 0x85ebca6b);
    this.b = (a ^ (a >>> 13)) >>> 0;
  }
  str(s: string): void {
    this.word(s.length);
    for (let i = 0; i < s.length; i++) this.word(s.charCodeAt(i));
  }
  bool(b: boolean): void {
    this.word(b ? 1 : 0);
  }
  bytes(b: Uint8Array): void {
    this.word(b.length);
    const n = b.length >>> 2;
    if ((b.byteOffset & 3) === 0) {
      const w = new Int32Array(b.buffer, b.byteOffset, n);
      for (let i = 0; i < n; i++) this.word(w[i]);
    } else for (let i = 0; i < n * 4; i += 4) this.word(b[i] | (b[i + 1] << 8) | (b[i + 2] << 16) | (b[i + 3] << 24));
    for (let i = n * 4; i < b.length; i++) this.word(b[i]);
  }
  hex(): string {
    return this.a.toString(16).padStart(8, '0') + this.b.toString(16).padStart(8, '0');
  }
}

function hashXState(h: Hasher, s: XState): void {
  const keys = Object.keys(s).sort() as (keyof XState)[];
  for (const k of keys) {
    const v = s[k];
    if (k === 'tok') for (let i = 0; i < 64; i++) h.word((v as Int32Array)[i]);
    else if (typeof v === 'boolean') h.bool(v);
    else h.word(v as number);
  }
}

function hashArea(h: Hasher, a: XsaveArea): void {
  h.word(a.address);
  h.bytes(a.bytes);
}

function hashFpstate(h: Hasher, f: FpState): void {
  h.word(f.id);
  hashArea(h, f.area);
  for (const v of [f.size, f.userSize, f.xfeaturesLo, f.xfeaturesHi, f.userXfeaturesLo, f.userXfeaturesHi, f.xfdLo, f.xfdHi]) h.word(v);
  h.bool(f.isValloc);
  h.bool(f.isGuest);
}

/**
 * A canonical hash of the architecturally and kernel-visible state: equal states hash equal whatever
 * the order tasks were created in or the contents of the areas' slot caches (a cache, not state).
 * Model time and counters are excluded (they are statistics, not state).
 */
export function hashState(st: KState, withTime = false): string {
  const h = new Hasher();
  if (withTime) h.word(st.now);
  h.word(st.entropyBuf);
  for (const c of st.cpus) {
    for (const v of [c.id, c.curr, c.idle, c.owner, c.softirq, c.hardirq, c.preempt, c.xfdCacheLo, c.xfdCacheHi, c.pkru, c.mm]) h.word(v);
    h.bool(c.inKernelFpu);
    h.bool(c.fpuActive);
    h.bool(c.preload);
    h.bool(c.fpregsLocked);
    hashXState(h, c.xs);
    h.word(c.rq.length);
    for (const p of c.rq) h.word(p);
  }
  for (const id of [...st.mms.keys()].sort((a, b) => a - b)) {
    const m = st.mms.get(id)!;
    for (const v of [m.id, m.pasid, m.users, m.cpumask.length, ...m.cpumask]) h.word(v);
  }
  h.word(st.xbuf.lazyFreedPages);
  h.word(st.xbuf.cache.length);
  for (const f of st.xbuf.cache) hashFpstate(h, f);
  // Per-CPU buffers are created on a CPU's first use: the array may have holes.
  h.word(st.xbuf.percpu.length);
  for (let c = 0; c < st.xbuf.percpu.length; c++) {
    const a = st.xbuf.percpu[c] as XsaveArea | undefined;
    h.bool(a !== undefined);
    if (a) hashArea(h, a);
  }
  const pids = [...st.tasks.keys()].sort((a, b) => a - b);
  for (const pid of pids) {
    const t = st.tasks.get(pid)!;
    h.word(pid);
    h.word(t.tgid);
    h.str(t.comm);
    h.str(t.kind);
    h.str(t.run);
    for (const v of [t.cpu, t.tif, t.pkru, t.mm, t.parent]) h.word(v);
    h.bool(t.inUser);
    h.bool(t.traced);
    h.bool(t.pasidActivated);
    h.word(t.altstackSize);
    const f = t.fpu;
    for (const v of [f.id, f.lastCpu, f.permLo, f.permHi, f.guestPermLo, f.guestPermHi, f.counter]) h.word(v);
    h.bool(f.fpstateActive);
    h.bool(f.fpregsActive);
    hashFpstate(h, f.embedded);
    h.bool(f.fpstate === f.embedded);
    if (f.fpstate !== f.embedded) hashFpstate(h, f.fpstate);
    h.word(t.pending.length);
    for (const s of t.pending) h.word(s);
    h.bool(t.vcpu !== null);
    if (t.vcpu) {
      h.bool(t.vcpu.inRun);
      h.bool(t.vcpu.inGuest);
      h.bool(t.vcpu.loaded);
      hashFpstate(h, t.vcpu.fpstate);
    }
    h.word(t.frames.length);
    for (const fr of t.frames) {
      h.word(fr.sig);
      hashArea(h, fr.area);
    }
  }
  return h.hex();
}

const b64 = (b: Uint8Array): string => Buffer.from(b).toString('base64');

/** A JSON-safe rendering of a state (typed arrays as base64), for counterexample files and the web app. */
export function serializeState(st: KState): unknown {
  return JSON.parse(
    JSON.stringify(st, (_k, v: unknown) => {
      if (v instanceof Map) return { $map: [...(v as Map<unknown, unknown>).entries()] };
      if (v instanceof Uint8Array) return { $u8: b64(v) };
      if (v instanceof Int32Array) return { $i32: Array.from(v) };
      return v;
    }),
  );
}

/** The inverse of serializeState. */
export function deserializeState(j: unknown): KState {
  const st = JSON.parse(JSON.stringify(j), (_k, v: unknown) => {
    if (v && typeof v === 'object') {
      const o = v as Record<string, unknown>;
      if ('$map' in o) return new Map(o.$map as [unknown, unknown][]);
      if ('$u8' in o) return new Uint8Array(Buffer.from(o.$u8 as string, 'base64'));
      if ('$i32' in o) return Int32Array.from(o.$i32 as number[]);
    }
    return v;
  }) as KState;
  // The active fpstate is usually the embedded one: restore that identity.
  for (const t of st.tasks.values()) if (t.fpu.fpstate.id === t.fpu.embedded.id) t.fpu.fpstate = t.fpu.embedded;
  return st;
}
