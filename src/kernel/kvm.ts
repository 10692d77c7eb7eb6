/**
 * KVM vCPU threads (5.16+ API, arch/x86/kernel/fpu/core.c): the guest has its own fpstate
 * (fpu_alloc_guest_fpstate: default user features, XFD 0). KVM_RUN swaps it in with
 * fpu_swap_kvm_fpstate(enter): the host user state is saved into the task's fpstate, fpu->fpstate
 * points at the guest's, whose registers are loaded eagerly (fpregs_mark_activate). A context switch
 * while in KVM_RUN therefore saves the *guest* state; before re-entering the guest KVM reloads it if
 * TIF_NEED_FPU_LOAD is set. Leaving KVM_RUN swaps back. While the guest runs the CPU is in VMX
 * non-root operation, which is part of the XRSTOR_INFO tuple of the modified optimization.
 */
import type { Kernel } from './kernel.js';
import { violation } from './kernel.js';
import { initFpstateImage, osXsave, restoreFpregsFromFpstate, saveFpregsToFpstate, MASK_FPSTATE_HI, MASK_FPSTATE_LO } from './fpu/core.js';
import { groupLeader } from './fpu/dynamic.js';
import { fpregsLock, fpregsUnlock } from './signal.js';
import { Cpu, Task, TIF_NEED_FPU_LOAD } from './state.js';
import { newFpstate } from './task.js';
import { valueToken } from './entry.js';
import { accessCheck, writeComponent } from '../arch/xsave/registers.js';

/**
 * KVM_CREATE_VCPU: fpu_alloc_guest_fpstate (vzalloc'ed, default user features, XFD reset value 0),
 * fpu_init_guest_permissions (the group's guest permission is locked from now on), and — as
 * KVM_SET_CPUID does when the guest is given AMX — fpu_enable_guest_xfd_features: the guest fpstate is
 * reallocated with room for every dynamic feature the guest permission allows.
 */
export function kvmCreateVcpu(k: Kernel, t: Task): void {
  if (t.vcpu) return;
  const leader = groupLeader(k, t).fpu;
  leader.guestPermHi |= 0x8000_0000; // FPU_GUEST_PERM_LOCKED
  const dyn = (leader.guestPermLo & k.cfg.dynamicLo) >>> 0;
  const fps = newFpstate(k, dyn ? k.cfg.maxSize : k.cfg.defaultSize, dyn !== 0);
  if (dyn === 0) {
    fps.isValloc = true;
  } else {
    fps.xfeaturesLo = (k.cfg.kernelDefaultLo | dyn) >>> 0;
    fps.userXfeaturesLo = (k.cfg.userDefaultLo | dyn) >>> 0;
    initFpstateImage(k, fps);
  }
  fps.isGuest = true;
  fps.xfdLo = 0;
  fps.xfdHi = 0;
  t.vcpu = { fpstate: fps, inRun: false, inGuest: false, loaded: false };
}

/** fpu_swap_kvm_fpstate(gfpu, enter). */
function swap(k: Kernel, cpu: Cpu, t: Task, enter: boolean): void {
  const fpu = t.fpu;
  fpregsLock(cpu);
  // The current registers belong to the current fpstate (host task state on entry, guest on exit).
  if ((t.tif & TIF_NEED_FPU_LOAD) === 0) saveFpregsToFpstate(k, cpu, fpu, t);
  const next = enter ? t.vcpu!.fpstate : fpu.taskFpstate ?? fpu.embedded;
  fpu.taskFpstate = enter ? fpu.fpstate : null;
  fpu.fpstate = next;
  restoreFpregsFromFpstate(k, cpu, next, MASK_FPSTATE_LO, MASK_FPSTATE_HI, t);
  k.policy.markActivated(k, cpu, t);
  fpregsUnlock(cpu);
}

/**
 * Before 5.16, kvm_load_guest_fpu: inside a kernel FPU section the host user state is saved to the
 * task's memory and the guest's loaded (the 2016 RFC's patch 3/5 makes the guest fpu the owner).
 */
function loadGuestFpu(k: Kernel, cpu: Cpu, t: Task): void {
  k.policy.makeMemoryValid(k, cpu, t, false);
  k.policy.kernelFpuBegin(k, cpu);
  const xs = cpu.xs;
  xs.cr0Ts = false; // kernel_fpu_begin: clts in the lazy era
  restoreFpregsFromFpstate(k, cpu, t.vcpu!.fpstate, MASK_FPSTATE_LO, MASK_FPSTATE_HI, t);
  if (k.policy.name === 'rfc-2016') cpu.owner = t.vcpu!.fpstate.id;
  t.vcpu!.loaded = true;
}

