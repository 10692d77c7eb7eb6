// Live checks on the machine running the tests: the model's boot lines and AT_MINSIGSTKSZ for the host
// CPU (the `host` profile) and the running kernel (uname -r) against `dmesg` and getauxval().
// Each test skips, saying why, when the machine cannot answer.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { release, tmpdir } from 'node:os';
import { join } from 'node:path';
import { InputError } from '../src/arch/errors.js';
import { CpuProfile } from '../src/arch/profile.js';
import { hostProfile } from '../src/arch/profiles/index.js';
import { bootLines, sigframeBootLine } from '../src/kernel/fpu/bootlog.js';
import { KernelVersion, parseKernelVersion } from '../src/kernel/fpu/kernel-version.js';
import { atMinSigStkSz } from '../src/kernel/fpu/sigframe.js';

/** The host profile, or why it cannot be read here. */
function hostOrWhy(): CpuProfile | string {
  try {
    return hostProfile();
  } catch (e) {
    return e instanceof InputError ? e.line() : String(e);
  }
}

function runningKernel(): KernelVersion | string {
  try {
    return parseKernelVersion(release());
  } catch (e) {
    return `the running kernel ${release()} is outside the model: ${(e as Error).message}`;
  }
}

function dmesgLines(): string[] | string {
  const r = spawnSync('dmesg', [], { encoding: 'utf8' });
  if (r.error || r.status !== 0) return `dmesg is not readable here (${r.error?.message ?? r.stderr.trim()})`;
  return r.stdout.split('\n').map((l) => l.replace(/^\[[ 0-9.]+\]\s?/, ''));
}

test('live: the model prints the boot lines of this machine', (t) => {
  const p = hostOrWhy();
  const v = runningKernel();
  const d = dmesgLines();
  for (const why of [p, v, d]) if (typeof why === 'string') return t.skip(why);
  const lines = (d as string[]).filter((l) => l.startsWith('x86/fpu: '));
  if (lines.length === 0) return t.skip('dmesg no longer holds the boot x86/fpu lines (ring buffer wrapped?)');
  assert.deepEqual(bootLines(p as CpuProfile, v as KernelVersion), lines);
  const sig = (d as string[]).find((l) => l.startsWith('signal: max sigframe size:'));
  if (sig) assert.equal(sigframeBootLine(p as CpuProfile, v as KernelVersion), sig);
});

test('live: AT_MINSIGSTKSZ equals getauxval(AT_MINSIGSTKSZ) of a compiled program', (t) => {
  const p = hostOrWhy();
  const v = runningKernel();
  for (const why of [p, v]) if (typeof why === 'string') return t.skip(why);
  const cc = spawnSync('cc', ['--version'], { encoding: 'utf8' });
  if (cc.error || cc.status !== 0) return t.skip('no C compiler (cc) to build the getauxval probe');
  const dir = mkdtempSync(join(tmpdir(), 'switchlab-auxv-'));
  try {
    writeFileSync(join(dir, 'auxv.c'), '#include <stdio.h>\n#include <sys/auxv.h>\nint main(void) { printf("%lu\\n", getauxval(51 /* AT_MINSIGSTKSZ */)); return 0; }\n');
    const build = spawnSync('cc', ['-O0', '-o', join(dir, 'auxv'), join(dir, 'auxv.c')], { encoding: 'utf8' });
    if (build.status !== 0) return t.skip(`the getauxval probe did not build: ${build.stderr.trim()}`);
    const run = spawnSync(join(dir, 'auxv'), [], { encoding: 'utf8' });
    assert.equal(run.status, 0);
    const real = Number(run.stdout.trim());
    assert.equal(atMinSigStkSz(p as CpuProfile, v as KernelVersion) ?? 0, real);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
