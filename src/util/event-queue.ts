/**
 * A binary min-heap of timed events kept in parallel typed arrays (no object per event): ordered by
 * time, then by insertion order (deterministic ties). Each event carries three small
 * integers (a kind, an id and a generation). `pop` leaves the event it removed in the `t`, `kind`,
 * `id` and `gen` fields.
 */
export class EventQueue {
  private ts: Float64Array;
  private seqs: Float64Array;
  private kinds: Int32Array;
  private ids: Int32Array;
  private gens: Int32Array;
  private n = 0;
  private nextSeq = 0;
  /** The event the last successful `pop` removed. */
  t = 0;
  kind = 0;
  id = 0;
  gen = 0;

  constructor(capacity = 1024) {
    const c = Math.max(16, capacity);
    this.ts = new Float64Array(c);
    this.seqs = new Float64Array(c);
    this.kinds = new Int32Array(c);
    this.ids = new Int32Array(c);
    this.gens = new Int32Array(c);
  }

  get size(): number {
    return this.n;
  }

  private grow(): void {
    const c = this.ts.length * 2;
    this.ts = enlarged(this.ts, c);
    this.seqs = enlarged(this.seqs, c);
    this.kinds = enlarged(this.kinds, c);
    this.ids = enlarged(this.ids, c);
    this.gens = enlarged(this.gens, c);
  }

  /** Slot i gets slot j's event. */
  private copySlot(i: number, j: number): void {
    this.ts[i] = this.ts[j];
    this.seqs[i] = this.seqs[j];
    this.kinds[i] = this.kinds[j];
    this.ids[i] = this.ids[j];
    this.gens[i] = this.gens[j];
  }

  private setSlot(i: number, t: number, seq: number, kind: number, id: number, gen: number): void {
    this.ts[i] = t;
    this.seqs[i] = seq;
    this.kinds[i] = kind;
    this.ids[i] = id;
    this.gens[i] = gen;
  }

  push(t: number, kind: number, id: number, gen: number): void {
    if (this.n === this.ts.length) this.grow();
    const ts = this.ts;
    const seqs = this.seqs;
    const seq = this.nextSeq++;
    // Sift up: move parents down into the hole until the new event's place is found.
    let i = this.n++;
    while (i > 0) {
      const p = (i - 1) >> 1;
      const pt = ts[p];
      if (!(t < pt || (t === pt && seq < seqs[p]))) break;
      this.copySlot(i, p);
      i = p;
    }
    this.setSlot(i, t, seq, kind, id, gen);
  }

  /** Removes the earliest event into (t, kind, id, gen); false when the queue is empty. */
  pop(): boolean {
    if (this.n === 0) return false;
    const ts = this.ts;
    const seqs = this.seqs;
    this.t = ts[0];
    this.kind = this.kinds[0];
    this.id = this.ids[0];
    this.gen = this.gens[0];
    const n = --this.n;
    if (n === 0) return true;
    // Sift the last event down from the root.
    const t = ts[n];
    const seq = seqs[n];
    const kind = this.kinds[n];
    const id = this.ids[n];
    const gen = this.gens[n];
    let i = 0;
    for (;;) {
      const l = 2 * i + 1;
      if (l >= n) break;
      let m = l;
      const r = l + 1;
      if (r < n && (ts[r] < ts[l] || (ts[r] === ts[l] && seqs[r] < seqs[l]))) m = r;
      const mt = ts[m];
      if (!(mt < t || (mt === t && seqs[m] < seq))) break;
      this.copySlot(i, m);
      i = m;
    }
    this.setSlot(i, t, seq, kind, id, gen);
    return true;
  }
}

/** A copy of `a` with room for `c` entries. */
function enlarged<T extends Float64Array | Int32Array>(a: T, c: number): T {
  const b = new (a.constructor as new (n: number) => T)(c);
  b.set(a);
  return b;
}
