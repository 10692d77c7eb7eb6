// Boot lines of Linux's FPU init against real boot logs. Each expected block below is a verbatim copy
// (timestamps removed) of a published boot log; the CPU is an InstLatx64 CPUID dump of the same
// model or a CPU with the same XSAVE enumeration, noted per case.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { atMinSigStkSz } from '../src/kernel/fpu/sigframe.js';
import { bootLines, sigframeBootLine, xfeatureNames } from '../src/kernel/fpu/bootlog.js';
import { dumpProfile, hostFixture, withCpuid } from './fixtures/kernel/load.js';

const SKYLAKE = 'GenuineIntel00406E3_Skylake_CPUID'; // i7-6500U: XCR0 0x1f, XSAVES, MPX
const HASWELL = 'GenuineIntel00306C3_Haswell_CPUID'; // XCR0 0x7, XSAVEOPT, no XSAVES
const SPR = 'GenuineIntel00806F8_SapphireRapids_05_CPUID';
const MILAN = 'AuthenticAMD0A00F11_K19_Milan_CPUID1'; // Zen 3: PKU, SHSTK, XSAVES
const MATISSE = 'AuthenticAMD0870F10_K17_Matisse_CPUID'; // Zen 2: XCR0 bit 9 enumerated, no PKU

const feat = (digits: 2 | 3, bits: Array<[number, string]>) =>
  bits.map(([b, name]) => `x86/fpu: Supporting XSAVE feature 0x${(2 ** b).toString(16).padStart(digits, '0')}: '${name}'`);
const BASE: Array<[number, string]> = [
  [0, 'x87 floating point registers'],
  [1, 'SSE registers'],
  [2, 'AVX registers'],
];
const MPX: Array<[number, string]> = [
  [3, 'MPX bounds registers'],
  [4, 'MPX CSR'],
];

test('Zen 4 VM, Linux 6.18: exactly the recorded dmesg (shared host file)', () => {
  const { profile, host } = hostFixture('amd-zen4-vm-linux-6.18.json');
  assert.deepEqual(bootLines(profile, '6.18'), host.dmesg_x86_fpu);
  assert.deepEqual(bootLines(profile, host.kernel), host.dmesg_x86_fpu);
  assert.equal(sigframeBootLine(profile, '6.18'), 'signal: max sigframe size: 3376');
});

for (const name of ['amd-zen3-vm-linux-6.18.json', 'intel-xeon-amx-vm-linux-6.18.json']) {
  test(`${name}: exactly the dmesg and AT_MINSIGSTKSZ captured on that machine`, () => {
    const { profile, host } = hostFixture(name);
    assert.deepEqual(bootLines(profile, host.kernel), host.dmesg_x86_fpu);
    assert.deepEqual([sigframeBootLine(profile, host.kernel)], host.dmesg_signal);
    assert.equal(atMinSigStkSz(profile, host.kernel), host.at_minsigstksz);
  });
}

test('Skylake, 4.2: hex offsets before the features, hex size, no XSAVES, eager', () => {
  // Ubuntu 4.2.0-16-generic (4.2.3) on a Skylake laptop, dmesg posted to a public Q&A thread.
  assert.deepEqual(bootLines(dumpProfile(SKYLAKE), '4.2.3'), [
    'x86/fpu: xstate_offset[2]: 0240, xstate_sizes[2]: 0100',
    'x86/fpu: xstate_offset[3]: 03c0, xstate_sizes[3]: 0040',
    'x86/fpu: xstate_offset[4]: 0400, xstate_sizes[4]: 0040',
    ...feat(2, [...BASE, ...MPX]),
    "x86/fpu: Enabled xstate features 0x1f, context size is 0x440 bytes, using 'standard' format.",
    "x86/fpu: Using 'eager' FPU context switches.",
  ]);
});

test('Haswell, 4.3: hex era, XCR0 0x7', () => {
  // 4.3.0 (scaleos) server boot log quoted in a mailing-list post.
  assert.deepEqual(bootLines(dumpProfile(HASWELL), '4.3'), [
    'x86/fpu: xstate_offset[2]: 0240, xstate_sizes[2]: 0100',
    ...feat(2, BASE),
    "x86/fpu: Enabled xstate features 0x7, context size is 0x340 bytes, using 'standard' format.",
    "x86/fpu: Using 'eager' FPU context switches.",
  ]);
});

