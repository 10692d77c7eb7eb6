// Corpus: every real CPUID dump shipped in data/cpuid (242 CPUs, from InstLatx64) loads, its layouts
// obey the SDM rules, and the dump's own CPUID 0xD sizes are what our emulation computes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { compactedOffset, compactedSize, computeLayout, standardSize, xcr0Problem } from '../src/arch/layout.js';
import { bitsOf, hiOf, loOf } from '../src/arch/mask.js';
import { CpuProfile } from '../src/arch/profile.js';
import { profileFromJson } from '../src/arch/profiles/json.js';
import { repoPath } from './helpers/paths.js';

const DIR = repoPath('data/cpuid');
const files = readdirSync(DIR).filter((f) => f.endsWith('.json')).sort();
const profiles: CpuProfile[] = files.map((f) => profileFromJson(readFileSync(`${DIR}/${f}`, 'utf8'), `data/cpuid/${f}`, f));

/** Every valid XCR0 made of x87|SSE and a subset of the CPU's other user features. */
function validXcr0s(p: CpuProfile): bigint[] {
  const extra = bitsOf(p.xcr0Supported).filter((i) => i >= 2);
  const out: bigint[] = [];
  for (let m = 0; m < 1 << extra.length; m++) {
    let x = 3n;
    extra.forEach((b, k) => {
      if ((m >> k) & 1) x |= 1n << BigInt(b);
    });
    if (!xcr0Problem(p, x)) out.push(x);
  }
  return out;
}

test('corpus: all 242 dumps load as profiles', () => {
  assert.equal(files.length, 242);
  assert.equal(profiles.length, 242);
  const amd = profiles.filter((p) => p.vendor === 'AuthenticAMD').length;
  const intel = profiles.filter((p) => p.vendor === 'GenuineIntel').length;
  console.log(`# corpus: ${profiles.length} profiles (${intel} Intel, ${amd} AMD), ${profiles.filter((p) => p.warnings.length).length} with loader warnings`);
  assert.ok(amd > 50 && intel > 50);
});

test('corpus: layouts obey SDM 13.4 for the full XCR0 | IA32_XSS of every CPU', () => {
  let checked = 0;
  for (const p of profiles) {
    const l = computeLayout(p);
    // Standard format: extended components start at 576 or later and never overlap.
    const std = l.components.filter((c) => c.standardOffset !== null).sort((a, b) => a.standardOffset! - b.standardOffset!);
    for (let k = 0; k < std.length; k++) {
      assert.ok(std[k].standardOffset! >= 576, `${p.id}: component ${std[k].index} below the header`);
      if (k > 0) assert.ok(std[k - 1].standardOffset! + std[k - 1].size <= std[k].standardOffset!, `${p.id}: ${std[k - 1].index} overlaps ${std[k].index}`);
      assert.ok(std[k].standardOffset! + std[k].size <= l.standardSize, `${p.id}: ${std[k].index} past the standard size`);
    }
    // Compacted format: ascending component order, each right after the previous, rounded up to 64 where ECX[1].
    for (const [key, size] of [['xsavesOffset', l.xsavesSize], ['xsavecOffset', l.xsavecSize]] as const) {
      let end = 576;
      for (const c of l.components) {
        const off = c[key];
        if (off === null) continue;
        const want = c.align64 ? (end + 63) & ~63 : end;
        assert.equal(off, want, `${p.id}: ${key} of component ${c.index}`);
        end = off + c.size;
      }
      assert.equal(size, end, `${p.id}: compacted size for ${key}`);
    }
    checked++;
  }
  assert.equal(checked, 242);
});

test("corpus: CPUID 0xD.0 ECX (size for every supported feature) equals the model's standard size", () => {
  const off: string[] = [];
  for (const p of profiles) {
    const all = p.xcr0Supported;
    const model = standardSize(p, loOf(all), hiOf(all));
    if (model !== p.dumpSizes.leaf0Ecx) off.push(`${p.id}: model ${model}, dump ${p.dumpSizes.leaf0Ecx}`);
  }
  console.log(`# corpus: 0xD.0 ECX reproduced on ${profiles.length - off.length}/${profiles.length} dumps`);
  assert.deepEqual(off, []);
});

test("corpus: each dump's 0xD.0 EBX and 0xD.1 EBX are reproduced by the emulation for some XCR0 / IA32_XSS", () => {
  let ebx0 = 0;
  let ebx1 = 0;
  let ebx1Total = 0;
  const misses: string[] = [];
  for (const p of profiles) {
    const cands = validXcr0s(p).filter((x) => standardSize(p, loOf(x), hiOf(x)) === p.dumpSizes.leaf0Ebx);
    if (cands.length) ebx0++;
    else misses.push(`${p.id}: 0xD.0 EBX ${p.dumpSizes.leaf0Ebx}`);
    if (p.dumpSizes.leaf1Ebx === null || !p.features.xsaves) continue;
    ebx1Total++;
    const sup = bitsOf(p.xssSupported);
    let ok = false;
    for (const x of cands) {
      for (let m = 0; m < 1 << sup.length && !ok; m++) {
        let all = x;
        sup.forEach((b, k) => {
          if ((m >> k) & 1) all |= 1n << BigInt(b);
        });
        if (compactedSize(p, loOf(all), hiOf(all)) === p.dumpSizes.leaf1Ebx) ok = true;
      }
      if (ok) break;
    }
    if (ok) ebx1++;
    else misses.push(`${p.id}: 0xD.1 EBX ${p.dumpSizes.leaf1Ebx}`);
  }
  console.log(`# corpus: 0xD.0 EBX reproduced on ${ebx0}/${profiles.length}; 0xD.1 EBX on ${ebx1}/${ebx1Total} XSAVES-capable dumps`);
  assert.deepEqual(misses, []);
});

test('corpus: compacted offsets from the per-component walk equal the layout table (random masks)', () => {
  for (const p of profiles.filter((_, k) => k % 7 === 0)) {
    const all = p.xcr0Supported | p.xssSupported;
    const bits = bitsOf(all).filter((i) => i >= 2);
    for (let s = 1; s < 40; s++) {
      let m = 3n;
      for (const b of bits) if (((s * 2654435761) >>> (b % 29)) & 1) m |= 1n << BigInt(b);
      let end = 576;
      for (const b of bits) {
        const off = compactedOffset(p, loOf(m), hiOf(m), b);
        if (!((m >> BigInt(b)) & 1n)) {
          assert.equal(off, -1);
          continue;
        }
        const c = p.components.find((x) => x.index === b)!;
        const want = c.align64 ? (end + 63) & ~63 : end;
        assert.equal(off, want);
        end = want + c.size;
      }
    }
  }
});
