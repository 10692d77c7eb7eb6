/**
 * The catalogue of kinds of x86 CPU state a kernel has to manage across context switches (seed 003,
 * Andy Lutomirski's list of 2020-08-03, extended with the other kinds Linux switches today): for each,
 * whose state it logically is, whether it changes what the kernel itself does, where the silicon keeps
 * it, how Linux saves and loads it, whether (and by which trap) it can be loaded lazily, what that
 * costs, the Linux versions of the current behaviour, and which switchlab policies model it.
 *
 * Pure data, no behaviour. Facts are paraphrased from the cited sources (never copied code); cost
 * figures appear only where /work/shared/reference/cost-figures.md gives them, with its strength
 * label ([M] measured, [M-2] secondary, [D] derived, [E] estimate). "[mem]" in a text marks a detail
 * recalled rather than re-read in a source.
 */

/** Whose state it logically is (how Linux treats it, which is not always where the silicon puts it). */
export type StateScope = 'per-thread' | 'per-mm' | 'per-cpu';

/** Where the state lives. MSR indices are hex strings ("0xd93"), as in arch/x86/include/asm/msr-index.h. */
export type StateLocation =
  | { readonly kind: 'register'; readonly name: string }
  | { readonly kind: 'msr'; readonly name: string; readonly index: string }
  | { readonly kind: 'xsave'; readonly component: number; readonly supervisor: boolean }
  | { readonly kind: 'memory'; readonly name: string };

/**
 * How Linux saves and loads it:
 *  - xsave-image: a user component of the task's FPU image (XSAVE/XRSTOR family, with x87..AVX-512);
 *  - xsaves-image: a supervisor component of that image (XSAVES/XRSTORS, enabled in IA32_XSS);
 *  - exit-to-user: the load is deferred to the return to user mode (TIF_NEED_FPU_LOAD, 5.2+);
 *  - switch-to: written eagerly in __switch_to / __switch_to_xtra;
 *  - switch-mm: written in switch_mm_irqs_off (only when the mm changes);
 *  - first-use-trap: set up by a trap handler on the thread's first use;
 *  - ipi-on-change: pushed to the CPUs running the mm by an IPI when it changes;
 *  - perf-sched: installed and removed by perf when it schedules a per-task event in and out;
 *  - cpu-init: written once per CPU at bring-up, never per task;
 *  - kvm-guest: only KVM guest contexts carry it;
 *  - not-switched: the host kernel never switches it.
 */
export type SaveLoadMechanism =
  | 'xsave-image'
  | 'xsaves-image'
  | 'exit-to-user'
  | 'switch-to'
  | 'switch-mm'
  | 'first-use-trap'
  | 'ipi-on-change'
  | 'perf-sched'
  | 'cpu-init'
  | 'kvm-guest'
  | 'not-switched';

/** The trap that lets (or let) the state be loaded on first use: #NM with CR0.TS, #NM with IA32_XFD, a #GP fixup. */
export type LazyTrap = 'none' | 'nm-cr0-ts' | 'nm-xfd' | 'gp-fixup';

/**
 * When Linux loads it today: eagerly at the switch; deferred to exit-to-user without a trap; by a
 * trap on each first use after a switch; by a trap only on the thread's first use ever (then with the
 * image); or not at all.
 */
export type LoadTiming = 'eager' | 'deferred' | 'trap' | 'first-use' | 'not-switched';

/** Order of magnitude of switching it: none; low (tens of cycles); medium (~100-1000 cycles); high (µs: 8 KiB images, allocation, IPIs). */
export type CostClass = 'none' | 'low' | 'medium' | 'high';

/** cost-figures.md's labels: [M] measured, [M-2] secondary source, [D] derived, [E] estimate, [M/E] a maintainer's figure, or a qualitative statement. */
export type FigureStrength = 'M' | 'M-2' | 'D' | 'E' | 'M/E' | 'qualitative';

export interface CostFigure {
  readonly what: string;
  readonly value: string;
  readonly strength: FigureStrength;
  /** Section and source id in /work/shared/reference/cost-figures.md. */
  readonly citation: string;
}

/** current: mainline today (6.18); kvm-only: mainline, for KVM guests only; not-merged: posted, never merged. */
export type LinuxStatus = 'current' | 'kvm-only' | 'not-merged';

export interface LinuxRange {
  readonly status: LinuxStatus;
  /** First mainline release with the behaviour in saveLoad ("≤4.0": already there in the oldest version the model covers); null if never merged. */
  readonly since: string | null;
  /** Last release with it; null while it is still current. */
  readonly until: string | null;
  readonly note: string;
}

export const FPU_POLICY_NAMES = ['deferred', 'eager', 'lazy-ts', 'rfc-2016'] as const;
export const XBUF_DESIGN_NAMES = ['vmalloc', 'vmalloc-cache', 'percpu-bounce', 'kmap-window'] as const;
export const PKRU_POLICY_NAMES = ['eager', 'xstate-eager', 'in-xstate'] as const;
export const PASID_POLICY_NAMES = ['gp-fixup', 'switch-mm', 'switch-mm-cmp', 'ipi-all'] as const;

/** A switchlab policy or design that models the state kind: src/policies/{fpu,xbuf,pkru,pasid}/. */
export type PolicyRef =
  | { readonly family: 'fpu'; readonly name: (typeof FPU_POLICY_NAMES)[number] }
  | { readonly family: 'xbuf'; readonly name: (typeof XBUF_DESIGN_NAMES)[number] }
  | { readonly family: 'pkru'; readonly name: (typeof PKRU_POLICY_NAMES)[number] }
  | { readonly family: 'pasid'; readonly name: (typeof PASID_POLICY_NAMES)[number] };

export type PolicyFamily = PolicyRef['family'];

/** Every policy name of each family (what a row may mention). */
export const POLICY_NAMES: Readonly<Record<PolicyFamily, readonly string[]>> = {
  fpu: FPU_POLICY_NAMES,
  xbuf: XBUF_DESIGN_NAMES,
  pkru: PKRU_POLICY_NAMES,
  pasid: PASID_POLICY_NAMES,
};

export interface StateKind {
  /** Stable identifier (kebab-case). */
  readonly key: string;
  readonly name: string;
  readonly scope: StateScope;
  /** Its value changes what the kernel itself does (e.g. PKRU checks copy_to_user), so it must be right whenever the kernel runs on the task's behalf. */
  readonly affectsKernel: boolean;
  readonly where: readonly StateLocation[];
  readonly saveLoad: { readonly mechanisms: readonly SaveLoadMechanism[]; readonly detail: string };
  readonly lazy: { readonly trap: LazyTrap; readonly timing: LoadTiming; readonly detail: string };
  readonly cost: { readonly class: CostClass; readonly figures: readonly CostFigure[]; readonly note: string };
  readonly linux: LinuxRange;
  /** switchlab policies/designs that model it (empty: not modeled). */
  readonly policies: readonly PolicyRef[];
  readonly notes: string;
  /** Where each fact comes from: seed 003, the SDM, Linux files, the reference notes. */
  readonly source: readonly string[];
}

const FPU_ALL: readonly PolicyRef[] = FPU_POLICY_NAMES.map((name) => ({ family: 'fpu', name }));
const XBUF_ALL: readonly PolicyRef[] = XBUF_DESIGN_NAMES.map((name) => ({ family: 'xbuf', name }));
const PKRU_ALL: readonly PolicyRef[] = PKRU_POLICY_NAMES.map((name) => ({ family: 'pkru', name }));
const PASID_ALL: readonly PolicyRef[] = PASID_POLICY_NAMES.map((name) => ({ family: 'pasid', name }));

const reg = (name: string): StateLocation => ({ kind: 'register', name });
const msr = (name: string, index: string): StateLocation => ({ kind: 'msr', name, index });
const xsave = (component: number, supervisor = false): StateLocation => ({ kind: 'xsave', component, supervisor });
const mem = (name: string): StateLocation => ({ kind: 'memory', name });

const SEED_EXTENDED =
  'seed 003 (Andy Lutomirski, LKML 2020-08-03): "Normal extended state (FPU, XMM, etc): genuinely per thread and only ever used explicitly. Actually makes sense with XSAVE(C/S)."';
