/*
 * switchlab, checker deliverable 6: the `deferred` FPU policy (Linux 5.2+, as 6.18 does it) as a
 * Promela model, the same abstract machine `switchlab check` explores for
 *
 *   policy deferred, CPU profile zen3-vm (XSAVES/XRSTORS, XCR0 = x87|SSE|AVX, AMD: XINUSE follows the
 *   value, modified optimization), comps [1] (SSE), moves write, syscall, return, switch,
 *   kfpu-softirq and (with -DSIGNALS) signal, sigreturn.
 *
 * Written from the model's own sources (src/check/explore.ts, src/kernel/*, src/policies/fpu/
 * deferred.ts, src/arch/xsave/instructions.ts), not from Linux. Every variable below is one field of
 * the explorer's state key (hashState of the kernel state + the oracle's shadow, saved and inSys) in
 * a small encoding; fields of the key that never change in this machine are left out. The count of
 * distinct states pan stores (exhaustive, -DNOREDUCE) is the explorer's `states` plus one: pan also
 * stores the all-zero state before the boot d_step (see docs/spin.md).
 *
 * Parameters (spin -D...): NCPU (1..2), NTASK (1..4, NTASK >= NCPU), SIGNALS (defined or not).
 * Each move is one d_step, so a move is one transition, as one BFS edge is for the explorer.
 */

#ifndef NCPU
#define NCPU 2
#endif
#ifndef NTASK
#define NTASK 3
#endif

#define NONE 255          /* no task (owner: fpu_fpregs_owner_ctx == NULL; last_cpu == -1) */
#define IDLE 254          /* the CPU's idle task (swapper/N) */

/* Values of a register or buffer slot (tokens): init state, the kernel FPU code's value, and two
 * values per task (the explorer's tagOf(pid, 0|1): `write` alternates between them). */
#define INIT 0
#define KERN 1
#define TAG(t, w) (2 + 2 * (t) + (w))

/* XRSTOR_INFO's linear address (the tracking tuple of the modified optimization, SDM 13.6): the last
 * XRSTOR* on a CPU came from a task's fpstate buffer, from init_fpstate or from a task's signal frame. */
#define TRK_BUF(t) (t)
#define TRK_INIT 16
#define TRK_FRAME(t) (32 + (t))

/* ---------------------------------------------------------------- per CPU (struct Cpu, XState) */
byte curr[NCPU];     /* rq->curr: a task index or IDLE */
byte owner[NCPU];    /* fpu_fpregs_owner_ctx: the task whose registers the CPU holds, or NONE */
byte rq[NCPU * NTASK]; /* run queue, in order (rq[c * NTASK + i], i < rqlen[c]): runnable, not running */
byte rqlen[NCPU];
byte sse[NCPU];      /* XMM registers (component 1): a token; XINUSE[1] == (sse != INIT) on AMD */
bool avx[NCPU];      /* YMM upper halves (component 2): INIT or KERN (only kernel FPU code writes them) */
bool xmod1[NCPU];    /* XMODIFIED[1], [2]: written since the last XRSTOR*; the other bits of XMODIFIED */
bool xmod2[NCPU];    /*   are ~RFBM of that XRSTOR*, a function of trk (kernel or user feature mask) */
byte trk[NCPU];      /* XRSTOR_INFO address: TRK_BUF / TRK_INIT / TRK_FRAME (always valid, CPL 0) */
bool pkrudef[NCPU];  /* cpu->pkru: 0 at boot, init_pkru_value once pkru_write_default() ran here */
byte cpumm[NCPU];    /* cpu->mm: the mm last loaded by switch_mm (one per task; kernel threads borrow) */

/* ---------------------------------------------------------------- per task (struct task_struct) */
bool load[NTASK];    /* TIF_NEED_FPU_LOAD */
bool inuser[NTASK];  /* executing user code */
byte last[NTASK];    /* fpu->last_cpu, or NONE */
bool mmseen[NTASK];  /* its mm_struct record exists (created at its first switch_mm; mm_cpumask = its CPU) */
bool bv1[NTASK];     /* its fpstate buffer (XSAVES compacted image): XSTATE_BV[1], [2] */
bool bv2[NTASK];
byte slot1[NTASK];   /* the bytes of the SSE / AVX slots (stale when the XSTATE_BV bit is clear) */
bool slot2[NTASK];
bool pend[NTASK];    /* SIGUSR1 pending */
bool frame[NTASK];   /* a signal frame is live (one level of handlers) */
byte fsse[NTASK];    /* the frame's XSAVE image (standard format, FP|SSE always in XSTATE_BV): SSE, */
bool favx[NTASK];    /*   AVX slot bytes and */
bool fbv2[NTASK];    /*   XSTATE_BV[2] */

