/**
 * Kernel code no policy reaches, put back to before its fix: the `eager` policy on Linux 4.13 on a CPU
 * without XSAVES (the kernel keeps the standard format). There xstateregs_set() copied the debugger's
 * whole image into the tracee's buffer with user_regset_copyin(), header included, and checked none of
 * it: a reserved XSTATE_BV bit or a non-zero XCOMP_BV reached the buffer, and the next XRSTOR of it
 * took #GP. 4.13's copy_kernel_to_fpregs() then only warned, so the tracee ran on with the registers
 * of whoever used the CPU before: a cross-process register leak (CVE-2017-15537). The compacted path
 * (XSAVES CPUs, 4.8+) converted and checked the image; that is why `haswell`, not a later CPU.
 *
 * Catalogue B3: fixed by 814fb7bb7db5 "x86/fpu: Don't let userspace set bogus xcomp_bv" (4.14-rc5),
 * which added validate_xstate_header() to this path (LTP ptrace07 is its test). The catalogue's "Pre"
 * says XSAVES systems; the commit message and the 4.x regset.c say the standard-format path.
 */
import { eager } from '../../policies/fpu/eager.js';
import type { Mutant } from './types.js';

export const ptraceUncheckedHeader: Mutant = {
  name: 'ptrace-unchecked-header',
  of: 'kernel: xstateregs_set',
  bug: '814fb7bb7db5 "x86/fpu: Don\'t let userspace set bogus xcomp_bv" (CVE-2017-15537, catalogue B3)',
  policy: eager,
  kernel: '4.13',
  cpu: 'haswell',
  config: { cpus: 1, moves: ['write', 'syscall', 'return', 'switch', 'ptrace-bogus'], depth: 6 },
};
