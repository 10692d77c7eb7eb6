/**
 * A binary min-heap of timed events kept in parallel typed arrays (no object per event): ordered by
 * time, then by insertion order (deterministic ties), like MinHeap. Each event carries three small
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
    const ts = new Float64Array(c);
    ts.set(this.ts);
    this.ts = ts;
    const seqs = new Float64Array(c);
    seqs.set(this.seqs);
    this.seqs = seqs;
    const kinds = new Int32Array(c);
    kinds.set(this.kinds);
    this.kinds = kinds;
    const ids = new Int32Array(c);
    ids.set(this.ids);
    this.ids = ids;
    const gens = new Int32Array(c);
    gens.set(this.gens);
    this.gens = gens;
  }

  push(t: number, kind: number, id: number, gen: number): void {
    if (this.n === this.ts.length) this.grow();
    const ts = this.ts;
    const seqs = this.seqs;
    const kinds = this.kinds;
    const ids = this.ids;
    const gens = this.gens;
    const seq = this.nextSeq++;
    // Sift up: move parents down into the hole until the new event's place is found.
    let i = this.n++;
    while (i > 0) {
      const p = (i - 1) >> 1;
      const pt = ts[p];
      if (!(t < pt || (t === pt && seq < seqs[p]))) break;
      ts[i] = pt;
      seqs[i] = seqs[p];
      kinds[i] = kinds[p];
      ids[i] = ids[p];
      gens[i] = gens[p];
      i = p;
    }
    ts[i] = t;
    seqs[i] = seq;
    kinds[i] = kind;
    ids[i] = id;
    gens[i] = gen;
  }

  /** Removes the earliest event into (t, kind, id, gen); false when the queue is empty. */
  pop(): boolean {
    if (this.n === 0) return false;
    const ts = this.ts;
    const seqs = this.seqs;
    const kinds = this.kinds;
    const ids = this.ids;
    const gens = this.gens;
    this.t = ts[0];
    this.kind = kinds[0];
    this.id = ids[0];
    this.gen = gens[0];
    const n = --this.n;
    if (n === 0) return true;
    // Sift the last event down from the root.
    const t = ts[n];
    const seq = seqs[n];
    const kind = kinds[n];
    const id = ids[n];
    const gen = gens[n];
    let i = 0;
    for (;;) {
      const l = 2 * i + 1;
      if (l >= n) break;
      let m = l;
      const r = l + 1;
      if (r < n && (ts[r] < ts[l] || (ts[r] === ts[l] && seqs[r] < seqs[l]))) m = r;
      const mt = ts[m];
      if (!(mt < t || (mt === t && seqs[m] < seq))) break;
      ts[i] = mt;
      seqs[i] = seqs[m];
      kinds[i] = kinds[m];
      ids[i] = ids[m];
      gens[i] = gens[m];
      i = m;
    }
    ts[i] = t;
    seqs[i] = seq;
    kinds[i] = kind;
    ids[i] = id;
    gens[i] = gen;
    return true;
  }
}
