/**
 * The part of drivers/char/random.c that touches the FPU: add_device_randomness() mixes bytes into the
 * global input pool with blake2s_update(), which compresses only when its 64-byte buffer is full and
 * more input arrives; on x86 the compression (lib/crypto/x86/blake2s.h) is SIMD code inside
 * kernel_fpu_begin()/kernel_fpu_end() whenever irq_fpu_usable(). So every so many forks and reaped
 * tasks, the current task's user FPU state is saved and this CPU's registers invalidated — invisible
 * in the x86_fpu tracepoints except through the reload at the next return to user.
 */
import type { Kernel } from './kernel.js';
import { kernelFpuSection } from './kfpu.js';
import { Cpu } from './state.js';

const BLAKE2S_BLOCK = 64;

function compress(k: Kernel, cpu: Cpu): void {
  // may_use_simd(): irq_fpu_usable() — else the generic C code runs, without the FPU.
  kernelFpuSection(k, cpu, cpu.hardirq > 0 ? 'hardirq' : cpu.softirq > 0 ? 'softirq' : 'task');
}

/** add_device_randomness(buf, n) in the context of the task running on `cpu`. */
export function addDeviceRandomness(k: Kernel, cpu: Cpu, n: number): void {
  const st = k.st;
  if (n === 0) return;
  const fill = BLAKE2S_BLOCK - st.entropyBuf;
  if (n > fill) {
    compress(k, cpu);
    st.entropyBuf = 0;
    n -= fill;
  }
  if (n > BLAKE2S_BLOCK) {
    compress(k, cpu);
    n -= Math.ceil(n / BLAKE2S_BLOCK - 1) * BLAKE2S_BLOCK;
  }
  st.entropyBuf += n;
}

/** kernel_clone(): add_latent_entropy() after copy_process (8 bytes of random_get_entropy()). */
export const FORK_ENTROPY_BYTES = 8;
/** release_task() → __exit_signal(): add_device_randomness(&sum_exec_runtime, …) — 16 bytes as measured. */
export const RELEASE_ENTROPY_BYTES = 16;
