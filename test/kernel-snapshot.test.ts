/**
 * The state store (src/kernel/snapshot.ts) against plain deep copies: whatever state a run reaches —
 * AMX buffers grown, signal frames, forks — storing it and copying it back gives the same state
 * (canonical hash and full serialization), also when a copy outgrows the store's scratch buffer.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { builtinProfile } from '../src/arch/profiles/builtin.js';
import type { XsaveArea } from '../src/arch/xsave/area.js';
import { CheckConfig, Explorer } from '../src/check/explore.js';
import { cloneState, hashState, serializeState } from '../src/kernel/snapshot.js';
import { deferred } from '../src/policies/fpu/deferred.js';
import { xbufDesign } from '../src/policies/xbuf/index.js';

const spr = builtinProfile('sapphire-rapids')!;
const cfg: CheckConfig = {
  cpus: 2,
  tasks: 6,
  children: 2,
  depth: 64,
  comps: [1, 18],
  moves: ['write', 'syscall', 'return', 'switch', 'fork', 'exec', 'signal', 'sigreturn', 'kfpu-softirq'],
  maxStates: 1_000_000,
};

/** The serialized state with every object's keys sorted (a copy need not keep the field order of a fresh object). */
const sorted = (v: unknown): unknown =>
  Array.isArray(v) ? v.map(sorted) : v !== null && typeof v === 'object' ? Object.fromEntries(Object.keys(v).sort().map((k) => [k, sorted((v as Record<string, unknown>)[k])])) : v;
const image = (x: Explorer): string => JSON.stringify(sorted(serializeState(x.k.st)));

test('store and copy back: a stored state thaws to exactly the state it was (AMX buffers, frames, forks; copies past the 64 KiB scratch buffer)', () => {
  let biggest = 0;
  fc.assert(
    fc.property(fc.array(fc.nat(), { minLength: 1, maxLength: 200 }), (choices) => {
      const x = new Explorer(spr, { policy: deferred, designs: { xbuf: xbufDesign('vmalloc') } }, cfg);
      let parent = x.snapshot(null, null, 0);
      x.restore(parent);
      for (const c of choices) {
        const moves = x.enabled();
        if (moves.length === 0 || x.move(moves[c % moves.length])) break;
        const hash = hashState(x.k.st);
        const before = image(x);
        const deep = cloneState(x.k.st);
        // Store it (the node takes the working state over), then work on a copy of it.
        parent = x.snapshot(parent, moves[c % moves.length], 0);
        x.restore(parent);
        assert.equal(hashState(x.k.st), hash);
        assert.equal(image(x), before);
        assert.equal(hashState(deep), hash);
        // What a copy takes from the scratch buffer: every area's bytes and slot cache, every CPU's tokens.
        let bytes = 0;
        const areas = new Set<XsaveArea>();
        for (const t of x.k.st.tasks.values()) {
          areas.add(t.fpu.fpstate.area).add(t.fpu.embedded.area);
          for (const f of t.frames) areas.add(f.area);
        }
        for (const a of areas) bytes += a.bytes.length + 4 * a.slots.length;
        for (const u of x.k.st.cpus) bytes += 4 * u.xs.tok.length;
        biggest = Math.max(biggest, bytes);
      }
    }),
    { numRuns: 40, seed: 7 },
  );
  assert.ok(biggest > 1 << 16, `some state's copy takes more than 64 KiB (largest ${biggest} bytes)`);
});