const SDM_XSAVE = 'Intel SDM Vol. 1 ch. 13 "Managing State Using the XSAVE Feature Set" (state components, XSAVE-managed state)';
const LINUX_FPU_SWITCH =
  'Linux arch/x86/include/asm/fpu/sched.h (switch_fpu), arch/x86/kernel/fpu/context.h (fpregs_restore_userregs), arch/x86/kernel/fpu/core.c';
const REF_FPU_SWITCH = 'reference/linux-fpu-spec.md §1.3, §1.6, §2 (eras: lazy ≤4.8, eager 4.9-5.1, deferred 5.2+)';

/** The switch of the user FPU image: shared by x87, SSE, AVX, AVX-512, AMX TILECFG and APX. */
const IMAGE_SAVE_LOAD = {
  mechanisms: ['xsave-image', 'exit-to-user'] as const,
  detail:
    'Saved with the whole user image (XSAVES, XSAVEC, XSAVEOPT or XSAVE; FXSAVE without XSAVE) by switch_fpu when the outgoing task\'s registers are live (TIF_NEED_FPU_LOAD clear); restored by XRSTOR(S) only on the way back to user mode (switch_fpu_return -> fpregs_restore_userregs), and not at all when fpregs_state_valid() still holds (this CPU\'s owner is the task and its last_cpu is this CPU), e.g. after only kernel threads ran. Kernel threads and user workers are never saved.',
};

const IMAGE_LAZY = {
  trap: 'nm-cr0-ts' as const,
  timing: 'deferred' as const,
  detail:
    'Architecturally lazy-loadable: with CR0.TS set the first x87/SSE/AVX/AVX-512 instruction raises #NM. Linux used that until 4.8 (lazy mode, preloading a task that used the FPU in its last 5 slices; eager by default from 4.6) and removed it in 4.9 (reference/linux-fpu-spec.md §2.3; cost-figures.md C20 cites 4.14 from a third-party checker); LazyFP (CVE-2018-3665) later showed lazy restore leaks state speculatively. Since 5.2 the load is deferred to exit-to-user with no trap at all.',
};

const IMAGE_FIGURES: readonly CostFigure[] = [
  {
    what: 'XRSTOR of an x87+SSE+AVX image (832 B) in an eager context switch, KVM guest, 3993 MHz',
    value: '165 ns ≈ 660 cycles',
    strength: 'M',
    citation: 'cost-figures.md §1, C1',
  },
  { what: 'XSAVEOPT of the same image, same setting', value: '58 ns ≈ 230 cycles', strength: 'M', citation: 'cost-figures.md §1, C1' },
  { what: '"FPU store + restore", Haswell 3.6 GHz', value: '≈ 32 ns ≈ 115 cycles', strength: 'M', citation: 'cost-figures.md §1, C2' },
];

const LAZY_NM_FIGURE: CostFigure = {
  what: 'lazy #NM path: trap round trip plus CR0.TS writes',
  value: '≈ 300-600 cycles + 100-200 per CR0 write',
  strength: 'E',
  citation: 'cost-figures.md §6, C23',
};

const IMAGE_LINUX: LinuxRange = {
  status: 'current',
  since: '5.2',
  until: null,
  note: 'Deferred restore (TIF_NEED_FPU_LOAD) since 5.2; 4.9-5.1 eager restore in switch_fpu_finish; ≤4.8 lazy via CR0.TS possible. The newest form (one switch_fpu(old, cpu), ≈6.15 [mem]) changes nothing for the state itself.',
};

const imageKind = (k: Pick<StateKind, 'key' | 'name' | 'where' | 'notes' | 'source'> & Partial<StateKind>): StateKind => ({
  scope: 'per-thread',
  affectsKernel: false,
  saveLoad: IMAGE_SAVE_LOAD,
  lazy: IMAGE_LAZY,
  cost: {
    class: 'medium',
    figures: [...IMAGE_FIGURES, LAZY_NM_FIGURE],
    note: 'x87, SSE and AVX (and AVX-512 where present) move in one XSAVE/XRSTOR pair: the figures are for the whole image, not this component alone.',
  },
  linux: IMAGE_LINUX,
  policies: FPU_ALL,
  ...k,
});

