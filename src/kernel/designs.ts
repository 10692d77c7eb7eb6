/**
 * The design alternatives beyond the FPU context-switch policy, each an interface the kernel calls at
 * the points Linux does; implementations live in src/policies/{xbuf,pkru,pasid}/. The kernel's own
 * defaults here are "not modeled": a plain buffer, PKRU never switched, no ENQCMD support.
 */
import type { Kernel } from './kernel.js';
import type { Cpu, FpState, MmState, Task } from './state.js';
import type { XsaveArea } from '../arch/xsave/area.js';

/** How large (AMX) XSAVE buffers are allocated and reached (seed 000's four designs). */
export interface XbufDesign {
  readonly name: string;
  readonly models: string;
  /** A new dynamic fpstate of `size` bytes for `t` (fpstate_realloc's allocation; may sleep). */
  allocate(k: Kernel, cpu: Cpu, t: Task, size: number): FpState;
  /** Free a dynamic fpstate (never the embedded default one). */
  free(k: Kernel, cpu: Cpu, fps: FpState): void;
  /** XSAVES of this CPU's registers into the dynamic fpstate `fps`. */
  save(k: Kernel, cpu: Cpu, fps: FpState, t?: Task): void;
  /** XRSTORS from the dynamic fpstate `fps` with the given mask. */
  restore(k: Kernel, cpu: Cpu, fps: FpState, maskLo: number, maskHi: number, t?: Task): void;
}

/** Where PKRU lives and when it is written (Linux >= 5.14 switches it eagerly in __switch_to). */
export interface PkruPolicy {
  readonly name: string;
  readonly models: string;
  /** __switch_to: x86_pkru_load(prev, next), or nothing. */
  switchTo(k: Kernel, cpu: Cpu, prev: Task, next: Task): void;
  /** Whether the return-to-user restore loads PKRU from the buffer (false: XFEATURE_MASK_FPSTATE excludes it). */
  readonly restoredFromBuffer: boolean;
  /** The PKRU a kernel access to user memory (copy_to_user, get_user_pages) on `cpu` uses. */
  uaccessPkru(k: Kernel, cpu: Cpu, t: Task): number;
  /**
   * Signal delivery (6.12+, 70044df250d0): PKRU is set to 0 (every key enabled) around the XSAVE to the
   * frame, so the frame may go to a pkey-protected stack; afterwards the task's PKRU `pkru` is put into
   * the frame (update_pkru_in_sigframe) so rt_sigreturn restores it. Absent: the designs of kernels
   * before 6.12 (the frame gets the live PKRU).
   */
  sigframePkru?(k: Kernel, t: Task, frame: XsaveArea, pkru: number): void;
}

/** How IA32_PASID reaches the threads of an mm that ENQCMDs (seed 003). */
export interface PasidPolicy {
  readonly name: string;
  readonly models: string;
  /** switch_mm on `cpu` from prev's mm to next's (called for every switch to a user task whose mm differs). */
  switchMm(k: Kernel, cpu: Cpu, prev: Task, next: Task): void;
  /** mm's PASID was allocated or changed by the task on `cpu`: bring the running threads up to date. */
  pasidChanged(k: Kernel, cpu: Cpu, mm: MmState): void;
  /**
   * Whether fpu_clone leaves the parent's PASID in the child's XSAVE image. The #GP fix-up design
   * (5.18+) clears it ("children never inherit PASID state") and fixes a thread up at its first ENQCMD;
   * 5.10's fpu__copy copied it (a forked process's child kept its parent's PASID: catalogue G2), and a
   * design without a fix-up must keep it for threads, which share the mm.
   */
  readonly forkKeepsPasid: boolean;
  /** ENQCMD by `t` took #GP because IA32_PASID is not valid: fix up and return true to retry, or false. */
  enqcmdGp(k: Kernel, cpu: Cpu, t: Task): boolean;
}

export interface Designs {
  xbuf: XbufDesign | null;
  pkru: PkruPolicy | null;
  pasid: PasidPolicy | null;
}

export const NO_DESIGNS: Designs = { xbuf: null, pkru: null, pasid: null };
