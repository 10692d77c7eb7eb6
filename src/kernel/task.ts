/**
 * Creating tasks and their FPU context (struct fpu with its embedded default fpstate).
 */
import { createArea } from '../arch/xsave/area.js';
import type { Kernel } from './kernel.js';
import { FpState, Fpu, Task, TaskKind, TIF_NEED_FPU_LOAD } from './state.js';
import { initFpstateImage } from './fpu/core.js';

/** A new XSAVE buffer of `size` bytes at a fresh, 64-byte aligned kernel address. */
export function newFpstate(k: Pick<Kernel, 'st' | 'cfg' | 'm'>, size: number, dynamic: boolean): FpState {
  const st = k.st;
  const address = st.nextAddr;
  st.nextAddr += (size + 4095) & ~4095; // one buffer per page range: addresses never alias
  const c = k.cfg;
  const fps: FpState = {
    id: st.nextId++,
    area: createArea(address, size),
    size,
    userSize: dynamic ? c.userMaxSize : c.userDefaultSize,
    xfeaturesLo: dynamic ? c.kernelMaxLo : c.kernelDefaultLo,
    xfeaturesHi: dynamic ? c.kernelMaxHi : c.kernelDefaultHi,
    userXfeaturesLo: dynamic ? c.userMaxLo : c.userDefaultLo,
    userXfeaturesHi: dynamic ? c.userMaxHi : c.userDefaultHi,
    xfdLo: dynamic ? 0 : c.initXfdLo,
    xfdHi: dynamic ? 0 : c.initXfdHi,
    isValloc: dynamic,
    isGuest: false,
  };
  initFpstateImage(k, fps);
  return fps;
}

function newFpu(k: Kernel, user: boolean): Fpu {
  const embedded = newFpstate(k, k.cfg.defaultSize, false);
  return {
    id: k.st.nextId++,
    lastCpu: -1,
    fpstate: embedded,
    embedded,
    taskFpstate: null,
    permLo: k.cfg.kernelDefaultLo,
    permHi: k.cfg.kernelDefaultHi,
    guestPermLo: k.cfg.kernelDefaultLo,
    guestPermHi: k.cfg.kernelDefaultHi,
    // A user task has FPU state (pre-5.2 fpstate_active); a kernel thread has none.
    fpstateActive: user,
    fpregsActive: false,
    counter: 0,
  };
}

export interface NewTask {
  pid?: number;
  tgid?: number;
  comm: string;
  kind: TaskKind;
  cpu: number;
  mm?: number;
  parent?: number;
}

/** A task as fpu_clone leaves it for a kernel thread or a fresh user task: TIF_NEED_FPU_LOAD set, never valid. */
export function newTask(k: Kernel, n: NewTask): Task {
  const pid = n.pid ?? k.st.nextPid++;
  if (pid >= k.st.nextPid) k.st.nextPid = pid + 1;
  const t: Task = {
    pid,
    tgid: n.tgid ?? pid,
    comm: n.comm,
    kind: n.kind,
    run: 'runnable',
    cpu: n.cpu,
    inUser: false,
    tif: TIF_NEED_FPU_LOAD,
    fpu: newFpu(k, n.kind === 'user'),
    pkru: 0x5555_5554, // init_pkru_value
    mm: n.mm ?? (n.kind === 'user' ? pid : 0),
    parent: n.parent ?? 0,
    slice: 0,
    runtime: 0,
    pending: [],
    frames: [],
    traced: false,
    nmCount: 0,
    vcpu: null,
    pasidActivated: false,
    altstackSize: 0,
    saves: 0,
    restores: 0,
    switches: 0,
  };
  k.st.tasks.set(pid, t);
  return t;
}

/** swapper/N, the idle task of a CPU (PF_IDLE | PF_KTHREAD), pid 0 as Linux shows it in traces. */
export function newIdleTask(k: Kernel, cpu: number): Task {
  // Every idle task is pid 0 in Linux; the model needs distinct keys, so idle tasks get negative ids
  // (-1 - cpu) and the trace writer prints them as pid 0.
  const t = newTask(k, { pid: -1 - cpu, comm: `swapper/${cpu}`, kind: 'idle', cpu });
  t.run = 'running';
  k.st.nextPid = Math.max(k.st.nextPid, 1);
  return t;
}

export function isKernelThread(t: Task): boolean {
  return t.kind !== 'user';
}