/* ---------------------------------------------------------------- the explorer's oracle */
byte shadow[NTASK];  /* the value the task last wrote (INIT before its first write / in a handler) */
byte saved[NTASK];   /* the interrupted context's shadow while a handler runs */
bool insys[NTASK];   /* inside a system call (the explorer's inSys) */

#define CPU(t) ((t) % NCPU)   /* no migration: task t stays on the CPU it was spawned on */

/* XSAVES into task t's buffer on CPU c (save_fpregs_to_fpstate / os_xsave). Compacted form:
 * XSTATE_BV = XINUSE & RFBM; a slot is written only when its bit is set and, when XRSTOR_INFO names
 * this buffer, only if XMODIFIED says the register changed since that XRSTORS. */
#define XSAVES_BUF(c, t) \
	bv1[t] = (sse[c] != INIT); \
	bv2[t] = avx[c]; \
	if :: bv1[t] && !(trk[c] == TRK_BUF(t) && !xmod1[c]) -> slot1[t] = sse[c] :: else -> skip fi; \
	if :: bv2[t] && !(trk[c] == TRK_BUF(t) && !xmod2[c]) -> slot2[t] = avx[c] :: else -> skip fi

/* XRSTORS from task t's buffer (restore_fpregs_from_fpstate): a component whose XSTATE_BV bit is
 * clear gets its init value; XMODIFIED := ~RFBM, XRSTOR_INFO := this buffer. */
#define XRSTORS_BUF(c, t) \
	sse[c] = (bv1[t] -> slot1[t] : INIT); \
	avx[c] = (bv2[t] -> slot2[t] : 0); \
	xmod1[c] = 0; xmod2[c] = 0; trk[c] = TRK_BUF(t)

/* fpregs_restore_userregs(): reload unless fpregs_state_valid() (owner == fpu && last_cpu == cpu);
 * then fpregs_activate, last_cpu := cpu; TIF_NEED_FPU_LOAD cleared either way. */
#define RESTORE_USERREGS(c, t) \
	if :: !(owner[c] == t && last[t] == c) -> XRSTORS_BUF(c, t); owner[c] = t; last[t] = c \
	   :: else -> skip fi; \
	load[t] = 0

/* Signal delivery at exit to user mode (signal.ts deliverSignal): copy_fpstate_to_sigframe makes the
 * registers live (fpregs_restore_userregs if TIF_NEED_FPU_LOAD) and XSAVEs them (standard form, every
 * user component written, XSTATE_BV |= FP|SSE); fpu__clear_user_states XRSTORS init_fpstate (user
 * features), pkru_write_default, fpregs_mark_activate. The oracle: the handler starts from init state,
 * the interrupted value is kept in saved[]. */
#define DELIVER(c, t) \
	if :: pend[t] -> \
		pend[t] = 0; \
		if :: load[t] -> RESTORE_USERREGS(c, t) :: else -> skip fi; \
		frame[t] = 1; fsse[t] = sse[c]; favx[t] = avx[c]; fbv2[t] = avx[c]; \
		sse[c] = INIT; avx[c] = 0; xmod1[c] = 0; xmod2[c] = 0; trk[c] = TRK_INIT; \
		pkrudef[c] = 1; \
		owner[c] = t; last[t] = c; load[t] = 0; \
		saved[t] = shadow[t]; shadow[t] = INIT \
	   :: else -> skip fi

/* exit_to_user_mode (entry.ts returnToUser): pending signals, then switch_fpu_return (the policy's
 * returnToUser: restore if TIF_NEED_FPU_LOAD), then user mode. The task then reads its registers:
 * integrity (its own last value) and confidentiality (nobody else's) are both this assertion. */
#define RETURN_TO_USER(c, t) \
	DELIVER(c, t); \
	if :: load[t] -> RESTORE_USERREGS(c, t) :: else -> skip fi; \
	inuser[t] = 1; \
	assert(sse[c] == shadow[t])

