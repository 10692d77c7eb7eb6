/**
 * PTRACE_GETREGSET / PTRACE_SETREGSET for the FPU regsets (arch/x86/kernel/fpu/regset.c):
 * NT_X86_XSTATE ('xstate', xstateregs_get/set) and NT_PRFPREG ('fpreg', xfpregs_get/set).
 *
 * The tracee must be stopped and off every CPU (ptrace_check_attach + wait_task_inactive). A read
 * syncs the memory image first (sync_fpstate; a stopped task was saved at switch-out); a write must be
 * a full, exact image (07d6688b22e0, 5.14); fpu_force_restore() makes sure no CPU's registers are
 * reused for the tracee (for NT_X86_XSTATE before the image is checked, as xstateregs_set does it; for
 * NT_PRFPREG after its MXCSR check), and the image is checked and converted into its kernel buffer,
 * all or nothing. The new values reach the registers at its next return to user.
 * Nothing here emits trace events; the policy's hooks emit what they emit.
 */
import type { Kernel } from './kernel.js';
import type { Cpu, Task } from './state.js';
import { valueToken } from './entry.js';
import { intern } from '../arch/xsave/values.js';
import {
  copyFxsaveToUabi,
  copyUabiFxsaveToXstate,
  copyUabiToXstate,
  copyUabiToXstateVerbatim,
  copyXstateToUabi,
  FXSAVE_SIZE,
  uabiXstateSize,
  validateUabiFxsave,
  xstateregsSetVerbatim,
} from './fpu/uabi.js';

/** NT_X86_XSTATE or NT_PRFPREG. */
export type FpuRegset = 'xstate' | 'fpreg';

/** The regset's size: fpu_user_cfg.max_size for NT_X86_XSTATE, sizeof(struct fxregs_state) for NT_PRFPREG. */
export function regsetSize(k: Kernel, regset: FpuRegset): number {
  return regset === 'xstate' ? uabiXstateSize(k) : FXSAVE_SIZE;
}

/** The CPU `t` is current on, or null. */
function currentCpu(k: Kernel, t: Task): Cpu | null {
  const cpu = k.st.cpus[t.cpu];
  return cpu && cpu.curr === t.pid ? cpu : null;
}

function onAnyCpu(k: Kernel, t: Task): boolean {
  return k.st.cpus.some((c) => c.curr === t.pid);
}

/**
 * ptrace_check_attach(): the tracee is another user task, stopped (TASK_STOPPED / TASK_TRACED, the
 * model's run 'stopped' or `traced`) and no longer running on any CPU. Null when the request may go on.
 */
export function ptraceCheckAttach(k: Kernel, tracer: Task, tracee: Task): string | null {
  if (tracer.pid === tracee.pid) return `-EPERM: ${tracee.comm}-${tracee.pid} cannot ptrace itself`;
  if (tracee.kind !== 'user') return `-EPERM: ${tracee.comm}-${tracee.pid} is a ${tracee.kind} (kernel threads cannot be traced)`;
  if (tracee.run === 'zombie' || !k.st.tasks.has(tracee.pid)) return `-ESRCH: ${tracee.comm}-${tracee.pid} has exited`;
  const stopped = tracee.run === 'stopped' || tracee.traced;
  if (!stopped) return `-ESRCH: ${tracee.comm}-${tracee.pid} is not stopped (${tracee.run})`;
  // wait_task_inactive(): a stopped tracee still on a CPU is not yet off it.
  if (tracee.run === 'running' || onAnyCpu(k, tracee)) return `-EBUSY: ${tracee.comm}-${tracee.pid} is still current on CPU ${tracee.cpu}`;
  return null;
}

/**
 * PTRACE_GETREGSET: the regset's image, or an error string. xstateregs_get / xfpregs_get: sync the
 * tracee's memory image (fpu_sync_fpstate when it is current: never for a stopped tracee), then
 * convert it to the user format.
 */
export function ptraceGetRegset(k: Kernel, tracer: Task, tracee: Task, regset: FpuRegset): Uint8Array | string {
  const err = ptraceCheckAttach(k, tracer, tracee);
  if (err) return err;
  if (regset === 'xstate' && !k.cfg.useXsave) return '-ENODEV: the kernel does not use XSAVE (no NT_X86_XSTATE regset)';
  k.policy.makeMemoryValid(k, currentCpu(k, tracee), tracee, false);
  return regset === 'xstate' ? copyXstateToUabi(k, tracee) : copyFxsaveToUabi(k, tracee);
}

