// Profile loaders: JSON (both shapes), InstLatx64 text, `cpuid -r`, host, built-ins, and their errors.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { InputError } from '../src/arch/errors.js';
import { computeLayout } from '../src/arch/layout.js';
import { builtinProfile, builtinProfiles } from '../src/arch/profiles/builtin.js';
import { hostProfile, loadProfile, loadProfiles, profileFromFile } from '../src/arch/profiles/index.js';
import { repoPath } from './helpers/paths.js';

const SPR_JSON = repoPath('data/cpuid/GenuineIntel00806F8_SapphireRapids_05_CPUID.json');
const SPR_TXT = repoPath('test/fixtures/profiles/GenuineIntel00806F8_SapphireRapids_05_CPUID.head.txt');
const CPUID_R = repoPath('test/fixtures/profiles/xeon-vm-cpuid-r.txt');

function inputError(f: () => unknown, re: RegExp): void {
  assert.throws(f, (e: unknown) => e instanceof InputError && re.test(e.line()), `expected an InputError matching ${re}`);
}

test('InstLatx64 text and its JSON conversion give the same profile (logical CPU #0 only)', () => {
  const a = profileFromFile(SPR_JSON);
  const b = profileFromFile(SPR_TXT);
  assert.equal(b.source.kind, 'instlat');
  assert.deepEqual(b.leaves, a.leaves);
  assert.equal(b.brand, 'Intel(R) Xeon(R) w7-2475X');
  assert.deepEqual(computeLayout(b), { ...computeLayout(a), cpu: b.id });
});

test('`cpuid -r` output: the first CPU, decoded features, layout equal to the CPUID sizes', () => {
  const p = profileFromFile(CPUID_R);
  assert.equal(p.source.kind, 'cpuid-raw');
  assert.equal(p.vendor, 'GenuineIntel');
  assert.ok(p.features.amxTile && p.features.xfd && p.features.avx512f);
  const l = computeLayout(p, 0x600e7n, 0n);
  assert.equal(l.standardSize, p.dumpSizes.leaf0Ebx);
  assert.equal(l.xsavecSize, 10688); // what this machine's Linux 6.18 printed: "context size is 10688 bytes"
});

test('built-in profiles: at least 10, each from a real dump it names', () => {
  const list = builtinProfiles();
  assert.ok(list.length >= 10);
  for (const name of ['skylake-client', 'skylake-sp', 'icelake-client', 'alder-lake', 'sapphire-rapids', 'granite-rapids', 'zen2', 'zen3', 'zen4', 'zen5']) {
    const p = builtinProfile(name);
    assert.ok(p, name);
    assert.equal(p.id, name);
    assert.equal(p.source.kind, 'builtin');
    assert.ok(p.source.file?.startsWith('data/'), `${name} records its source dump`);
  }
  assert.ok(builtinProfile('sapphire-rapids')!.features.amxTile);
  assert.ok(builtinProfile('zen4')!.features.avx512f);
  assert.ok(!builtinProfile('zen3')!.features.avx512f);
  assert.equal(builtinProfile('zen2')!.vendor, 'AuthenticAMD');
});

test('host: read for real, or an InputError saying why not', (t) => {
  let p;
  try {
    p = hostProfile();
  } catch (e) {
    assert.ok(e instanceof InputError);
    t.skip(`host CPUID not readable here: ${e.line()}`);
    return;
  }
  assert.equal(p.id, 'host');
  assert.equal(p.source.kind, 'host');
  assert.ok(p.features.xsave);
  const cpuinfo = readFileSync('/proc/cpuinfo', 'utf8');
  assert.equal(p.features.avx512f, /\bavx512f\b/.test(cpuinfo), 'AVX-512F as /proc/cpuinfo says');
  assert.equal(p.features.amxTile, /\bamx_tile\b/.test(cpuinfo), 'AMX as /proc/cpuinfo says');
});

test('a directory of profiles loads every file, sorted', () => {
  const dir = mkdtempSync(join(tmpdir(), 'switchlab-profiles-'));
  try {
    writeFileSync(join(dir, 'b.json'), readFileSync(SPR_JSON));
    writeFileSync(join(dir, 'a.txt'), readFileSync(SPR_TXT));
    const ps = loadProfiles([dir]);
    assert.deepEqual(ps.map((p) => p.id), ['a', 'GenuineIntel00806F8_SapphireRapids_05_CPUID']);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('bad profile input: one line naming the file (and line or field)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'switchlab-bad-'));
  const w = (name: string, text: string): string => {
    writeFileSync(join(dir, name), text);
    return join(dir, name);
  };
  try {
    inputError(() => loadProfile('no-such-cpu'), /--cpu no-such-cpu: unknown profile/);
    inputError(() => profileFromFile(w('trunc.json', readFileSync(SPR_JSON, 'utf8').slice(0, 300))), /trunc\.json: not valid JSON/);
    inputError(() => profileFromFile(w('noleaves.json', '{"id": "x"}')), /noleaves\.json: no "leaves"/);
    inputError(() => profileFromFile(w('badleaf.json', '{"leaves": {"0x0.0": [1, 2, 3]}}')), /badleaf\.json: "leaves\.0x0\.0": expected four/);
    inputError(() => profileFromFile(w('badkey.json', '{"leaves": {"zero": [1, 2, 3, 4]}}')), /"leaves\.zero": not a CPUID leaf key/);
    inputError(() => profileFromFile(w('noleaf1.json', '{"leaves": {"0x0.0": [13, 0, 0, 0]}}')), /noleaf1\.json: CPUID leaf 0x1 is missing/);
    const text = readFileSync(SPR_TXT, 'utf8').split('\n');
    text[8] = 'CPUID 00000004: FC0041-garbage';
    inputError(() => profileFromFile(w('bad.txt', text.join('\n'))), /bad\.txt:9: malformed CPUID line/);
    const noD = readFileSync(SPR_TXT, 'utf8').split('\n').filter((l) => !l.startsWith('CPUID 0000000D')).join('\n');
    inputError(() => profileFromFile(w('nod.txt', noD)), /nod\.txt: CPUID leaf 0xD sub-leaf 0 is missing/);
    const noXsave = readFileSync(SPR_TXT, 'utf8').replace('CPUID 00000001: 000806F8-00800800-7FFEFBFF', 'CPUID 00000001: 000806F8-00800800-73FEFBFF');
    inputError(() => profileFromFile(w('noxsave.txt', noXsave)), /noxsave\.txt: this CPU has no XSAVE/);
    inputError(() => profileFromFile(w('empty.txt', '')), /empty\.txt: empty file/);
    inputError(() => profileFromFile(w('prose.txt', 'hello\nworld\n')), /prose\.txt: not a CPUID profile/);
    inputError(() => profileFromFile(join(dir, 'missing.json')), /missing\.json: cannot read file/);
    inputError(() => loadProfiles([w('empty-dir-file.md', 'x')].map(() => mkdtempSync(join(dir, 'd-')))), /directory holds no profile files/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