/* The task on CPU c is user task t, running user code. */
#define IN_USER(c, t) (curr[c] == t && inuser[t])
/* ... running in the kernel (a syscall or before its first return). */
#define IN_KERNEL(c, t) (curr[c] == t && !inuser[t])

/* write: user code writes its next value to SSE (XINUSE[1], XMODIFIED[1] set). */
#define WRITE(t) \
	:: d_step { t < NTASK && IN_USER(CPU(t), t) -> \
		shadow[t] = (shadow[t] == TAG(t, 0) -> TAG(t, 1) : TAG(t, 0)); \
		sse[CPU(t)] = shadow[t]; xmod1[CPU(t)] = 1; DUMPSTATE }

/* syscall: sys_enter. */
#define SYSCALL(t) \
	:: d_step { t < NTASK && IN_USER(CPU(t), t) -> inuser[t] = 0; insys[t] = 1; DUMPSTATE }

/* return: sys_exit (if in a syscall), exit_to_user_mode. */
#define RETURN(t) \
	:: d_step { t < NTASK && IN_KERNEL(CPU(t), t) -> insys[t] = 0; RETURN_TO_USER(CPU(t), t); DUMPSTATE }

/* __schedule() on CPU c from prev = curr to next (context_switch): switch_mm for a user next (its mm
 * record and cpu->mm), switch_fpu for prev (deferred.switchOut: a user task with live registers gets
 * TIF_NEED_FPU_LOAD, XSAVES, last_cpu := cpu; the owner keeps pointing at it), prev to the tail of the
 * run queue (not idle), next off it. Nothing is done for next. */
#define SWITCH_OUT(c) \
	if :: curr[c] != IDLE -> \
		if :: !load[curr[c]] -> load[curr[c]] = 1; XSAVES_BUF(c, curr[c]); last[curr[c]] = c \
		   :: else -> skip fi; \
		rq[c * NTASK + rqlen[c]] = curr[c]; rqlen[c]++ \
	   :: else -> skip fi

/* Remove task n from CPU c's run queue, keeping the order. */
#define RQ_REMOVE(c, n) \
	i = 0; \
	do :: i < rqlen[c] && rq[c * NTASK + i] != n -> i++ \
	   :: else -> break od; \
	do :: i + 1 < rqlen[c] -> rq[c * NTASK + i] = rq[c * NTASK + i + 1]; i++ \
	   :: else -> break od; \
	rqlen[c]--; rq[c * NTASK + rqlen[c]] = 0; i = 0

/* switch on CPU c to user task n: when c's current task is idle or in the kernel, n runnable there. */
#define SWITCH_TO(c, n) \
	:: d_step { c < NCPU && n < NTASK && CPU(n) == c && curr[c] != n && \
	            (curr[c] == IDLE || !inuser[curr[c]]) -> \
		mmseen[n] = 1; cpumm[c] = n; \
		SWITCH_OUT(c); RQ_REMOVE(c, n); curr[c] = n; DUMPSTATE }

/* switch on CPU c to its idle task: only from a user task in the kernel. */
#define SWITCH_IDLE(c) \
	:: d_step { c < NCPU && curr[c] != IDLE && !inuser[curr[c]] -> SWITCH_OUT(c); curr[c] = IDLE; DUMPSTATE }

/* kfpu-softirq on CPU c: an interrupt's kernel_fpu_begin() (deferred.kernelFpuBegin: save a user
 * task's live registers, TIF_NEED_FPU_LOAD; __cpu_invalidate_fpregs_state), the section clobbers MXCSR,
 * XMM and YMM, kernel_fpu_end() restores nothing. From user mode the interrupt exits to user mode. */
#define KFPU(c) \
	:: d_step { c < NCPU -> \
		if :: curr[c] != IDLE && !load[curr[c]] -> load[curr[c]] = 1; XSAVES_BUF(c, curr[c]) \
		   :: else -> skip fi; \
		owner[c] = NONE; \
		sse[c] = KERN; avx[c] = 1; xmod1[c] = 1; xmod2[c] = 1; \
		if :: curr[c] != IDLE && inuser[curr[c]] -> j = curr[c]; RETURN_TO_USER(c, j); j = 0 \
		   :: else -> skip fi; DUMPSTATE }