test('Skylake i7-6500U, 4.5: decimal offsets still before the features, XSAVES still off', () => {
  // 4.5.0-040500-generic (Ubuntu mainline build) on a Dell Inspiron 5457 (i7-6500U), public forum post.
  assert.deepEqual(bootLines(dumpProfile(SKYLAKE), '4.5'), [
    'x86/fpu: xstate_offset[2]:  576, xstate_sizes[2]:  256',
    'x86/fpu: xstate_offset[3]:  960, xstate_sizes[3]:   64',
    'x86/fpu: xstate_offset[4]: 1024, xstate_sizes[4]:   64',
    ...feat(2, [...BASE, ...MPX]),
    "x86/fpu: Enabled xstate features 0x1f, context size is 1088 bytes, using 'standard' format.",
    "x86/fpu: Using 'eager' FPU context switches.",
  ]);
});

test('Haswell-class, 4.8 and 4.9: features first, then offsets, and the eager line', () => {
  // Ubuntu 4.8.0-32-generic and Debian 4.9.0-5-amd64 (4.9.65) boot logs with XCR0 0x7, public posts.
  const expected = [
    ...feat(3, BASE),
    'x86/fpu: xstate_offset[2]:  576, xstate_sizes[2]:  256',
    "x86/fpu: Enabled xstate features 0x7, context size is 832 bytes, using 'standard' format.",
    "x86/fpu: Using 'eager' FPU context switches.",
  ];
  assert.deepEqual(bootLines(dumpProfile(HASWELL), '4.8.11'), expected);
  assert.deepEqual(bootLines(dumpProfile(HASWELL), '4.9.65'), expected);
});

test('Skylake, 4.10 to 5.18: compacted offsets, no eager line; sigframe line from 5.14', () => {
  // Ubuntu 4.10.0-38 (4.10.17), Ubuntu 4.13.0-36 (4.13.13), and a 5.17.0-12897 (5.18 merge
  // window) build posted to LKML with "signal: max sigframe size: 2032", all on Skylake/Kaby Lake clients.
  const expected = [
    ...feat(3, [...BASE, ...MPX]),
    'x86/fpu: xstate_offset[2]:  576, xstate_sizes[2]:  256',
    'x86/fpu: xstate_offset[3]:  832, xstate_sizes[3]:   64',
    'x86/fpu: xstate_offset[4]:  896, xstate_sizes[4]:   64',
    "x86/fpu: Enabled xstate features 0x1f, context size is 960 bytes, using 'compacted' format.",
  ];
  const p = dumpProfile(SKYLAKE);
  for (const v of ['4.10.17', '4.13.13', '5.18']) assert.deepEqual(bootLines(p, v), expected, v);
  assert.equal(sigframeBootLine(p, '4.13'), null);
  assert.equal(sigframeBootLine(p, '5.18'), 'signal: max sigframe size: 2032');
});

test('Sapphire Rapids, 5.18: PASID and AMX, AMX TILE_DATA inside the printed context size', () => {
  // Chang S. Bae, LKML 2022-03-28, "Re: [patch 0/7] x86/fpu: Cure supervisor mode (ENQCMD) fallout",
  // host dmesg of an AMX + PASID machine.
  assert.deepEqual(bootLines(dumpProfile(SPR), '5.18'), [
    ...feat(3, [...BASE, [5, 'AVX-512 opmask'], [6, 'AVX-512 Hi256'], [7, 'AVX-512 ZMM_Hi256'], [9, 'Protection Keys User registers'], [10, 'PASID state'], [17, 'AMX Tile config'], [18, 'AMX Tile data']]),
    'x86/fpu: xstate_offset[2]:  576, xstate_sizes[2]:  256',
    'x86/fpu: xstate_offset[5]:  832, xstate_sizes[5]:   64',
    'x86/fpu: xstate_offset[6]:  896, xstate_sizes[6]:  512',
    'x86/fpu: xstate_offset[7]: 1408, xstate_sizes[7]: 1024',
    'x86/fpu: xstate_offset[9]: 2432, xstate_sizes[9]:    8',
    'x86/fpu: xstate_offset[10]: 2440, xstate_sizes[10]:    8',
    'x86/fpu: xstate_offset[17]: 2496, xstate_sizes[17]:   64',
    'x86/fpu: xstate_offset[18]: 2560, xstate_sizes[18]: 8192',
    "x86/fpu: Enabled xstate features 0x606e7, context size is 10752 bytes, using 'compacted' format.",
  ]);
  assert.equal(sigframeBootLine(dumpProfile(SPR), '5.18'), 'signal: max sigframe size: 11952');
});

