/** The checker's output: the bounds and states explored, or a counterexample as a numbered story in kernel terms. */
import { BadImage, CheckConfig, CheckResult, INVARIANTS, MAX_IMAGE_BYTES, Move, ReplayedMove } from '../check/explore.js';
import { formatFtraceLine } from '../kernel/trace/ftrace.js';

const COMP_NAMES: Record<number, string> = { 0: 'x87', 1: 'SSE', 2: 'AVX', 9: 'PKRU', 17: 'AMX TILECFG', 18: 'AMX TILEDATA' };
const BAD_TEXT: Record<BadImage, string> = {
  'xstate-bv': 'a reserved XSTATE_BV bit',
  'xcomp-bv': 'XCOMP_BV bit 63 set, a compacted image',
  mxcsr: 'reserved MXCSR bits',
};
const task = (pid: number): string => (pid < 0 ? `swapper/${-1 - pid}` : `t${pid}`);

/** One move in kernel terms. */
export function describeMove(m: Move): string {
  switch (m.op) {
    case 'write':
      return `${task(m.pid)}, in user mode, writes a new value to its ${COMP_NAMES[m.comp] ?? `component ${m.comp}`} registers`;
    case 'syscall':
      return `${task(m.pid)} enters the kernel (syscall)`;
    case 'return':
      return `${task(m.pid)} returns to user mode (exit_to_user_mode → switch_fpu_return) and reads its registers`;
    case 'switch':
      return `CPU${m.cpu}: __schedule() switches to ${task(m.next)} (the previous task stays runnable)`;
    case 'kfpu':
      return m.ctx === 'task'
        ? `CPU${m.cpu}: the current task runs kernel_fpu_begin() … kernel_fpu_end() in task context`
        : `CPU${m.cpu}: an interrupt runs kernel_fpu_begin() … kernel_fpu_end() in ${m.ctx} context, then returns to the interrupted context`;
    case 'migrate':
      return `${task(m.pid)} (runnable, not running) migrates to CPU${m.cpu}`;
    case 'signal':
      return `SIGUSR1 is queued for ${task(m.pid)} (delivered at its next return to user mode: the handler starts from init state)`;
    case 'exec':
      return `${task(m.pid)}'s system call is execve(): fpu_flush_thread() resets its state for the new program (still in the kernel)`;
    case 'sigreturn':
      return `${task(m.pid)}'s handler calls rt_sigreturn: the kernel restores the interrupted registers from the signal frame, then returns to user mode`;
    case 'sigreturn-bad':
      return `${task(m.pid)}'s handler corrupts its signal frame (${BAD_TEXT[m.bad]}) and calls rt_sigreturn: the restore must fail, leave init state and send SIGSEGV; it returns to user mode`;
    case 'sigreturn-enter':
      return m.bad
        ? `${task(m.pid)}'s handler corrupts its signal frame (${BAD_TEXT[m.bad]}) and enters rt_sigreturn (preemptible until the restore)`
        : `${task(m.pid)}'s handler enters rt_sigreturn (preemptible until the restore)`;
    case 'sigreturn-restore':
      return `${task(m.pid)}, in rt_sigreturn, restores the interrupted registers from its signal frame (XRSTOR from user memory; init state and SIGSEGV if it faults); it is still in the kernel`;
    case 'fork':
      return `${task(m.pid)}'s system call is ${m.thread ? 'clone(CLONE_VM|CLONE_THREAD)' : 'fork()'}: fpu_clone() copies its state to the child (runnable, still in the kernel)`;
    case 'exit':
      return `${task(m.pid)}'s system call is exit(): do_exit → fpu__drop, then the final switch to idle`;
    case 'ptrace':
      return m.how === 'get'
        ? `${task(m.pid)} (a debugger, in the kernel) reads the stopped ${task(m.target)}'s registers: PTRACE_GETREGSET NT_X86_XSTATE`
        : m.how === 'set'
          ? `${task(m.pid)} (a debugger) writes a new value into the stopped ${task(m.target)}'s registers: PTRACE_SETREGSET NT_X86_XSTATE`
          : `${task(m.pid)} (a debugger) sends the stopped ${task(m.target)} an image with ${BAD_TEXT[m.bad ?? 'xstate-bv']}: PTRACE_SETREGSET must refuse it or make it harmless`;
    case 'uaccess':
      return `${task(m.pid)}, in a system call, has the kernel access its user memory (copy_to_user): the access is checked against the live PKRU`;
    case 'pasid':
      return m.change
        ? `${task(m.pid)} changes its mm's PASID (unbind and rebind): the PASID policy propagates it`
        : `${task(m.pid)} binds a device (SVA): its mm gets a PASID, which the PASID policy propagates`;
    case 'enqcmd':
      return `${task(m.pid)}, in user mode, executes ENQCMD (carries IA32_PASID)`;
    case 'kvm':
      return m.what === 'run'
        ? `${task(m.pid)}'s system call is ioctl(KVM_RUN): the vCPU's guest FPU state is installed (fpu_swap_kvm_fpstate, or kvm_load_guest_fpu before 5.16)`
        : m.what === 'entry'
          ? `${task(m.pid)}: VM entry (a saved guest state is reloaded first); the guest reads its registers`
          : `${task(m.pid)}: VM exit, back in the host kernel inside KVM_RUN`;
    case 'irq-in-lock':
      return `CPU${m.cpu}: an interrupt with a kernel FPU section is due at the next point where the kernel moves the FPU registers there with IRQs on (inside fpregs_lock() only its hardirq part, if irq_fpu_usable() allows; outside, its softirq too)`;
    case 'coredump':
      return `${task(m.pid)}, in the kernel, dumps core: its own NT_X86_XSTATE note (fpu_sync_fpstate first saves live registers); every tracked component must be its current value`;
    case 'mxcsr':
      return `${task(m.pid)}, in user mode, loads MXCSR 0x7f80 (round toward zero, exceptions masked) with LDMXCSR`;
    case 'guest-write':
      return `${task(m.pid)}'s KVM guest writes a new value to its ${COMP_NAMES[m.comp] ?? `component ${m.comp}`} registers`;
  }
}