/** kvm_put_guest_fpu: the guest state is saved and kernel_fpu_end gives the host state back. */
function putGuestFpu(k: Kernel, cpu: Cpu, t: Task): void {
  osXsave(k, cpu, t.vcpu!.fpstate, t);
  t.vcpu!.loaded = false;
  if (cpu.owner === t.vcpu!.fpstate.id) cpu.owner = 0;
  k.policy.kernelFpuEnd(k, cpu);
}

/** KVM_RUN begins (vcpu_load + kvm_load_guest_fpu): the guest's FPU state is installed. */
export function kvmEnterRun(k: Kernel, cpu: Cpu, t: Task): void {
  if (!t.vcpu) kvmCreateVcpu(k, t);
  if (t.vcpu!.inRun) return;
  t.inUser = false;
  if (k.policy.kvmApi === 'fpstate-swap') swap(k, cpu, t, true);
  else loadGuestFpu(k, cpu, t);
  t.vcpu!.inRun = true;
}

/** The preempt notifier when a vCPU thread inside KVM_RUN is switched out (before 5.16). */
export function kvmSchedOut(k: Kernel, cpu: Cpu, t: Task): void {
  if (k.policy.kvmApi === 'kernel-fpu' && t.vcpu?.inRun && t.vcpu.loaded) putGuestFpu(k, cpu, t);
}

/** VM entry: vcpu_enter_guest reloads the (guest) state if a switch saved it (switch_fpu_return). */
export function kvmEnterGuest(k: Kernel, cpu: Cpu, t: Task): void {
  if (!t.vcpu?.inRun) {
    violation(k, 'kvm', `VM entry for ${t.comm}-${t.pid} outside KVM_RUN`, cpu.id, t.pid);
    return;
  }
  if (k.policy.kvmApi === 'kernel-fpu') {
    if (!t.vcpu.loaded) loadGuestFpu(k, cpu, t); // the preempt notifier's sched-in
  } else if (t.tif & TIF_NEED_FPU_LOAD) {
    cpu.irqsOff = true; // vcpu_enter_guest: local_irq_disable() comes before switch_fpu_return()
    k.policy.makeRegistersValid(k, cpu, t);
    cpu.irqsOff = false;
  }
  t.vcpu.inGuest = true;
  cpu.xs.vmxNonRoot = true;
}

/** VM exit back to the host (KVM's run loop, still in KVM_RUN). */
export function kvmExitGuest(cpu: Cpu, t: Task): void {
  if (t.vcpu) t.vcpu.inGuest = false;
  cpu.xs.vmxNonRoot = false;
}

/** KVM_RUN returns to user space (kvm_put_guest_fpu): the host state is installed again. */
export function kvmLeaveRun(k: Kernel, cpu: Cpu, t: Task): void {
  if (!t.vcpu?.inRun) return;
  if (t.vcpu.inGuest) kvmExitGuest(cpu, t);
  if (k.policy.kvmApi === 'fpstate-swap') swap(k, cpu, t, false);
  else if (t.vcpu.loaded) putGuestFpu(k, cpu, t);
  t.vcpu.inRun = false;
}

/** Guest code writes value `tag` into component i (inside VM entry). */
export function guestWrite(k: Kernel, cpu: Cpu, t: Task, i: number, tag: number): void {
  if (!t.vcpu?.inGuest) {
    violation(k, 'kvm', `guest write for ${t.comm}-${t.pid} while not in the guest`, cpu.id, t.pid);
    return;
  }
  const f = writeComponent(cpu.xs, i, valueToken(k, i, tag));
  if (f) violation(k, 'kvm', `guest write of component ${i} raised ${f.vector}: ${f.reason}`, cpu.id, t.pid);
}

/** Guest code reads component i (inside VM entry): the token it sees, -1 when the access faulted. */
export function guestRead(k: Kernel, cpu: Cpu, t: Task, i: number): number {
  if (!t.vcpu?.inGuest) {
    violation(k, 'kvm', `guest read for ${t.comm}-${t.pid} while not in the guest`, cpu.id, t.pid);
    return -1;
  }
  const f = accessCheck(cpu.xs, i);
  if (f) {
    violation(k, 'kvm', `guest read of component ${i} raised ${f.vector}: ${f.reason}`, cpu.id, t.pid);
    return -1;
  }
  return cpu.xs.tok[i];
}