test('Zen 3, 5.19: PKRU, compacted, sigframe 3376 (AMD standard PKRU offset 2432)', () => {
  // A 5.19.0+ build on a Zen 3 machine (LKML attachment with "signal: max sigframe size: 3376").
  assert.deepEqual(bootLines(dumpProfile(MILAN), '5.19'), [
    ...feat(3, [...BASE, [9, 'Protection Keys User registers']]),
    'x86/fpu: xstate_offset[2]:  576, xstate_sizes[2]:  256',
    'x86/fpu: xstate_offset[9]:  832, xstate_sizes[9]:    8',
    "x86/fpu: Enabled xstate features 0x207, context size is 840 bytes, using 'compacted' format.",
  ]);
  assert.equal(sigframeBootLine(dumpProfile(MILAN), '5.19'), 'signal: max sigframe size: 3376');
});

test('names table: shifted AVX-512 names, CET names by version, APX', () => {
  const at = (v: string, i: number) => xfeatureNames(v)[Math.min(i, xfeatureNames(v).length - 1)];
  assert.equal(at('6.18', 6), 'AVX-512 Hi256');
  assert.equal(at('6.18', 7), 'AVX-512 ZMM_Hi256');
  assert.equal(at('4.2', 8), 'unknown xstate feature');
  assert.equal(at('4.6', 8), 'Processor Trace (unused)');
  assert.equal(at('5.10', 10), 'PASID state');
  assert.equal(at('6.6', 11), 'Control-flow User registers');
  assert.equal(at('6.6', 12), 'Control-flow Kernel registers (unused)');
  assert.equal(at('6.17', 12), 'Control-flow Kernel registers (KVM only)');
  assert.equal(at('5.16', 17), 'AMX Tile config');
  assert.equal(at('5.16', 18), 'AMX Tile data');
  assert.equal(at('6.15', 19), 'unknown xstate feature');
  assert.equal(at('6.16', 19), 'APX registers');
});

test('CET user state from 6.6, CET kernel state (KVM only) from 6.17', () => {
  const p = dumpProfile(MILAN);
  const has = (v: string, s: string) => bootLines(p, v).some((l) => l.includes(s));
  assert.ok(!has('6.5', 'Control-flow'));
  assert.ok(has('6.6', "0x800: 'Control-flow User registers'"));
  assert.ok(!has('6.16', '0x1000'));
  const { profile } = hostFixture('amd-zen3-vm-linux-6.18.json');
  assert.ok(bootLines(profile, '6.16').at(-1)?.includes("features 0x807, context size is 848 bytes"));
  assert.ok(bootLines(profile, '6.17').at(-1)?.includes("features 0x1807, context size is 872 bytes"));
});

test('PKRU gating: Zen 2 enumerates XCR0 bit 9 without PKU; dropped from 4.15 (xsave_cpuid_features)', () => {
  const p = dumpProfile(MATISSE);
  assert.ok(bootLines(p, '4.14').some((l) => l.includes("0x200: 'Protection Keys User registers'")));
  for (const v of ['4.15', '5.4', '6.18']) {
    assert.ok(!bootLines(p, v).some((l) => l.includes('0x200')), v);
    assert.match(bootLines(p, v).at(-1) ?? '', /features 0x7, context size is 832 bytes/);
  }
});

test('PASID: 5.10-5.12, force-disabled 5.13-5.17, back in 5.18', () => {
  const p = dumpProfile(SPR);
  const pasid = (v: string) => bootLines(p, v).some((l) => l.includes("'PASID state'"));
  assert.deepEqual(['5.9', '5.10', '5.12', '5.13', '5.17', '5.18', '6.1'].map(pasid), [false, true, true, false, false, true, true]);
});

test('AMX needs XFD; the summary size moves from 2440 (5.15) to 10752 (5.16)', () => {
  const p = dumpProfile(SPR);
  assert.match(bootLines(p, '5.15').at(-1) ?? '', /0x2e7, context size is 2440 bytes/);
  assert.match(bootLines(p, '5.16').at(-1) ?? '', /0x602e7, context size is 10752 bytes/);
  // cpuid-deps.c: { X86_FEATURE_AMX_TILE, X86_FEATURE_XFD }, so no XFD takes both tile states.
  const noXfd = withCpuid(p, [['0xd.1', 0, 4, false]]);
  assert.match(bootLines(noXfd, '5.16').at(-1) ?? '', /0x2e7, context size is 2440 bytes/);
  const noAmx = withCpuid(p, [['0x7.0', 3, 24, false]]);
  assert.match(bootLines(noAmx, '6.18').at(-1) ?? '', /0x1ee7, /);
});