/**
 * PTRACE_SETREGSET: null on success, else the error (and the tracee's values are unchanged). A full,
 * exact image only (NT_X86_XSTATE: -EFAULT otherwise, as xstateregs_set; NT_PRFPREG: -EINVAL).
 * fpu_force_restore() (the policy's makeMemoryValid for a write) comes before the checks for
 * NT_X86_XSTATE (so a refused write still makes the tracee reload its registers) and after them for
 * NT_PRFPREG (xfpregs_set checks MXCSR first).
 */
export function ptraceSetRegset(k: Kernel, tracer: Task, tracee: Task, regset: FpuRegset, img: Uint8Array): string | null {
  const err = ptraceCheckAttach(k, tracer, tracee);
  if (err) return err;
  if (regset === 'xstate') {
    if (!k.cfg.useXsave) return '-ENODEV: the kernel does not use XSAVE (no NT_X86_XSTATE regset)';
    const size = regsetSize(k, regset);
    // 07d6688b22e0 (5.14): "A whole standard-format XSAVE buffer is needed".
    if (img.length !== size) return `-EFAULT: NT_X86_XSTATE writes must be exactly ${size} bytes, not ${img.length}`;
    // fpu_force_restore() (fpu__activate_fpstate_write() in 4.x): the image may change; the registers
    // must come from it.
    k.policy.makeMemoryValid(k, null, tracee, true);
    // Before 4.14 on a standard-format kernel: the image copied unchecked; else checked, then converted.
    return xstateregsSetVerbatim(k) ? copyUabiToXstateVerbatim(k, tracee, img) : copyUabiToXstate(k, tracee, img);
  }
  const bad = validateUabiFxsave(k, img);
  if (bad) return bad;
  k.policy.makeMemoryValid(k, null, tracee, true);
  return copyUabiFxsaveToXstate(k, tracee, img);
}

/**
 * One debugger access as the model's `ptrace` event performs it: GETREGSET, and for a write the image
 * changed (component `set.comp` given value `set.tag`, raw `edit` bytes) and sent back by SETREGSET.
 * Returns 0, or -1 when the kernel refused the call (the tracer sees an errno; nothing changed); with
 * `read`, a GETREGSET's value of component `read` as the tracer sees it (a value token).
 */
export function ptraceAccess(
  k: Kernel,
  tracer: Task,
  tracee: Task,
  regset: FpuRegset,
  write: boolean,
  set?: { comp: number; tag: number },
  edit?: { offset: number; bytes: number[] } | readonly { offset: number; bytes: number[] }[],
  read?: number,
): number {
  const img = ptraceGetRegset(k, tracer, tracee, regset);
  if (typeof img === 'string') return -1;
  k.st.counters.ptraceAccesses++;
  if (!write) return read === undefined ? 0 : regsetValue(k, img, regset, read);
  if (set && set.comp >= 1) {
    const off = set.comp === 1 ? 160 : k.m.g.stdOffset[set.comp];
    const bytes = k.m.pool.images[set.comp][valueToken(k, set.comp, set.tag)];
    if (off >= 0 && off + bytes.length <= img.length) {
      img.set(bytes, off);
      // The header must say the component is present (XSTATE_BV at 512) for an xstate write.
      if (regset === 'xstate' && set.comp < 32) img[512 + (set.comp >> 3)] |= 1 << (set.comp & 7);
    }
  }
  for (const e of edit === undefined ? [] : 'offset' in edit ? [edit] : edit) for (let j = 0; j < e.bytes.length; j++) if (e.offset + j < img.length) img[e.offset + j] = e.bytes[j] & 0xff;
  return ptraceSetRegset(k, tracer, tracee, regset, img) === null ? 0 : -1;
}

/**
 * A core dump's NT_X86_XSTATE note of the dumping task itself (elf_core_dump → xstateregs_get on
 * current): fpu_sync_fpstate() must first save registers that are live. Returns component `comp`'s
 * value in the note (a value token), or -1 when the kernel does not use XSAVE.
 */
export function coredumpRegset(k: Kernel, t: Task, comp: number): number {
  if (!k.cfg.useXsave) return -1;
  k.policy.makeMemoryValid(k, currentCpu(k, t), t, false);
  return regsetValue(k, copyXstateToUabi(k, t), 'xstate', comp);
}

/** The value token of component `comp` in a regset image (-1 when the regset does not carry it). */
function regsetValue(k: Kernel, img: Uint8Array, regset: FpuRegset, comp: number): number {
  const off = comp === 1 ? 160 : regset === 'xstate' || comp === 0 ? k.m.g.stdOffset[comp] : -1;
  const size = k.m.pool.images[comp][0].length;
  if (off < 0 || off + size > img.length) return -1;
  return intern(k.m.pool, comp, img, off);
}