export const STATE_KINDS: readonly StateKind[] = [
  imageKind({
    key: 'x87',
    name: 'x87 FPU state (ST0-ST7, FCW, FSW, FTW, FOP, FIP, FDP)',
    where: [reg('ST0-ST7, FCW, FSW, FTW, FOP, FIP, FDP'), xsave(0), mem('task fpstate->regs (struct fpstate)')],
    notes:
      'On AMD parts without XSAVEERPTR, FXSAVE/XSAVE keep the error pointers only when FSW.ES is set, so Linux executes a dummy x87 load before restoring another task\'s image (X86_BUG_FXSAVE_LEAK). kernel_fpu_begin runs FNINIT only on 32-bit (KFPU_387).',
    source: [SEED_EXTENDED, `${SDM_XSAVE}, component 0`, LINUX_FPU_SWITCH, REF_FPU_SWITCH, 'reference/xsave-arch-spec.md §6 (AMD FIP/FDP leak)'],
  }),
  imageKind({
    key: 'sse',
    name: 'SSE state (XMM0-XMM15, MXCSR)',
    where: [reg('XMM0-XMM15, MXCSR'), xsave(1), mem('task fpstate->regs')],
    notes:
      'MXCSR travels with component 1 (and with YMM); kernel_fpu_begin loads the default MXCSR 0x1f80 for kernel SIMD code after saving the user value, and nothing is restored at kernel_fpu_end (the user image comes back at exit to user).',
    source: [SEED_EXTENDED, `${SDM_XSAVE}, component 1`, LINUX_FPU_SWITCH, 'reference/linux-fpu-spec.md §3.1 (kernel_fpu_begin_mask)'],
  }),
  imageKind({
    key: 'avx',
    name: 'AVX state (upper halves of YMM0-YMM15)',
    where: [reg('YMM0-YMM15 bits 255:128'), xsave(2), mem('task fpstate->regs')],
    notes: 'Saved and restored in the same instruction as x87 and SSE; the init optimization writes nothing for it while it is in its init state (XINUSE[2] = 0).',
    source: [SEED_EXTENDED, `${SDM_XSAVE}, component 2`, LINUX_FPU_SWITCH, REF_FPU_SWITCH],
  }),
  imageKind({
    key: 'avx512',
    name: 'AVX-512 state (opmask k0-k7, ZMM_Hi256, Hi16_ZMM)',
    where: [reg('k0-k7, ZMM0-ZMM15 bits 511:256, ZMM16-ZMM31'), xsave(5), xsave(6), xsave(7), mem('task fpstate->regs')],
    cost: {
      class: 'medium',
      figures: [
        ...IMAGE_FIGURES,
        { what: 'extra for AVX-512 state (+1.6 KiB) over the AVX switch', value: '+80 (Sapphire Rapids) to +160 (Skylake-SP) cycles', strength: 'E', citation: 'cost-figures.md §7' },
        LAZY_NM_FIGURE,
      ],
      note: 'Rides in the same XSAVE/XRSTOR pair as x87..AVX; the extra is the 1.6 KiB of components 5-7 when they are in use.',
    },
    notes:
      'Each save that finds ZMM_Hi256/Hi16_ZMM in use records fpu->avx512_timestamp (shown in /proc/<pid>/arch_status). Three components, one row: Linux never treats them separately.',
    source: [SEED_EXTENDED, `${SDM_XSAVE}, components 5-7`, LINUX_FPU_SWITCH, 'reference/linux-fpu-spec.md §1.1 (avx512_timestamp)'],
  }),
  imageKind({
    key: 'amx-tilecfg',
    name: 'AMX TILECFG (tile configuration, 64 bytes)',
    where: [reg('TILECFG (LDTILECFG/STTILECFG)'), xsave(17), mem('task fpstate->regs (default buffer)')],
    lazy: {
      trap: 'none',
      timing: 'deferred',
      detail:
        'Not XFD-capable (CPUID 0xD.17 ECX[2] = 0 on Sapphire Rapids), so it sits in every 5.16+ default buffer and moves with x87..AVX-512; only TILEDATA is trapped on first use.',
    },
    cost: {
      class: 'low',
      figures: [
        {
          what: 'XSAVE(S) / XRSTOR(S) of an RFBM 0x202E7 image (x87, SSE, AVX, AVX-512, PKRU, TILECFG), AMX-capable Intel',
          value: '"latency:100" / "latency:99" (trace_clock units, ns)',
          strength: 'M',
          citation: 'cost-figures.md §1, C3 (illustrative example in a patch description)',
        },
      ],
      note: '64 bytes in the same instruction as the rest of the image; the marginal cost is small.',
    },
    linux: { status: 'current', since: '5.16', until: null, note: 'AMX support (fpu_kernel_cfg / struct fpstate rework) in 5.16; switched as in the deferred era.' },
    notes: 'TILERELEASE (issued by idle before deep C-states, fpu_idle_fpregs) returns TILECFG and TILEDATA to init and makes the CPU forget its owner.',
    source: [
      'seed 003: "TILE: genuinely per-thread, but it\'s expensive so it\'s lazy-loadable."',
      `${SDM_XSAVE}, component 17 (AMX)`,
      'Linux arch/x86/kernel/fpu/xstate.c (XFEATURE_MASK_USER_DYNAMIC = XTILE_DATA only), arch/x86/kernel/fpu/core.c (fpu_idle_fpregs)',
      'reference/xsave-arch-spec.md §1 (CPUID 0xD.17 ECX = 2 on SPR), reference/linux-fpu-spec.md §2.7, §7',
    ],
  }),
  {
    key: 'amx-tiledata',
    name: 'AMX TILEDATA (TMM0-TMM7, 8 KiB)',
    scope: 'per-thread',
    affectsKernel: false,
    where: [reg('TMM0-TMM7'), xsave(18), mem('vzalloc\'ed struct fpstate after the first use (fpu->fpstate, is_valloc)')],
    saveLoad: {
      mechanisms: ['first-use-trap', 'xsave-image', 'exit-to-user'],
      detail:
        'Needs ARCH_REQ_XCOMP_PERM (recorded in the group leader\'s fpu->perm). The default buffer has no room for it and the task\'s fpstate->xfd keeps IA32_XFD[18] armed; the first tile instruction raises #NM with XFD_ERR[18] set, handle_xfd_event -> fpstate_realloc vzalloc()s a larger buffer, clears bit 18 of the task\'s xfd, and from then on the 8 KiB travel with the image like x87..AVX-512. The buffer never shrinks; exec goes back to the embedded default; a fork child starts without it (armed again, permission inherited).',
    },
    lazy: {
      trap: 'nm-xfd',
      timing: 'first-use',
      detail:
        'The only XFD-capable component (CPUID 0xD.18 ECX[2]). Linux uses XFD for first-use permission and allocation, not as a per-switch lazy restore; an unused TILEDATA costs nothing to save thanks to the init optimization (XINUSE[18] = 0). Seed 003: the lazy-load mechanism "reuses #NM, and it\'s not fully disambiguated from the other use of #NM" - the handler tells the two apart by reading IA32_XFD_ERR.',
    },
    cost: {
      class: 'high',
      figures: [
        { what: 'XRSTOR(S) of 8 KiB TILEDATA, Sapphire Rapids', value: '≈ +150-300 cycles over the non-AMX restore', strength: 'E', citation: 'cost-figures.md §1' },
        { what: 'XSAVE(S) of 8 KiB TILEDATA', value: '≈ +150-300 cycles; 0 extra when XINUSE[18] = 0', strength: 'E', citation: 'cost-figures.md §1' },
        { what: 'extra for AMX TILEDATA in a switch, Sapphire Rapids', value: '+400 cycles (≈ 160 save + 240 restore)', strength: 'E', citation: 'cost-figures.md §7' },
        { what: 'vzalloc(8-12 KiB) on the first #NM (fpstate_realloc)', value: '≈ 2-5 µs', strength: 'E', citation: 'cost-figures.md §4' },
        { what: 'vfree of the buffer; lazy vmap purge later', value: 'vfree ≈ 0.5-1 µs; purge ≈ one all-CPU shootdown amortised over many vfrees', strength: 'E', citation: 'cost-figures.md §4' },
      ],
      note: 'The switch cost only applies while the tiles are in use; allocation and the vfree-induced TLB flush are what the buffer designs (seed 000) trade against each other.',
    },
    linux: { status: 'current', since: '5.16', until: null, note: 'Dynamic features, struct fpstate, XFD and ARCH_REQ_XCOMP_PERM arrived together in 5.16.' },
    policies: [...FPU_ALL, ...XBUF_ALL],
    notes:
      'Buffer designs (seed 000, Dave Hansen 2020-10-14): plain vmalloc (Linux), vmalloc with a cache against vfree IPIs, a per-CPU contiguous bounce buffer with memcpy to a page array, and a kmap-style window mapping the pages for each XSAVE*/XRSTOR* (a few local INVLPGs).',
    source: [
      'seed 003: "TILE: genuinely per-thread, but it\'s expensive so it\'s lazy-loadable. But the lazy-load mechanism reuses #NM, and it\'s not fully disambiguated from the other use of #NM."',
      'seed 000 (Dave Hansen, LKML 2020-10-14: the four buffer designs)',
      `${SDM_XSAVE}, component 18 and extended feature disable (IA32_XFD, IA32_XFD_ERR)`,
      'Linux arch/x86/kernel/fpu/xstate.c (xstate_request_perm, fpstate_realloc), arch/x86/kernel/traps.c (handle_xfd_event), arch/x86/kernel/fpu/core.c (fpu_clone)',
      'reference/linux-fpu-spec.md §7, reference/xsave-arch-spec.md §5',
    ],
  },
  imageKind({
    key: 'apx',
    name: 'APX extended GPRs (R16-R31)',
    where: [reg('R16-R31'), xsave(19), mem('task fpstate->regs')],
    lazy: { trap: 'none', timing: 'deferred', detail: 'Not XFD-capable; it moves with the rest of the user image at exit to user.' },
    cost: { class: 'low', figures: [], note: '128 bytes in the same XSAVE/XRSTOR pair; no figure in cost-figures.md.' },
    linux: {
      status: 'current',
      since: '6.16',
      until: null,
      note: '50c5b071e283 "x86/fpu/apx: Enable APX state support"; a CPU that enumerates both APX and MPX gets no XSAVE at all (APX reuses MPX\'s standard offset 960).',
    },
    notes: 'General-purpose registers in the XSAVE image: the FPU policies carry it like any user component; no built-in switchlab profile enumerates it.',
    source: [
      SEED_EXTENDED,
      `${SDM_XSAVE}, component 19`,
      'Linux arch/x86/kernel/fpu/xstate.c (APX/MPX conflict check)',
      'src/kernel/fpu/xstate-history.ts (userSupported, 6.16)',
      'reference/xsave-arch-spec.md §1',
    ],
  }),
  {
    key: 'pkru',
    name: 'PKRU (user protection-key rights)',
    scope: 'per-thread',
    affectsKernel: true,
    where: [reg('PKRU (RDPKRU/WRPKRU)'), xsave(9), mem('thread_struct.pkru (tasks not running, 5.14+)')],
    saveLoad: {
      mechanisms: ['switch-to'],
      detail:
        '5.14+: __switch_to -> x86_pkru_load stores prev->pkru = RDPKRU and runs WRPKRU(next->pkru) only if the two differ; the return-to-user restore never loads it from the XSAVE buffer (XFEATURE_MASK_FPSTATE excludes it). fork copies the live value, exec writes the init value (key 0 only), signal delivery (6.12+) writes the frame with all keys enabled and runs the handler with the init value; ptrace reads and writes thread.pkru.',
    },
    lazy: {
      trap: 'none',
      timing: 'eager',
      detail:
        'Cannot be lazy: the kernel\'s own accesses to user memory on the task\'s behalf (copy_to_user, get_user_pages) are checked against it, so it must hold the next task\'s value before switch_to returns. The 5.2-5.13 deferred-FPU kernels already special-cased it (switch_fpu_finish read it from the buffer and wrote it eagerly).',
    },
    cost: {
      class: 'low',
      figures: [
        { what: 'WRPKRU', value: '≈ 20-30 cycles', strength: 'E', citation: 'cost-figures.md §2' },
        { what: 'RDPKRU', value: '≈ 1-2 cycles', strength: 'E', citation: 'cost-figures.md §2' },
        { what: 'WRPKRU ordering', value: 'never speculative; later PKRU-checked accesses wait for it (partial serialization)', strength: 'qualitative', citation: 'cost-figures.md §2, C6' },
      ],
      note: 'Linux skips WRPKRU when prev and next hold the same value.',
    },
    linux: {
      status: 'current',
      since: '5.14',
      until: null,
      note: '4.6-5.13 it lived in the XSAVE image (restored with it; 5.0/5.1-5.13 switch_fpu_finish wrote it from the buffer): the in-xstate policy. 954436989cc5 "x86/fpu: Remove PKRU handling from switch_fpu_finish()" (5.14) introduced x86_pkru_load: the eager policy.',
    },
    policies: PKRU_ALL,
    notes: 'A user register that gates kernel accesses: seed 003\'s example of per-user-thread kernel-affecting state that "does not make sense with XRSTOR(C/S), but it\'s in there anyway".',
    source: [
      'seed 003: "PKRU: affects CPL0-originated memory accesses, so it needs to be eagerly loaded in the kernel. Does not make sense with XRSTOR(C/S), but it\'s in there anyway."',
      'Intel SDM Vol. 3A "Protection Keys" (paging chapter); Vol. 1 ch. 13, component 9',
      'Linux arch/x86/kernel/process_64.c (x86_pkru_load), arch/x86/kernel/fpu/core.c, arch/x86/kernel/fpu/signal.c',
      'reference/linux-fpu-spec.md §1.7, §2.5',
    ],
  },
  {
    key: 'pkrs',
    name: 'PKRS (supervisor protection-key rights)',
    scope: 'per-thread',
    affectsKernel: true,
    where: [msr('IA32_PKRS', '0x6e1'), mem('thread_struct.saved_pkrs (as proposed)')],
    saveLoad: {
      mechanisms: ['switch-to'],
      detail:
        'Never merged. Ira Weiny\'s PKS series (2020-2022) kept a per-thread saved_pkrs, wrote it from __switch_to_xtra via write_pkrs() with a per-CPU pkrs_cache that skips identical writes, and reset it at exec (flush_thread). Not in any XSAVE component.',
    },
    lazy: {
      trap: 'none',
      timing: 'eager',
      detail: 'Like PKRU it gates CPL0 accesses, so it could never be lazy; seed 003 asks for "a clean way to load per-user-thread *kernel* register state (e.g. PKRU and probably PKRS)".',
    },
    cost: {
      class: 'low',
      figures: [],
      note: 'No figure in cost-figures.md. The series states WRMSR(IA32_PKRS) is not serializing but ordered like WRPKRU; the class is a judgement on that basis.',
    },
    linux: {
      status: 'not-merged',
      since: null,
      until: null,
      note: 'Posted 2020-2022 for PMEM stray-write protection (LPC 2021, LSFMM 2022: kernel-side PKS "remains unsupported" on x86, LWN 894531).',
    },
    policies: [],
    notes: 'Per-thread state that changes what the kernel itself may touch, kept in an MSR.',
    source: [
      'seed 003: "a clean way to load per-user-thread *kernel* register state (e.g. PKRU and probably PKRS)"',
      'Intel SDM Vol. 3A "Protection Keys" (supervisor keys, IA32_PKRS); MSR index as in QEMU/KVM unit tests (0x6e1)',
      'PKS patch series (Ira Weiny, LKML 2020-2021: arch/x86/kernel/process.c pks_sched_in, arch/x86/mm/pkeys.c write_pkrs)',
      'LWN 894531 "Seeking an API for protection keys supervisor" (2022)',
    ],
  },
  {
    key: 'cr3',
    name: 'CR3 (page-table root and PCID)',
    scope: 'per-mm',
    affectsKernel: true,
    where: [reg('CR3 (PGD physical address, PCID bits 11:0, NOFLUSH bit 63)'), mem('mm->pgd, mm->context.ctx_id/tlb_gen; per-CPU cpu_tlbstate (loaded_mm, 6 ASID slots)')],
    saveLoad: {
      mechanisms: ['switch-mm'],
      detail:
        'switch_mm_irqs_off: same mm -> nothing, unless the CPU was in lazy TLB mode and the mm\'s tlb_gen moved on (then flush). Different mm -> process-switch mitigations (IBPB, L1D flush), join mm_cpumask, choose_new_asid among the 6 dynamic ASIDs (round-robin eviction), write CR3 with NOFLUSH when that ASID\'s tlb_gen is current, publish loaded_mm, then update CR4.PCE and the LDT. Kernel threads keep the previous CR3. With PTI every kernel entry and exit writes CR3 as well (user and kernel PCIDs).',
    },
    lazy: {
      trap: 'none',
      timing: 'eager',
      detail:
        'Not trap-lazy, but lazy in two other ways: kernel threads borrow whatever mm is loaded (enter_lazy_tlb), and flushes for an mm on a lazy CPU are skipped and caught up at its next switch through tlb_gen.',
    },
    cost: {
      class: 'medium',
      figures: [
        { what: 'MOV to CR3 without PCID (full non-global flush)', value: '≈ 200-300 cycles + refill (TLB miss ≈ 20-100 cycles each)', strength: 'E', citation: 'cost-figures.md §3, C15' },
        { what: 'MOV to CR3 with PCID and NOFLUSH', value: '≈ 100-200 cycles, no refill', strength: 'E', citation: 'cost-figures.md §3' },
        { what: 'CR3 write in PTI entry code', value: '"99%+ of the cost is going to be that cr3 write" (Linus, 2017)', strength: 'qualitative', citation: 'cost-figures.md §3, C14' },
        { what: 'KPTI overhead, syscall-heavy: no PCID vs PCID', value: '≈ 30%+ vs ≈ 5%', strength: 'M-2', citation: 'cost-figures.md §3, C15' },
      ],
      note: 'The indirect cost (TLB refill) dominates without PCID.',
    },
    linux: {
      status: 'current',
      since: '4.14',
      until: null,
      note: 'PCID with 6 dynamic ASIDs and tlb_gen ("PCID and improved laziness", Andy Lutomirski, 2017); lazy mm_cpumask trimming (Nov 2024) and global ASIDs with INVLPGB (≈6.15 [mem]) refine it.',
    },
    policies: [],
    notes: 'Seed 003: per-mm state that "makes some sense in CR3, but it\'s tangled up with CR4 in nasty ways" (CR4.PCIDE, CR4.PCE per mm, CR4.PGE flushes).',
    source: [
      'seed 003: "CR3: per-mm state. Makes some sense in CR3, but it\'s tangled up with CR4 in nasty ways."',
      'Intel SDM Vol. 3A "Paging" (CR3, process-context identifiers)',
      'Linux arch/x86/mm/tlb.c (switch_mm_irqs_off, choose_new_asid, flush_tlb_func), arch/x86/include/asm/tlbflush.h',
      'reference/x86-mm-spec.md §1',
    ],
  },
  {
    key: 'ldtr',
    name: 'LDTR (local descriptor table)',
    scope: 'per-mm',
    affectsKernel: false,
    where: [reg('LDTR (LLDT)'), mem('mm->context.ldt (immutable struct ldt_struct)')],
    saveLoad: {
      mechanisms: ['switch-mm', 'ipi-on-change'],
      detail:
        'switch_mm_irqs_off ends with switch_ldt, which loads LDTR only when prev or next has an LDT. modify_ldt builds a new immutable ldt_struct, publishes it with a release store and pushes it to every CPU in mm_cpumask with on_each_cpu_mask(..., flush_ldt) - the IPI pattern Andy proposed for PASID. PTI kernels map it through a per-mm slot [mem].',
    },
    lazy: { trap: 'none', timing: 'eager', detail: 'Loaded at switch_mm; most processes have no LDT, so usually nothing is loaded at all.' },
    cost: {
      class: 'low',
      figures: [{ what: 'IPI round trip (modify_ldt\'s flush_ldt; figure measured for TLB shootdowns)', value: '≈ 1-3 µs, growing with the number of targets', strength: 'M-2', citation: 'cost-figures.md §3, C11' }],
      note: 'Switching is nearly free for processes without an LDT; the IPI is paid only when a process changes its LDT.',
    },
    linux: { status: 'current', since: '4.2', until: null, note: 'Synchronous modify_ldt with the mm_cpumask IPI: 37868fe113ff "x86/ldt: Make modify_ldt synchronous" (2015) [mem].' },
    policies: [],
    notes: 'Seed 003: "per-mm on Linux and mostly obsolete everyone. In it\'s own register, so it\'s not a big deal."',
    source: [
      'seed 003: "LDTR: per-mm on Linux and mostly obsolete everyone. In it\'s own register, so it\'s not a big deal."',
      'Intel SDM Vol. 3A "Protected-Mode Memory Management" (segment descriptor tables, LDTR)',
      'Linux arch/x86/kernel/ldt.c (install_ldt, flush_ldt), arch/x86/include/asm/mmu_context.h (switch_ldt, load_mm_ldt)',
    ],
  },
  {
    key: 'pasid',
    name: 'PASID (IA32_PASID, for ENQCMD)',
    scope: 'per-mm',
    affectsKernel: false,
    where: [
      msr('IA32_PASID', '0xd93'),
      xsave(10, true),
      mem('the mm\'s PASID (mm->iommu_mm since 6.8 [mem]); task->pasid_activated'),
    ],
    saveLoad: {
      mechanisms: ['first-use-trap', 'xsaves-image', 'exit-to-user'],
      detail:
        '5.18+: allocated once per mm at the first SVA bind, freed at mm exit. A thread\'s first ENQCMD takes #GP (valid bit 31 clear); try_fixup_enqcmd_gp, with interrupts still off so the registers are live, WRMSRs PASID | VALID, sets pasid_activated and retries the instruction. From then on XSAVES/XRSTORS carry it with the FPU image. fork clears the component in the child. Nothing is propagated to other CPUs.',
    },
    lazy: {
      trap: 'gp-fixup',
      timing: 'first-use',
      detail:
        'Seed 003: lazy-loadable, "but the mechanism for telling the kernel that a lazy load is needed got flubbed" - a plain #GP, so the handler guesses (ENQCMD enumerated, the mm has a PASID, the thread not yet activated). 5.10-5.13 instead pushed it at switch_to and by IPI to mm_cpumask (update_pasid), removed as "broken beyond repair" (9bfecd058339) because the IPI could land inside an fpregs_lock() section.',
    },
    cost: {
      class: 'medium',
      figures: [
        { what: 'WRMSR IA32_PASID', value: '≈ 100-200 cycles', strength: 'E', citation: 'cost-figures.md §2' },
        { what: 'IPI round trip to the CPUs of the mm (the ipi-all design; figure measured for TLB shootdowns)', value: '≈ 1-3 µs', strength: 'M-2', citation: 'cost-figures.md §3, C11' },
        { what: 'shootdown-style IPI model', value: 'base ≈ 1 µs + ≈ 200 ns per receiving CPU', strength: 'M-2', citation: 'cost-figures.md §3, C12' },
      ],
      note: 'gp-fixup pays one #GP and one WRMSR per thread, once; switch-mm pays a cache-line read (and a write unless compared first) on every mm switch.',
    },
    linux: {
      status: 'current',
      since: '5.18',
      until: null,
      note: '5.10: update_pasid from switch_to and IPI; force-disabled in 5.13-rc (9bfecd058339); re-enabled with the #GP fixup in 5.18 (tip x86-pasid-2022-03-21).',
    },
    policies: PASID_ALL,
    notes:
      'Seed 003\'s proposal: load_mm_pasid() at the end of switch_mm_irqs_off writes next\'s PASID into the task\'s xstate (switch-mm), or compares first so the common case does not dirty the line (switch-mm-cmp); a PASID change is then on_each_cpu_mask(mm_cpumask(mm), load_mm_pasid) - "maybe 20 lines" against the ~200-line smp_call_function_many version (ipi-all).',
    source: [
      'seed 003: "PASID: per-mm state ... in an MSR (which is slow), and it\'s cleverly, but not that cleverly, accessible with XSAVES/XRSTORS ... PASID is lazy-loadable, but the mechanism for telling the kernel that a lazy load is needed got flubbed." (and the load_mm_pasid proposal)',
      'Intel SDM Vol. 1 ch. 13 (component 10, PASID state); Vol. 2 ENQCMD; IA32_PASID 0xD93 in Linux arch/x86/include/asm/msr-index.h',
      'Linux arch/x86/kernel/traps.c (try_fixup_enqcmd_gp), arch/x86/kernel/fpu/core.c (fpu_clone), drivers/iommu/iommu-sva.c',
      'reference/x86-mm-spec.md §3, reference/linux-fpu-spec.md §10',
    ],
  },
  {
    key: 'kernel-gs-base',
    name: 'IA32_KERNEL_GS_BASE (the inactive GS base: the user GS base while in the kernel)',
    scope: 'per-thread',
    affectsKernel: false,
    where: [msr('IA32_KERNEL_GS_BASE', '0xc0000102'), mem('thread_struct.gsbase')],
    saveLoad: {
      mechanisms: ['switch-to'],
      detail:
        'After SWAPGS on kernel entry it holds the user GS base. save_fsgs: with FSGSBASE (5.9+) read as SWAPGS; RDGSBASE; SWAPGS (__rdgsbase_inactive) and written back the same way for next (RDMSR/WRMSR under FRED or Xen PV). Without FSGSBASE the saved value is trusted when the selector is 0 (no RDMSR on the hot path) and load_seg_legacy WRMSRs it only when next uses a 64-bit base.',
    },
    lazy: { trap: 'none', timing: 'eager', detail: 'No trap can signal its use; it is switched at every switch_to between user tasks.' },
    cost: { class: 'low', figures: [], note: 'Two SWAPGS and one RDGSBASE/WRGSBASE each way with FSGSBASE; a WRMSR otherwise. No figure in cost-figures.md; the class is a judgement.' },
    linux: { status: 'current', since: '5.9', until: null, note: 'FSGSBASE enablement in 5.9; FRED kernels (6.9+ [mem]) load it with LKGS.' },
    policies: [],
    notes: 'Seed 003: "logically per-user-thread state, but it\'s only accessible in MSRs. For some reason this is *not* in XSAVES/XRSTORS state, nor is there any efficient way to access it at all."',
    source: [
      'seed 003: "KERNEL_GS_BASE, i.e. the shadow GS base. This is logically per-user-thread state, but it\'s only accessible in MSRs."',
      'Intel SDM Vol. 2 SWAPGS, RDGSBASE/WRGSBASE; Vol. 4 IA32_KERNEL_GS_BASE',
      'Linux arch/x86/kernel/process_64.c (save_fsgs, __rdgsbase_inactive, __wrgsbase_inactive, load_seg_legacy)',
    ],
  },
  {
    key: 'fs-gs-base',
    name: 'FS and GS segment bases (user TLS)',
    scope: 'per-thread',
    affectsKernel: false,
    where: [msr('IA32_FS_BASE', '0xc0000100'), msr('IA32_GS_BASE', '0xc0000101'), reg('FS/GS hidden bases (RDFSBASE/WRFSBASE)'), mem('thread_struct.fsbase, gsbase')],
    saveLoad: {
      mechanisms: ['switch-to'],
      detail:
        'x86_fsgsbase_load in __switch_to: with FSGSBASE, RDFSBASE for prev and WRFSBASE for next every time (user code may have changed it without telling the kernel); without it, WRMSR FS_BASE only when next uses a 64-bit base. The user GS base sits in IA32_KERNEL_GS_BASE while in the kernel (see kernel-gs-base); IA32_GS_BASE itself holds the kernel\'s per-CPU base in kernel mode and is never switched per task.',
    },
    lazy: { trap: 'none', timing: 'eager', detail: 'User code reads it implicitly on every FS-relative access; nothing traps.' },
    cost: { class: 'low', figures: [], note: 'RDFSBASE/WRFSBASE are cheap register moves; the legacy path pays a WRMSR. No figure in cost-figures.md.' },
    linux: { status: 'current', since: '5.9', until: null, note: 'FSGSBASE (user-visible WRFSBASE) enabled in 5.9; before, bases were switched with WRMSR and guessed from selectors.' },
    policies: [],
    notes: 'Part of what seed 003 calls CPL3 register state for which there is no "clean way to load".',
    source: [
      'seed 003: "It would be really nice if we had ... a clean way to load CPL3 register state"',
      'Intel SDM Vol. 3A "Segment Loading Instructions in IA-32e Mode"; Vol. 4 IA32_FS_BASE / IA32_GS_BASE',
      'Linux arch/x86/kernel/process_64.c (save_fsgs, x86_fsgsbase_load), arch/x86/include/asm/msr-index.h',
    ],
  },
  {
    key: 'segments',
    name: 'Segment selectors DS, ES, FS, GS (and the TLS descriptors)',
    scope: 'per-thread',
    affectsKernel: false,
    where: [reg('DS, ES, FS, GS selectors and hidden descriptor caches'), mem('thread_struct ds, es, fsindex, gsindex; tls_array (3 GDT TLS entries)')],
    saveLoad: {
      mechanisms: ['switch-to'],
      detail:
        '__switch_to saves the selectors (MOV from Sreg), writes next\'s three TLS descriptors into this CPU\'s GDT (load_TLS) and reloads a selector only if prev\'s or next\'s is nonzero. CS and SS come back from pt_regs on IRET/SYSRET (plus the AMD SYSRET SS fix-up). The hidden parts cannot be read back: a null selector 1-3 may keep an arbitrary base on AMD (X86_BUG_NULL_SEG), which Linux never preserves.',
    },
    lazy: { trap: 'none', timing: 'eager', detail: 'Not lazy; the common case (all selectors 0 in 64-bit code) loads nothing.' },
    cost: { class: 'low', figures: [], note: 'Usually no segment load at all; each load is a descriptor-table access. No figure in cost-figures.md.' },
    linux: { status: 'current', since: '≤4.0', until: null, note: 'The save/reload-if-nonzero rule predates the versions the model covers; the base handling changed with FSGSBASE (5.9).' },
    policies: [],
    notes: 'Seed 003: segment registers "can\'t be properly saved except by hypervisors, and can almost, but not quite, be properly loaded ... Just don\'t try to load 1, 2, or 3 into any of them."',
    source: [
      'seed 003: "Segment registers: can\'t be properly saved except by hypervisors, and can almost, but not quite, be properly loaded ... Just don\'t try to load 1, 2, or 3 into any of them."',
      'Intel SDM Vol. 3A "Protected-Mode Memory Management" (segment selectors, descriptor caches)',
      'Linux arch/x86/kernel/process_64.c (__switch_to, save_base_legacy, load_seg_legacy, load_TLS)',
    ],
  },
  {
    key: 'xfd',
    name: 'IA32_XFD / IA32_XFD_ERR (extended feature disable)',
    scope: 'per-thread',
    affectsKernel: true,
    where: [msr('IA32_XFD', '0x1c4'), msr('IA32_XFD_ERR', '0x1c5'), mem('fpstate->xfd; per-CPU xfd_state cache')],
    saveLoad: {
      mechanisms: ['exit-to-user'],
      detail:
        'Never saved: the value follows from the task\'s fpstate->xfd (bit 18 armed until the buffer was expanded). xfd_update_state WRMSRs it before every XRSTOR(S) of a task image (restore_fpregs_from_fpstate, sigreturn) and only when it differs from the per-CPU cache, which every write also updates (10e4b5166df9, 2024). The #NM handler reads and clears XFD_ERR; KVM saves and restores the guest\'s XFD_ERR.',
    },
    lazy: { trap: 'none', timing: 'deferred', detail: 'XFD is itself the first-use trap for TILEDATA; it is written with the image at exit to user.' },
    cost: {
      class: 'medium',
      figures: [
        { what: 'WRMSR IA32_XFD (Linux caches the value per CPU because the write is expensive)', value: '≈ 100-200 cycles', strength: 'E', citation: 'cost-figures.md §2, C7' },
        { what: 'RDMSR+WRMSR pair of a passthrough MSR (XFD/XFD_ERR around VM entry)', value: '≈ 100-250 cycles', strength: 'D', citation: 'cost-figures.md §2, C4' },
        { what: 'VM entry + exit round trip, with XFD and XFD_ERR saved and loaded', value: '≈ 1500 cycles; ≈ 2000 with the two MSRs', strength: 'M/E', citation: 'cost-figures.md §2, C4' },
      ],
      note: 'Paid only when consecutive images differ in xfd (an AMX task after a non-AMX one).',
    },
    linux: { status: 'current', since: '5.16', until: null, note: 'With AMX in 5.16; the cache-coherence fix 10e4b5166df9 in 2024.' },
    policies: FPU_ALL,
    notes:
      'A control register, not user data: it decides whether the kernel\'s own XRSTOR(S) loads or init-s TILEDATA, hence affectsKernel. The four FPU policies share the kernel core\'s xfd_update_state (src/kernel/fpu/core.ts).',
    source: [
      'seed 003 (TILE paragraph: the #NM lazy-load mechanism XFD provides)',
      `${SDM_XSAVE}, "Extended Feature Disable (XFD)"; IA32_XFD 0x1C4 / IA32_XFD_ERR 0x1C5 in Linux arch/x86/include/asm/msr-index.h`,
      'Linux arch/x86/kernel/fpu/xstate.h (xfd_update_state), arch/x86/kernel/fpu/core.c (restore_fpregs_from_fpstate), arch/x86/kernel/traps.c (handle_xfd_event)',
      'reference/linux-fpu-spec.md §1.3, §7.2, reference/xsave-arch-spec.md §5',
    ],
  },
  {
    key: 'cet-user',
    name: 'CET user state (IA32_U_CET, IA32_PL3_SSP: user shadow stack)',
    scope: 'per-thread',
    affectsKernel: false,
    where: [msr('IA32_U_CET', '0x6a0'), msr('IA32_PL3_SSP', '0x6a7'), xsave(11, true)],
    saveLoad: {
      mechanisms: ['xsaves-image', 'exit-to-user'],
      detail:
        '6.6+ user shadow stacks (arch_prctl ARCH_SHSTK_ENABLE): both MSRs are in the XSAVES supervisor part of the image and switch with the FPU state. Kernel code that reads or changes them (signal delivery pushing a token and moving SSP, sigreturn, clone giving the child its own SSP in fpu_clone) first makes the registers live with fpregs_lock_and_load(), or edits the buffer.',
    },
    lazy: { trap: 'none', timing: 'deferred', detail: 'Restored with the image at exit to user; no trap.' },
    cost: { class: 'low', figures: [], note: '16 bytes inside the XSAVES/XRSTORS of the image; no figure in cost-figures.md.' },
    linux: { status: 'current', since: '6.6', until: null, note: 'User shadow stack support in 6.6 ("x86/fpu/xstate: Introduce CET MSR and XSAVES supervisor states"); user IBT is not supported.' },
    policies: [],
    notes: 'Supervisor-managed state holding user-mode values: the FPU policies would carry component 11 in an XSAVES image, but switchlab models no shadow stacks.',
    source: [
      'Intel SDM Vol. 1 "Control-flow Enforcement Technology (CET)"; Vol. 1 ch. 13, component 11',
      'Linux arch/x86/kernel/shstk.c, arch/x86/kernel/fpu/core.c (fpu_clone ssp, fpregs_lock_and_load), arch/x86/kernel/fpu/xstate.c',
      'MSR indices: Linux arch/x86/include/asm/msr-index.h (MSR_IA32_U_CET 0x6a0, MSR_IA32_PL3_SSP 0x6a7)',
      'src/kernel/fpu/xstate-history.ts (supervisorSupported: CET_USER 6.6)',
    ],
  },
  {
    key: 'cet-kernel',
    name: 'CET supervisor shadow-stack pointers (IA32_PL0_SSP..PL2_SSP)',
    scope: 'per-thread',
    affectsKernel: true,
    where: [msr('IA32_PL0_SSP', '0x6a4'), msr('IA32_PL1_SSP', '0x6a5'), msr('IA32_PL2_SSP', '0x6a6'), xsave(12, true)],
    saveLoad: {
      mechanisms: ['not-switched', 'kvm-guest'],
      detail:
        'Linux has no kernel shadow stacks, so the host never loads them (IA32_S_CET, 0x6a2, is not in any XSAVE component either). 6.6-6.16 boot logs name component 12 "(unused)"; 6.17 made it a guest-only supervisor feature (XFEATURE_MASK_GUEST_SUPERVISOR, 8b05b3c98816): KVM guest fpstates carry it, task buffers never do.',
    },
    lazy: { trap: 'none', timing: 'not-switched', detail: 'Not switched for host tasks.' },
    cost: { class: 'none', figures: [], note: 'Nothing for host tasks; 24 bytes in a guest\'s XSAVES image.' },
    linux: { status: 'kvm-only', since: '6.17', until: null, note: 'Guest-only in 6.17 ("Control-flow Kernel registers (KVM only)").' },
    policies: [],
    notes: 'Would be per-thread kernel-affecting state (one kernel shadow stack per task) if Linux used supervisor shadow stacks.',
    source: [
      'Intel SDM Vol. 1 "Control-flow Enforcement Technology (CET)"; Vol. 1 ch. 13, component 12',
      'Linux arch/x86/kernel/fpu/xstate.c (xfeature names, guest supervisor features), arch/x86/include/asm/msr-index.h (MSR_IA32_PL0_SSP 0x6a4 .. PL2 0x6a6)',
      'src/kernel/fpu/xstate-history.ts (guestOnlySupervisor, 6.17), src/kernel/fpu/bootlog.ts',
    ],
  },
  {
    key: 'debug-regs',
    name: 'Debug registers DR0-DR3, DR6, DR7',
    scope: 'per-thread',
    affectsKernel: true,
    where: [reg('DR0-DR3, DR6, DR7'), mem('thread_struct.ptrace_bps[] (perf events), virtual_dr6; per-CPU cpu_dr7, cpu_debugreg[]')],
    saveLoad: {
      mechanisms: ['perf-sched'],
      detail:
        'Since the 2.6.33 hw_breakpoint rework, ptrace breakpoints (PTRACE_POKEUSER of DR0-7) and perf breakpoints are perf events: a per-task event gets a free DR slot (arch_install_hw_breakpoint, DR7 shadowed per CPU in cpu_dr7) when perf schedules the task in and loses it when it schedules out. Before that __switch_to_xtra loaded DR0-7 from the thread when TIF_DEBUG was set. The #DB handler saves and clears DR7 while it runs [mem].',
    },
    lazy: {
      trap: 'none',
      timing: 'eager',
      detail:
        'No lazy loading for tasks: user code cannot read or write DRs, and a breakpoint must be armed to fire at all. DR7.GD makes MOV DR raise #DB, which is a hypervisor\'s tool; KVM switches guest DRs lazily through MOV-DR exits instead [mem].',
    },
    cost: { class: 'low', figures: [], note: 'Zero for tasks without breakpoints; MOV to DR is slow but rare. No figure in cost-figures.md.' },
    linux: { status: 'current', since: '≤4.0', until: null, note: 'perf-based hw_breakpoint since 2.6.33; DR6 handling reworked in the 5.10-era #DB rework [mem].' },
    policies: [],
    notes: 'Kernel-affecting: a data breakpoint on a user address also fires on the kernel\'s own uaccess to it (a #DB from kernel mode).',
    source: [
      'Intel SDM Vol. 3B "Debug Registers" (debug, branch profile, TSC and resource monitoring chapter)',
      'Linux arch/x86/kernel/hw_breakpoint.c, kernel/events/hw_breakpoint.c, arch/x86/kernel/ptrace.c; the TIF_DEBUG form of __switch_to_xtra (2.6.x)',
    ],
  },
  {
    key: 'tsc-aux',
    name: 'IA32_TSC_AUX (CPU and node number for RDTSCP/RDPID)',
    scope: 'per-cpu',
    affectsKernel: false,
    where: [msr('IA32_TSC_AUX', '0xc0000103'), mem('GDT CPUNODE descriptor limit (LSL-based getcpu)')],
    saveLoad: {
      mechanisms: ['cpu-init'],
      detail:
        'setup_getcpu() writes (node << 12) | cpu at CPU bring-up when RDTSCP or RDPID exists, and stores the same value in the limit of a per-CPU GDT descriptor; the vDSO getcpu reads it. Never switched for tasks. KVM loads a guest\'s value through its user-return MSR list and restores the host value only when the vCPU thread returns to user space [mem].',
    },
    lazy: { trap: 'none', timing: 'not-switched', detail: 'Constant per CPU on the host (KVM\'s user-return restore is the only lazy path).' },
    cost: { class: 'none', figures: [], note: 'Nothing at a context switch.' },
    linux: { status: 'current', since: '≤4.0', until: null, note: 'Written at CPU init long before 4.0; the setup_getcpu() form and RDPID use are later [mem].' },
    policies: [],
    notes: 'Genuinely per-CPU state that user code reads: it must not be switched.',
    source: [
      'Intel SDM Vol. 2 RDTSCP, RDPID; Vol. 4 IA32_TSC_AUX',
      'Linux arch/x86/kernel/cpu/common.c (setup_getcpu), arch/x86/include/asm/segment.h (vdso_encode_cpunode), arch/x86/kvm/x86.c (user-return MSRs)',
    ],
  },
  {
    key: 'spec-ctrl',
    name: 'IA32_SPEC_CTRL (IBRS, STIBP, SSBD ...)',
    scope: 'per-thread',
    affectsKernel: true,
    where: [msr('IA32_SPEC_CTRL', '0x48'), mem('TIF_SSBD, TIF_SPEC_IB task flags; per-CPU current SPEC_CTRL value')],
    saveLoad: {
      mechanisms: ['switch-to'],
      detail:
        '__switch_to_xtra -> __speculation_ctrl_update: when prev\'s and next\'s TIF_SSBD or TIF_SPEC_IB differ, WRMSR SPEC_CTRL with next\'s SSBD/STIBP bits on top of the per-CPU base value (or the AMD LS_CFG / VIRT_SPEC_CTRL equivalents), skipping the write if the value is unchanged [mem]. IBPB (PRED_CMD 0x49, a command rather than state) is issued in switch_mm between processes. With retbleed\'s KERNEL_IBRS (5.19) SPEC_CTRL is also written on every kernel entry and exit.',
    },
    lazy: { trap: 'none', timing: 'eager', detail: 'It protects the kernel and other tasks, so it cannot wait for a trap.' },
    cost: { class: 'medium', figures: [], note: 'A WRMSR, only when the per-task bits differ; no figure in cost-figures.md.' },
    linux: { status: 'current', since: '4.20', until: null, note: 'Per-task SSBD (prctl) 4.17, conditional per-task STIBP 4.20 [mem]; KERNEL_IBRS on entry 5.19.' },
    policies: [],
    notes: 'Mixed scope: the MSR is per CPU, the SSBD/STIBP bits follow the task, IBRS-style bits are global policy.',
    source: [
      'Intel SDM Vol. 4 IA32_SPEC_CTRL / IA32_PRED_CMD (0x48 / 0x49 in Linux arch/x86/include/asm/msr-index.h)',
      'Linux arch/x86/kernel/process.c (__switch_to_xtra, __speculation_ctrl_update), arch/x86/kernel/cpu/bugs.c, arch/x86/mm/tlb.c (cond_mitigation)',
    ],
  },
  {
    key: 'uintr',
    name: 'User interrupts (UINTR: UIHANDLER, UISTACKADJUST, UIRR, UINTR_MISC, UPID, UITT)',
    scope: 'per-thread',
    affectsKernel: false,
    where: [
      msr('IA32_UINTR_RR', '0x985'),
      msr('IA32_UINTR_HANDLER', '0x986'),
      msr('IA32_UINTR_STACKADJUST', '0x987'),
      msr('IA32_UINTR_MISC', '0x988'),
      msr('IA32_UINTR_PD', '0x989'),
      msr('IA32_UINTR_TT', '0x98a'),
      xsave(14, true),
      mem('receiver\'s UPID (posted-interrupt descriptor); sender\'s UITT'),
    ],
    saveLoad: {
      mechanisms: ['xsaves-image', 'exit-to-user'],
      detail:
        'Never merged. The RFC (Sohil Mehta, Sep 2021) put component 14 in the XSAVES image so it switches with the FPU state; switch_uintr_prepare set UPID.SN (suppress notifications) when a receiver was switched out, and switch_uintr_return, at exit to user after the FPU reload, pointed UPID.NDST at the new CPU, restored UINV in UINTR_MISC (XSAVES clears it) and re-raised interrupts posted meanwhile.',
    },
    lazy: { trap: 'none', timing: 'deferred', detail: 'As proposed: with the image at exit to user; no trap.' },
    cost: { class: 'low', figures: [], note: '48 bytes of XSAVES state plus UPID updates; no figure in cost-figures.md.' },
    linux: { status: 'not-merged', since: null, until: null, note: 'RFC v1 "x86 User Interrupts support" (LKML, Sep 2021); later revisions did not land.' },
    policies: [],
    notes: 'Per-thread state whose delivery also depends on which CPU the thread is on (UPID.NDST), so a switch has to touch memory other CPUs read.',
    source: [
      'Intel SDM "User Interrupts" chapter; Vol. 1 ch. 13, component 14',
      'UINTR RFC (LKML 2021-09: arch/x86/kernel/uintr_core.c switch_uintr_prepare, switch_uintr_return; MSRs 0x985-0x98a)',
      'reference/xsave-arch-spec.md §1 (component 14, 48 bytes)',
    ],
  },
  {
    key: 'arch-lbr',
    name: 'Architectural LBR (IA32_LBR_CTL, depth, FROM/TO/INFO records)',
    scope: 'per-thread',
    affectsKernel: false,
    where: [
      msr('IA32_LBR_CTL', '0x14ce'),
      msr('IA32_LBR_DEPTH', '0x14cf'),
      msr('IA32_LBR_x_FROM_IP (first)', '0x1500'),
      msr('IA32_LBR_x_TO_IP (first)', '0x1600'),
      msr('IA32_LBR_x_INFO (first)', '0x1200'),
      xsave(15, true),
      mem('perf per-task context (task_ctx_data)'),
    ],
    saveLoad: {
      mechanisms: ['perf-sched'],
      detail:
        'IA32_XSS enables component 15 but Linux keeps it out of the FPU image (XFEATURE_MASK_INDEPENDENT). perf saves and restores only that component with XSAVES/XRSTORS into the event\'s task context from its sched_task hook when a per-task LBR call-stack event exists, and can skip the restore when nothing touched the LBRs since [mem].',
    },
    lazy: { trap: 'none', timing: 'eager', detail: 'Switched by perf at sched out/in, only for tasks with LBR call-stack events.' },
    cost: { class: 'medium', figures: [], note: '808 bytes (0x328) on Sapphire Rapids with 32 records; no figure in cost-figures.md.' },
    linux: { status: 'current', since: '5.9', until: null, note: 'Arch LBR and XSAVES-based LBR context switch (Kan Liang) in 5.9.' },
    policies: [],
    notes: 'The "independent" supervisor component: XSAVES-managed, but not by the FPU code.',
    source: [
      'Intel SDM Vol. 3B "Last Branch Records" (architectural LBR); Vol. 1 ch. 13, component 15',
      'Linux arch/x86/events/intel/lbr.c (arch LBR XSAVES/XRSTORS), arch/x86/include/asm/fpu/types.h (XFEATURE_MASK_INDEPENDENT), arch/x86/include/asm/msr-index.h (0x14ce, 0x14cf, 0x1500, 0x1600, 0x1200)',
      'reference/xsave-arch-spec.md §1, src/kernel/fpu/xstate-history.ts (XFEATURE_MASK_INDEPENDENT)',
    ],
  },
  {
    key: 'intel-pt',
    name: 'Intel Processor Trace state (IA32_RTIT_* MSRs)',
    scope: 'per-thread',
    affectsKernel: false,
    where: [
      msr('IA32_RTIT_CTL', '0x570'),
      msr('IA32_RTIT_STATUS', '0x571'),
      msr('IA32_RTIT_OUTPUT_BASE', '0x560'),
      msr('IA32_RTIT_OUTPUT_MASK_PTRS', '0x561'),
      xsave(8, true),
    ],
    saveLoad: {
      mechanisms: ['perf-sched'],
      detail:
        'perf\'s intel_pt driver programs the RTIT MSRs when an event is scheduled in and out (per task or per CPU). Linux never lists component 8 among the supervisor features of task buffers, so XSAVES never carries it; KVM\'s PT virtualization switches the MSRs by hand [mem].',
    },
    lazy: { trap: 'none', timing: 'eager', detail: 'Switched by perf when a per-task PT event exists.' },
    cost: { class: 'medium', figures: [], note: 'Several WRMSRs per switch while tracing; no figure in cost-figures.md.' },
    linux: { status: 'current', since: '4.1', until: null, note: 'perf intel_pt driver since 4.1 [mem].' },
    policies: [],
    notes: 'Per-thread or per-CPU depending on the perf event; an XSAVES component that Linux deliberately leaves unused.',
    source: [
      'Intel SDM Vol. 3C "Intel Processor Trace"; Vol. 1 ch. 13, component 8',
      'Linux arch/x86/events/intel/pt.c, arch/x86/include/asm/msr-index.h (MSR_IA32_RTIT_*)',
      'src/kernel/fpu/xstate-history.ts (supervisorSupported never includes PT)',
    ],
  },
  {
    key: 'pqr-assoc',
    name: 'IA32_PQR_ASSOC (resctrl CLOSID and RMID)',
    scope: 'per-thread',
    affectsKernel: true,
    where: [msr('IA32_PQR_ASSOC', '0xc8f'), mem('task closid/rmid (resctrl group); per-CPU pqr_state cache')],
    saveLoad: {
      mechanisms: ['switch-to'],
      detail:
        '__switch_to ends with resctrl_sched_in(next): the task\'s CLOSID and RMID (or the CPU\'s default group) are written to PQR_ASSOC only when they differ from the per-CPU cached pair [mem].',
    },
    lazy: { trap: 'none', timing: 'eager', detail: 'Cache allocation and monitoring must follow the task at once.' },
    cost: { class: 'medium', figures: [], note: 'One WRMSR when the group changes; no figure in cost-figures.md.' },
    linux: { status: 'current', since: '4.10', until: null, note: 'Intel RDT allocation (resctrl filesystem) 4.10 [mem]; resctrl_sched_in name from the 5.0 rename [mem].' },
    policies: [],
    notes: 'Kernel-affecting: the kernel\'s own memory traffic on the task\'s behalf is allocated and counted under the task\'s class.',
    source: [
      'Intel SDM Vol. 3B "Intel Resource Director Technology (Intel RDT)" (IA32_PQR_ASSOC)',
      'Linux arch/x86/kernel/process_64.c (__switch_to: resctrl_sched_in), arch/x86/include/asm/resctrl.h',
    ],
  },
  {
    key: 'tif-ctl',
    name: 'Per-task control bits switched by __switch_to_xtra (CR4.TSD, CPUID faulting, DEBUGCTL.BTF)',
    scope: 'per-thread',
    affectsKernel: false,
    where: [reg('CR4.TSD'), msr('MSR_MISC_FEATURES_ENABLES (bit 0: CPUID faulting)', '0x140'), msr('IA32_DEBUGCTL (bit 1: BTF)', '0x1d9'), mem('TIF_NOTSC, TIF_NOCPUID, TIF_BLOCKSTEP; per-CPU CR4 shadow')],
    saveLoad: {
      mechanisms: ['switch-to'],
      detail:
        '__switch_to_xtra (entered only when prev or next has a context-switch TIF flag): toggles CR4.TSD through the per-CPU CR4 shadow when TIF_NOTSC differs (PR_SET_TSC), calls set_cpuid_faulting when TIF_NOCPUID differs (ARCH_SET_CPUID), and rewrites DEBUGCTL.BTF when either task has TIF_BLOCKSTEP (PTRACE_SINGLEBLOCK).',
    },
    lazy: { trap: 'none', timing: 'eager', detail: 'Each changes what the next user instruction does (RDTSC, CPUID, single-step), so it is set at the switch.' },
    cost: { class: 'low', figures: [], note: 'Nothing unless the flags differ; then a CR4 write or WRMSR. No figure in cost-figures.md.' },
    linux: { status: 'current', since: '4.12', until: null, note: 'CPUID faulting (ARCH_SET_CPUID) joined the older TSD and BTF bits in 4.12 [mem].' },
    policies: [],
    notes: 'Representative of the flag-driven "extra" work of a switch; the I/O permission bitmap (TIF_IO_BITMAP) is similar but is applied at exit to user.',
    source: [
      'Intel SDM Vol. 3A (CR4.TSD); Vol. 4 MSR_MISC_FEATURES_ENABLES, IA32_DEBUGCTL (0x140, 0x1d9 in Linux arch/x86/include/asm/msr-index.h)',
      'Linux arch/x86/kernel/process.c (__switch_to_xtra)',
    ],
  },
];

/** The row with this key (undefined if none). */
export function stateKind(key: string): StateKind | undefined {
  return STATE_KINDS.find((s) => s.key === key);
}