test('XSAVEC-only guests: compacted from 5.19 (XCOMPACTED), standard before', () => {
  const { profile } = hostFixture('amd-zen3-vm-linux-6.18.json');
  const noXsaves = withCpuid(profile, [['0xd.1', 0, 3, false]]);
  assert.match(bootLines(noXsaves, '5.18').at(-1) ?? '', /features 0x7, context size is 832 bytes, using 'standard' format/);
  // Without XSAVES, supervisor CET states go (5.19+ masks them out): 0x7, compacted.
  assert.deepEqual(bootLines(noXsaves, '6.18').slice(-2), [
    'x86/fpu: xstate_offset[2]:  576, xstate_sizes[2]:  256',
    "x86/fpu: Enabled xstate features 0x7, context size is 832 bytes, using 'compacted' format.",
  ]);
});

test('no XSAVE: Legacy x87 line (+ lazy/eager) until 4.10, "x87 FPU will use FXSAVE" after', () => {
  const p = dumpProfile(HASWELL);
  assert.deepEqual(bootLines(p, '4.4', { noxsave: true }), ['x86/fpu: Legacy x87 FPU detected.', "x86/fpu: Using 'lazy' FPU context switches."]);
  assert.deepEqual(bootLines(p, '4.7', { noxsave: true }), ['x86/fpu: Legacy x87 FPU detected.', "x86/fpu: Using 'eager' FPU context switches."]);
  assert.deepEqual(bootLines(p, '4.10', { noxsave: true }), ['x86/fpu: Legacy x87 FPU detected.']);
  assert.deepEqual(bootLines(p, '6.18', { noxsave: true }), ['x86/fpu: x87 FPU will use FXSAVE']);
  assert.equal(sigframeBootLine(p, '6.18', { noxsave: true }), 'signal: max sigframe size: 1440');
});

test('4.2-4.5 lazy switching without XSAVEOPT (a VM hiding it), 4.0/4.1 "xsave:" line', () => {
  const noOpt = withCpuid(dumpProfile(HASWELL), [['0xd.1', 0, 0, false]]);
  assert.equal(bootLines(noOpt, '4.4').at(-1), "x86/fpu: Using 'lazy' FPU context switches.");
  assert.equal(bootLines(noOpt, '4.6').at(-1), "x86/fpu: Using 'eager' FPU context switches.");
  assert.deepEqual(bootLines(dumpProfile(HASWELL), '4.1'), ['xsave: enabled xstate_bv 0x7, cntxt size 0x340 using standard form']);
  assert.deepEqual(bootLines(dumpProfile(SKYLAKE), '4.0'), ['xsave: enabled xstate_bv 0x1f, cntxt size 0x3c0 using compacted form']);
});

test('APX with MPX enumerated disables XSAVE (6.16+)', () => {
  // A synthetic CPU: Skylake XCR0 plus an APX component (bit 19, 128 bytes at 960) and APX_F.
  const p = withCpuid(dumpProfile(SKYLAKE), [
    ['0xd.0', 0, 19, true],
    ['0x7.0', 0, 0, true],
    ['0x7.1', 3, 21, true],
  ]);
  assert.deepEqual(bootLines(p, '6.16'), ["x86/fpu: Both APX/MPX present in the CPU's xstate features: 0x8011f.", 'x86/fpu: XSAVE disabled']);
  // checked on the raw enumeration (CPUID.(0xD,0) | CPUID.(0xD,1):ECX), before any gating
  const noMpxFlag = withCpuid(p, [['0x7.0', 1, 14, false]]);
  assert.equal(bootLines(noMpxFlag, '6.18')[1], 'x86/fpu: XSAVE disabled');
  assert.match(bootLines(p, '6.15').at(-1) ?? '', /0x1f, context size is 960/);
});

test('AMD family 0x17 erratum 1386: XSAVES cleared, visible in the format only without XSAVEC support', () => {
  const p = dumpProfile(MATISSE);
  // 5.15.103 cleared XSAVES after FPU init; 5.15.125 (GDS backports) moved FPU init after it.
  assert.match(bootLines(p, '5.15.100').at(-1) ?? '', /'compacted'/);
  assert.match(bootLines(p, '5.15.103').at(-1) ?? '', /'compacted'/);
  assert.match(bootLines(p, '5.15.125').at(-1) ?? '', /'standard'/);
  // 5.4's backport landed in init_amd_k6() and did nothing.
  assert.match(bootLines(p, '5.4.260').at(-1) ?? '', /'compacted'/);
  // 6.x keeps the compacted format through XSAVEC.
  assert.match(bootLines(p, '6.18').at(-1) ?? '', /features 0x7, context size is 832 bytes, using 'compacted'/);
});