export function boundsLine(c: CheckConfig): string {
  const warm = c.warmup ? `, after a warm-up of ${c.warmup} FPU-using slices per running task` : '';
  return `${c.cpus} CPUs, ${c.tasks} tasks, depth ${c.depth}, components ${c.comps.map((i) => COMP_NAMES[i] ?? i).join('+')}, moves ${c.moves.join(' ')}${warm}`;
}

export function checkText(r: CheckResult, label: string): string {
  const rate = r.seconds > 0 ? `, ${Math.round(r.states / r.seconds).toLocaleString('en-US')} states/s` : '';
  const head = `check ${label}: ${boundsLine(r.config)}\n${r.states.toLocaleString('en-US')} distinct states, ${r.transitions.toLocaleString('en-US')} transitions, ${r.seconds.toFixed(2)} s${rate}\n`;
  if (!r.finding) return head + (r.exhaustive ? `no violation: every interleaving up to depth ${r.depthReached} explored\n` : `no violation found, but the ${r.stoppedBy === 'memory' ? `memory bound (${MAX_IMAGE_BYTES / 2 ** 30} GiB of stored XSAVE images)` : 'state bound'} was hit at depth ${r.depthReached}: not exhaustive\n`);
  return head + `VIOLATION of ${r.finding.invariant} after ${r.finding.path.length} moves (breadth-first: no shorter path exists within these bounds)\n`;
}

/** The numbered story of a counterexample, with the ftrace events each step emitted. */
export function storyText(steps: readonly ReplayedMove[], finding: { invariant: string; detail: string } | null, withTrace: boolean): string {
  const out: string[] = [];
  steps.forEach((s, i) => {
    out.push(`${String(i + 1).padStart(3)}. ${describeMove(s.move)}`);
    if (withTrace) for (const e of s.trace) out.push(`       ${formatFtraceLine(e).trim()}`);
  });
  if (finding) out.push(`  ✗ ${finding.invariant}: ${finding.detail}`, ...(INVARIANTS[finding.invariant] ? [`    (${finding.invariant}: ${INVARIANTS[finding.invariant]})`] : []));
  return out.join('\n') + '\n';
}