/* signal: SIGUSR1 queued for a task with no signal pending or handled (delivered at its next exit to
 * user mode). */
#define SIGNAL(t) \
	:: d_step { t < NTASK && !pend[t] && !frame[t] -> pend[t] = 1; DUMPSTATE }

/* sigreturn: the handler's rt_sigreturn (signal.ts sigreturn): the frame checks out, XRSTOR (standard
 * form) from it with the user features, fpregs_mark_activate; the oracle's shadow comes back; exit to
 * user mode. */
#define SIGRETURN(t) \
	:: d_step { t < NTASK && IN_USER(CPU(t), t) && frame[t] -> \
		frame[t] = 0; \
		sse[CPU(t)] = fsse[t]; avx[CPU(t)] = (fbv2[t] -> favx[t] : 0); \
		xmod1[CPU(t)] = 0; xmod2[CPU(t)] = 0; trk[CPU(t)] = TRK_FRAME(t); \
		owner[CPU(t)] = t; last[t] = CPU(t); load[t] = 0; \
		fsse[t] = INIT; favx[t] = 0; fbv2[t] = 0; /* the frame is gone (popped) */ \
		shadow[t] = saved[t]; saved[t] = INIT; \
		RETURN_TO_USER(CPU(t), t); DUMPSTATE }

#ifdef SIGNALS
#define SIGMOVES(t) SIGNAL(t) SIGRETURN(t)
#else
#define SIGMOVES(t)
#endif

#define TASK_MOVES(t) WRITE(t) SYSCALL(t) RETURN(t) SIGMOVES(t)
#define CPU_MOVES(c) SWITCH_TO(c, 0) SWITCH_TO(c, 1) SWITCH_TO(c, 2) SWITCH_TO(c, 3) SWITCH_IDLE(c) KFPU(c)

hidden byte i, j; /* scratch of the d_steps (not state: always 0 between moves) */

#ifdef DUMP
/* With -DDUMP and pan compiled with -DPRINTF: every state reached, one line (bench/spin.ts's
 * differential mode compares these lines with the explorer's states, projected the same way). */
hidden byte d, e;
#define DUMPSTATE \
	for (d : 0 .. NCPU - 1) { \
		printf("%d,%d,%d", curr[d], owner[d], rqlen[d]); \
		for (e : 0 .. NTASK - 1) { printf(".%d", rq[d * NTASK + e]) } \
		printf(",%d,%d,%d,%d,%d,%d,%d,", sse[d], avx[d], xmod1[d], xmod2[d], trk[d], pkrudef[d], cpumm[d]) \
	} \
	for (d : 0 .. NTASK - 1) { \
		printf("%d,%d,%d,%d,%d,%d,%d,%d,", load[d], inuser[d], last[d], mmseen[d], bv1[d], bv2[d], slot1[d], slot2[d]); \
		printf("%d,%d,%d,%d,%d,%d,%d,%d,", pend[d], frame[d], fsse[d], favx[d], fbv2[d], shadow[d], saved[d], insys[d]) \
	} \
	printf("\n"); d = 0; e = 0
#else
#define DUMPSTATE skip
#endif

active proctype machine()
{
	byte t, c;
	/* Boot (the explorer's constructor): task t spawned on CPU t % NCPU and woken there; each CPU
	 * switches to its first task, which returns to user mode (XRSTORS of its init-state buffer). */
	d_step {
		for (c : 0 .. NCPU - 1) {
			curr[c] = IDLE; owner[c] = NONE; rqlen[c] = 0
		}
		for (t : 0 .. NTASK - 1) {
			load[t] = 1; last[t] = NONE;
			rq[CPU(t) * NTASK + rqlen[CPU(t)]] = t; rqlen[CPU(t)]++
		}
		for (c : 0 .. NCPU - 1) {
			mmseen[c] = 1; cpumm[c] = c;
			RQ_REMOVE(c, c); curr[c] = c;
			RESTORE_USERREGS(c, c); inuser[c] = 1
		}
		t = 0; c = 0; DUMPSTATE
	}
	do
	TASK_MOVES(0) TASK_MOVES(1) TASK_MOVES(2) TASK_MOVES(3)
	CPU_MOVES(0) CPU_MOVES(1)
	od
}