test('5.10 guest whose CPUID hides AVX and XSAVES: YMM and AVX-512 gated out, standard format', () => {
  // openEuler 22.03 LTS, Linux 5.10.0-60.18.0.50.oe2203 booted under QEMU (installer console log):
  // MPX and PKRU kept, no AVX. The CPU here is a Cascade Lake dump with AVX and XSAVES cleared.
  const p = withCpuid(dumpProfile('GenuineIntel0050657_CascadeLakeSP_CPUID2'), [
    ['0x1.0', 2, 28, false],
    ['0xd.1', 0, 3, false],
  ]);
  assert.deepEqual(bootLines(p, '5.10'), [
    ...feat(3, [[0, 'x87 floating point registers'], [1, 'SSE registers'], ...MPX, [9, 'Protection Keys User registers']]),
    'x86/fpu: xstate_offset[3]:  960, xstate_sizes[3]:   64',
    'x86/fpu: xstate_offset[4]: 1024, xstate_sizes[4]:   64',
    'x86/fpu: xstate_offset[9]: 2688, xstate_sizes[9]:    8',
    "x86/fpu: Enabled xstate features 0x21b, context size is 2696 bytes, using 'standard' format.",
  ]);
});

test('4.4 guest with MPX but no AVX in CPUID.(0xD,0): eager because of MPX', () => {
  // Ubuntu 4.4.0-28-generic (4.4.13) cirros guest console log: offsets 3 and 4 only, 0x1b, eager.
  const p = withCpuid(dumpProfile(SKYLAKE), [
    ['0x1.0', 2, 28, false],
    ['0xd.0', 0, 2, false],
    ['0xd.1', 0, 0, false], // no XSAVEOPT either: eager comes from MPX alone
  ]);
  assert.deepEqual(bootLines(p, '4.4.13'), [
    'x86/fpu: xstate_offset[3]:  960, xstate_sizes[3]:   64',
    'x86/fpu: xstate_offset[4]: 1024, xstate_sizes[4]:   64',
    ...feat(2, [[0, 'x87 floating point registers'], [1, 'SSE registers'], ...MPX]),
    "x86/fpu: Enabled xstate features 0x1b, context size is 1088 bytes, using 'standard' format.",
    "x86/fpu: Using 'eager' FPU context switches.",
  ]);
});

test('cloud guest on Emerald Rapids (PKU, ENQCMD and SHSTK hidden): AMX without PKRU/PASID/CET', () => {
  // Journal of a "Intel INTEL(R) XEON(R) PLATINUM 8573C" guest (family 6 model 0xcf), public post:
  // 0x600e7, TILE_CFG at 2432, 10688 bytes, "signal: max sigframe size: 11952". The CPU here is the
  // Sapphire Rapids dump (same XSAVE geometry) with the three flags cleared as the hypervisor did.
  const p = withCpuid(dumpProfile(SPR), [
    ['0x7.0', 2, 3, false],
    ['0x7.0', 2, 29, false],
    ['0x7.0', 2, 7, false],
  ]);
  for (const v of ['5.16', '6.8', '6.18']) {
    assert.deepEqual(bootLines(p, v), [
      ...feat(3, [...BASE, [5, 'AVX-512 opmask'], [6, 'AVX-512 Hi256'], [7, 'AVX-512 ZMM_Hi256'], [17, 'AMX Tile config'], [18, 'AMX Tile data']]),
      'x86/fpu: xstate_offset[2]:  576, xstate_sizes[2]:  256',
      'x86/fpu: xstate_offset[5]:  832, xstate_sizes[5]:   64',
      'x86/fpu: xstate_offset[6]:  896, xstate_sizes[6]:  512',
      'x86/fpu: xstate_offset[7]: 1408, xstate_sizes[7]: 1024',
      'x86/fpu: xstate_offset[17]: 2432, xstate_sizes[17]:   64',
      'x86/fpu: xstate_offset[18]: 2496, xstate_sizes[18]: 8192',
      "x86/fpu: Enabled xstate features 0x600e7, context size is 10688 bytes, using 'compacted' format.",
    ], v);
    assert.equal(sigframeBootLine(p, v), 'signal: max sigframe size: 11952');
  }
});
