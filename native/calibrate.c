/*
 * calibrate: microbenchmarks that calibrate switchlab's cycle cost model on this machine
 * (`npm run calibrate`; built and parsed by src/cost/calibration.ts).
 *
 * Built with -O2 -mgeneral-regs-only -pthread -Wl,-z,now. -mgeneral-regs-only: nothing the compiler
 * emits touches x87/SSE/AVX/AVX-512/AMX state, so the register file a setup step loads (by XRSTOR from
 * a prepared image) is exactly what the timed instructions see; there is no floating point anywhere in
 * this file (all arithmetic is fixed point). -z now: no lazy PLT binding, whose resolver saves and
 * restores vector registers with XSAVE(C)/XRSTOR, between a setup and its timed batch. libc is only
 * called outside the XSAVE-family batches (memcpy, syscalls and the output are measured/done with the
 * state explicitly re-initialised first).
 *
 * Method. Time is read with LFENCE;RDTSC;LFENCE before a batch and RDTSCP;LFENCE after it. A figure is
 * `warm-up` unrecorded batches then `reps` recorded ones; each recorded batch gives one sample = (TSC
 * ticks - timer overhead) / operations in the batch. The JSON reports the median, p10 and p90 of the
 * samples (in TSC cycles) and the median in ns (TSC cycles / TSC MHz, the TSC rate being estimated
 * against CLOCK_MONOTONIC_RAW). The TSC ticks at a constant rate; the core clock may differ (turbo,
 * power management, and under a hypervisor the TSC is the host's, possibly scaled), so the harness
 * also estimates the core clock from a chain of dependent ADDs (one cycle each).
 *
 * XSAVE family, for each component set (x87sse = x87|SSE, avx = +AVX, avx512 = +opmask|ZMM_Hi256|
 * Hi16_ZMM, amx = +TILECFG|TILEDATA) present in XCR0, with the set's components in use (loaded by
 * XRSTOR from an image of random data; TILECFG a valid palette-1 configuration of 8 tiles of 16 rows x
 * 64 bytes) or in init state (loaded by XRSTOR with XSTATE_BV = 0); RFBM = the set:
 *   xsave.S.T     XSAVE to a standard-format buffer
 *   xsaveopt.S.T  XSAVEOPT to the buffer the state was just loaded from by XRSTOR (nothing modified since:
 *                 the modified optimization may skip every component)
 *   xsaveopt.S.modified  as above but every component of the set written before each XSAVEOPT (FCHS,
 *                 VPXOR, KXORW, TILELOADD, each undone again); the cost of those writes, measured alone,
 *                 is subtracted
 *   xsavec.S.T    XSAVEC to a compacted buffer
 *   xrstor.S.T    XRSTOR from a standard-format image (XSTATE_BV = the set, or 0 for init)
 *   xrstorc.S.T   XRSTOR from a compacted image (made by XSAVEC of that state)
 * plus fxsave / fxrstor (x87/SSE in use), xgetbv1 (XGETBV with ECX = 1), memcpy.Nk (glibc memcpy of N KiB
 * between L1/L2-resident buffers, N = 1 2 4 8 12 16 32 64), pagefault (first write to a fresh page of an
 * anonymous private mapping, THP off, per page), syscall (syscall(SYS_getppid) round trip), ctxswitch
 * (pipe ping-pong between two processes pinned to one CPU: round trip / 2, so it includes one pipe
 * write and one read), tlbflush.local (one mprotect call changing one present, accessed page RW->RO or
 * RO->RW, and the access after it, in a single-threaded process: the syscall, the PTE change and the
 * local TLB flush) and tlbflush.remote (the same with a second thread of the process spinning in user
 * mode on another CPU, so the flush needs a shootdown IPI; the JSON's tlbRemote counts the shootdown
 * interrupts that CPU took, from /proc/interrupts, and batches in which it took fewer than one per
 * RW->RO->RW round - a paravirtual flush skipped the IPI to a preempted vCPU - are dropped).
 *
 * Usage: calibrate [--quick]   (--quick: fewer repetitions, for tests)
 * Output (stdout): one JSON object: {"harness":"switchlab-calibrate","version":1,"quick":..,"tscMHz":..,
 *   "coreMHz":..,"hypervisor":..,"invariantTsc":..,"xcr0":"0x..","cpu":N,"remoteCpu":N|null,
 *   "timerOverhead":..,"tlbRemote":{"calls","ipis","batches","kept"}|null,"figures":{KEY:{"cycles","ns","p10","p90","n","batch"}|null},"skipped":{KEY:REASON},
 *   "notes":[..]}. Anything the CPU or OS lacks is null in figures with its reason in skipped.
 * Runs unprivileged; takes about 1 s (a few more if remote flushes keep being deferred; never 20 s).
 */
#define _GNU_SOURCE
#include <cpuid.h>
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <setjmp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* ---------------------------------------------------------------- timing */

static int have_rdtscp;

static inline uint64_t tsc_begin(void) {
  uint32_t lo, hi;
  __asm__ volatile("lfence\n\trdtsc\n\tlfence" : "=a"(lo), "=d"(hi)::"memory");
  return (uint64_t)hi << 32 | lo;
}

static inline uint64_t tsc_end(void) {
  uint32_t lo, hi, aux;
  if (have_rdtscp)
    __asm__ volatile("rdtscp\n\tlfence" : "=a"(lo), "=d"(hi), "=c"(aux)::"memory");
  else
    __asm__ volatile("lfence\n\trdtsc\n\tlfence" : "=a"(lo), "=d"(hi)::"memory");
  return (uint64_t)hi << 32 | lo;
}

static uint64_t now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC_RAW, &ts);
  return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static int cmp64(const void *a, const void *b) {
  int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
  return x < y ? -1 : x > y;
}

/* ---------------------------------------------------------------- results */

#define MAXREP 512
#define MAXRES 128

struct result {
  char key[48];
  int ok;
  char reason[200];
  int64_t med, p10, p90; /* milli-cycles per operation */
  int n, batch;
};

static struct result results[MAXRES];
static int nresults;
static int quick;
static int64_t timer_overhead; /* TSC ticks of an empty batch */
static uint64_t tsc_khz;

static struct result *new_result(const char *key) {
  if (nresults == MAXRES) {
    fprintf(stderr, "calibrate: too many results\n");
    exit(3);
  }
  struct result *r = &results[nresults++];
  memset(r, 0, sizeof *r);
  snprintf(r->key, sizeof r->key, "%s", key);
  return r;
}

static void skip(const char *key, const char *reason) {
  struct result *r = new_result(key);
  snprintf(r->reason, sizeof r->reason, "%s", reason);
}

static void summarize(struct result *r, int64_t *v, int n, int batch) {
  static int64_t s[MAXREP];
  memcpy(s, v, (size_t)n * sizeof *s);
  qsort(s, (size_t)n, sizeof *s, cmp64);
  r->ok = 1;
  r->med = s[n / 2];
  r->p10 = s[(n - 1) * 10 / 100];
  r->p90 = s[(n - 1) * 90 / 100];
  r->n = n;
  r->batch = batch;
}

static int64_t median_of(const int64_t *v, int n) {
  static int64_t s[MAXREP];
  memcpy(s, v, (size_t)n * sizeof *s);
  qsort(s, (size_t)n, sizeof *s, cmp64);
  return s[n / 2];
}

/* One figure: warm-up batches, then reps samples of (ticks - overhead) * 1000 / batch, into v. */
typedef void (*fn_t)(void *ctx);
typedef void (*body_t)(void *ctx, int batch);

static void sample(int64_t *v, int reps, int batch, fn_t setup, body_t body, fn_t teardown, void *ctx) {
  int warm = reps / 10 + 2;
  for (int r = -warm; r < reps; r++) {
    if (setup) setup(ctx);
    uint64_t a = tsc_begin();
    body(ctx, batch);
    uint64_t b = tsc_end();
    if (teardown) teardown(ctx);
    if (r >= 0) v[r] = ((int64_t)(b - a) - timer_overhead) * 1000 / batch;
  }
}

static void measure(const char *key, int reps, int batch, fn_t setup, body_t body, fn_t teardown, void *ctx) {
  static int64_t v[MAXREP];
  sample(v, reps, batch, setup, body, teardown, ctx);
  summarize(new_result(key), v, reps, batch);
}

/* Faults (an instruction this CPU or hypervisor rejects after all) turn into a skipped figure. */
static sigjmp_buf fault_jb;
static volatile int fault_sig;

static void on_fault(int sig) {
  fault_sig = sig;
  siglongjmp(fault_jb, 1);
}

/* ---------------------------------------------------------------- CPU features and XSAVE geometry */

static uint64_t xgetbv(uint32_t ecx) {
  uint32_t lo, hi;
  __asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(ecx));
  return (uint64_t)hi << 32 | lo;
}

static int osxsave, has_xsaveopt, has_xsavec, has_xgetbv1, hypervisor, invariant_tsc;
static uint64_t xcr0, all_mask;
static int amx_ok;
static char amx_reason[160];
static uint32_t comp_off[19], comp_size[19];

#define BUFSZ 16384
static unsigned char rnd_img[BUFSZ] __attribute__((aligned(64)));  /* random data, XSTATE_BV = all_mask */
static unsigned char init_img[BUFSZ] __attribute__((aligned(64))); /* XSTATE_BV = 0 */
static unsigned char work[BUFSZ] __attribute__((aligned(64)));
static unsigned char work2[BUFSZ] __attribute__((aligned(64)));
static unsigned char cimg[BUFSZ] __attribute__((aligned(64)));

static void xrstor(const void *p, uint64_t m) {
  __asm__ volatile("xrstor64 (%0)" ::"r"(p), "a"((uint32_t)m), "d"((uint32_t)(m >> 32)) : "memory");
}
static void xsavec(void *p, uint64_t m) {
  __asm__ volatile("xsavec64 (%0)" ::"r"(p), "a"((uint32_t)m), "d"((uint32_t)(m >> 32)) : "memory");
}

static uint64_t rng = 0x9e3779b97f4a7c15ull;
static uint64_t next_rand(void) {
  rng ^= rng << 13;
  rng ^= rng >> 7;
  rng ^= rng << 17;
  return rng;
}
static void fill_random(unsigned char *p, size_t n) {
  for (size_t k = 0; k < n; k++) {
    unsigned char b = (unsigned char)next_rand();
    p[k] = b ? b : 0x5a; /* nonzero */
  }
}
static void put16(unsigned char *p, uint16_t v) { p[0] = (unsigned char)v; p[1] = (unsigned char)(v >> 8); }
static void put32(unsigned char *p, uint32_t v) { for (int k = 0; k < 4; k++) p[k] = (unsigned char)(v >> 8 * k); }
static void put64(unsigned char *p, uint64_t v) { for (int k = 0; k < 8; k++) p[k] = (unsigned char)(v >> 8 * k); }

/* The legacy region of a valid image: FCW 037F, every x87 register tagged valid (in use) when random. */
static void legacy(unsigned char *p, int random) {
  memset(p, 0, 576);
  put16(p + 0, 0x037f);
  p[4] = random ? 0xff : 0x00; /* abridged FTW */
  put32(p + 24, 0x1f80);         /* MXCSR */
  if (random) {
    fill_random(p + 32, 128);  /* ST0-7 / MM0-7 */
    fill_random(p + 160, 256); /* XMM0-15 */
    for (int k = 0; k < 8; k++) memset(p + 32 + 16 * k + 10, 0, 6);
  }
}

static void build_images(void) {
  legacy(init_img, 0);
  legacy(rnd_img, 1);
  put64(rnd_img + 512, all_mask);
  for (int i = 2; i <= 18; i++)
    if (all_mask >> i & 1) fill_random(rnd_img + comp_off[i], comp_size[i]);
  if (all_mask >> 17 & 1) { /* TILECFG: palette 1, tiles 0-7 of 16 rows x 64 bytes */
    unsigned char *c = rnd_img + comp_off[17];
    memset(c, 0, 64);
    c[0] = 1;
    for (int t = 0; t < 8; t++) {
      put16(c + 16 + 2 * t, 64);
      c[48 + t] = 16;
    }
  }
}

/* Every component this harness manages back to init (between measurements). */
static void init_all(void) {
  if (osxsave) xrstor(init_img, all_mask);
}

static void detect(void) {
  unsigned a, b, c, d;
  __cpuid(0, a, b, c, d);
  unsigned maxleaf = a;
  __cpuid(0x80000000, a, b, c, d);
  unsigned maxext = a;
  __cpuid(1, a, b, c, d);
  osxsave = (c >> 27 & 1) && (c >> 26 & 1);
  hypervisor = c >> 31 & 1;
  if (maxext >= 0x80000001) {
    __cpuid(0x80000001, a, b, c, d);
    have_rdtscp = d >> 27 & 1;
  }
  if (maxext >= 0x80000007) {
    __cpuid(0x80000007, a, b, c, d);
    invariant_tsc = d >> 8 & 1;
  }
  if (!osxsave || maxleaf < 0xd) {
    osxsave = 0;
    return;
  }
  xcr0 = xgetbv(0);
  __cpuid_count(0xd, 1, a, b, c, d);
  has_xsaveopt = a & 1;
  has_xsavec = a >> 1 & 1;
  has_xgetbv1 = a >> 2 & 1;
  for (int i = 2; i <= 18; i++) {
    if (!(xcr0 >> i & 1)) continue;
    __cpuid_count(0xd, (unsigned)i, a, b, c, d);
    comp_size[i] = a;
    comp_off[i] = b;
  }
  all_mask = xcr0 & 0xe7; /* x87, SSE, AVX, AVX-512: never PKRU/MPX */
  if ((xcr0 & 0x60000) == 0x60000) {
    /* AMX: Linux arms XFD for TILEDATA until the process asks for it; the first XRSTOR that requests
       it then takes #NM, the kernel allocates the larger buffer and disarms XFD (as xsave-harness.c). */
    long r = syscall(SYS_arch_prctl, 0x1023 /* ARCH_REQ_XCOMP_PERM */, 18 /* XFEATURE_XTILEDATA */);
    if (r != 0) {
      snprintf(amx_reason, sizeof amx_reason, "ARCH_REQ_XCOMP_PERM for AMX tile data failed: %s", strerror(errno));
    } else if (comp_off[18] + comp_size[18] > BUFSZ || comp_off[17] + 64 > BUFSZ) {
      snprintf(amx_reason, sizeof amx_reason, "AMX state beyond the harness's %d-byte buffers", BUFSZ);
    } else {
      static unsigned char zero[BUFSZ] __attribute__((aligned(64)));
      xrstor(zero, 0x60000);
      amx_ok = 1;
      all_mask |= 0x60000;
    }
  } else {
    snprintf(amx_reason, sizeof amx_reason, "XCR0 0x%llx has no AMX TILECFG|TILEDATA", (unsigned long long)xcr0);
  }
  build_images();
}

/* ---------------------------------------------------------------- XSAVE family */

struct xctx {
  uint64_t rfbm;
  const unsigned char *load; /* image the setup XRSTORs (standard form) */
  unsigned char *buf;        /* operand of the timed instruction */
};

static void setup_load(void *c) {
  struct xctx *x = c;
  init_all();
  xrstor(x->load, x->rfbm);
}

static void setup_init_all(void *c) {
  (void)c;
  init_all();
}

#define XLOOP(insn)                                                                                        \
  static void body_##insn(void *c, int n) {                                                                \
    struct xctx *x = c;                                                                                    \
    uint32_t lo = (uint32_t)x->rfbm, hi = (uint32_t)(x->rfbm >> 32);                                       \
    for (int i = 0; i < n; i++) __asm__ volatile(#insn "64 (%0)" ::"r"(x->buf), "a"(lo), "d"(hi) : "memory"); \
  }
XLOOP(xsave)
XLOOP(xsaveopt)
XLOOP(xsavec)
XLOOP(xrstor)

/* Writes every register component of the set (and undoes it, so values stay the same). */
static const unsigned char *tile0;
static inline void modify(uint64_t m) {
  if (m & 1) __asm__ volatile("fchs\n\tfchs");
  if (m & 0xe0)
    __asm__ volatile("vpxorq %zmm8, %zmm0, %zmm0\n\tvpxorq %zmm8, %zmm0, %zmm0\n\t"
                     "vpxorq %zmm24, %zmm16, %zmm16\n\tvpxorq %zmm24, %zmm16, %zmm16\n\t"
                     "kxorw %k2, %k1, %k1\n\tkxorw %k2, %k1, %k1");
  else if (m & 4)
    __asm__ volatile("vpxor %ymm8, %ymm0, %ymm0\n\tvpxor %ymm8, %ymm0, %ymm0");
  else if (m & 2)
    __asm__ volatile("pxor %xmm8, %xmm0\n\tpxor %xmm8, %xmm0");
  if (m & 0x40000) __asm__ volatile("tileloadd (%0,%1,1), %%tmm0" ::"r"(tile0), "r"(64L) : "memory");
}

static void body_modify(void *c, int n) {
  struct xctx *x = c;
  for (int i = 0; i < n; i++) modify(x->rfbm);
}

static void body_modify_xsaveopt(void *c, int n) {
  struct xctx *x = c;
  uint32_t lo = (uint32_t)x->rfbm, hi = (uint32_t)(x->rfbm >> 32);
  for (int i = 0; i < n; i++) {
    modify(x->rfbm);
    __asm__ volatile("xsaveopt64 (%0)" ::"r"(x->buf), "a"(lo), "d"(hi) : "memory");
  }
}

static int reps_fast(void) { return quick ? 41 : 201; }
static int reps_os(void) { return quick ? 15 : 61; }

/* Runs fn; if it faults, every figure it makes is recorded as skipped (skip_all) instead. */
static void guarded(void (*fn)(void *), void (*skip_all)(void *, const char *), void *ctx) {
  int before = nresults;
  if (sigsetjmp(fault_jb, 1) != 0) {
    nresults = before;
    char why[96];
    snprintf(why, sizeof why, "faulted with signal %d on this machine", fault_sig);
    skip_all(ctx, why);
    init_all();
    return;
  }
  fn(ctx);
}

struct setjob {
  const char *name;
  uint64_t mask;
};

static void skip_set(void *c, const char *reason) {
  static const char *insns[5] = {"xsave", "xsaveopt", "xsavec", "xrstor", "xrstorc"};
  struct setjob *sj = c;
  char key[48];
  for (int i = 0; i < 5; i++)
    for (int st = 0; st < 2; st++) {
      snprintf(key, sizeof key, "%s.%s.%s", insns[i], sj->name, st ? "init" : "inuse");
      skip(key, reason);
    }
  snprintf(key, sizeof key, "xsaveopt.%s.modified", sj->name);
  skip(key, reason);
}

static void run_set(void *c) {
  struct setjob *sj = c;
  char key[48];
  int R = reps_fast(), B = 32;
  uint64_t m = sj->mask;
  const char *state[2] = {"inuse", "init"};
  for (int st = 0; st < 2; st++) {
    const unsigned char *img = st == 0 ? rnd_img : init_img;
    struct xctx x = {m, img, work};

    snprintf(key, sizeof key, "xsave.%s.%s", sj->name, state[st]);
    measure(key, R, B, setup_load, body_xsave, 0, &x);

    snprintf(key, sizeof key, "xsaveopt.%s.%s", sj->name, state[st]);
    if (!has_xsaveopt) {
      skip(key, "no XSAVEOPT (CPUID.(EAX=0DH,ECX=1):EAX[0])");
    } else {
      memcpy(work2, img, BUFSZ);
      struct xctx o = {m, work2, work2}; /* XRSTOR from the buffer, then XSAVEOPT to it */
      measure(key, R, B, setup_load, body_xsaveopt, 0, &o);
    }

    snprintf(key, sizeof key, "xsavec.%s.%s", sj->name, state[st]);
    if (!has_xsavec) skip(key, "no XSAVEC (CPUID.(EAX=0DH,ECX=1):EAX[1])");
    else {
      struct xctx cx = {m, img, cimg};
      measure(key, R, B, setup_load, body_xsavec, 0, &cx);
    }

    snprintf(key, sizeof key, "xrstor.%s.%s", sj->name, state[st]);
    struct xctx rx = {m, init_img, (unsigned char *)img};
    measure(key, R, B, setup_init_all, body_xrstor, 0, &rx);

    snprintf(key, sizeof key, "xrstorc.%s.%s", sj->name, state[st]);
    if (!has_xsavec) skip(key, "no XSAVEC to make a compacted image");
    else {
      memset(cimg, 0, BUFSZ);
      init_all();
      xrstor(img, m);
      xsavec(cimg, m);
      struct xctx rc = {m, init_img, cimg};
      measure(key, R, B, setup_init_all, body_xrstor, 0, &rc);
    }
  }

  snprintf(key, sizeof key, "xsaveopt.%s.modified", sj->name);
  if (!has_xsaveopt) {
    skip(key, "no XSAVEOPT (CPUID.(EAX=0DH,ECX=1):EAX[0])");
  } else {
    static int64_t with[MAXREP], alone[MAXREP];
    memcpy(work2, rnd_img, BUFSZ);
    tile0 = rnd_img + comp_off[18];
    struct xctx o = {m, work2, work2};
    sample(alone, R, B, setup_load, body_modify, 0, &o);
    sample(with, R, B, setup_load, body_modify_xsaveopt, 0, &o);
    int64_t base = median_of(alone, R);
    for (int k = 0; k < R; k++) with[k] -= base;
    summarize(new_result(key), with, R, B);
  }
  init_all();
}

/* ---------------------------------------------------------------- FXSAVE, XGETBV */

static void setup_fx(void *c) {
  (void)c;
  if (osxsave) {
    init_all();
    xrstor(rnd_img, 3);
  } else {
    __asm__ volatile("fxrstor64 (%0)" ::"r"(rnd_img) : "memory");
  }
}
static void body_fxsave(void *c, int n) {
  (void)c;
  for (int i = 0; i < n; i++) __asm__ volatile("fxsave64 (%0)" ::"r"(work) : "memory");
}
static void body_fxrstor(void *c, int n) {
  (void)c;
  for (int i = 0; i < n; i++) __asm__ volatile("fxrstor64 (%0)" ::"r"(rnd_img) : "memory");
}
static void run_fx(void *c) {
  (void)c;
  if (!osxsave) legacy(rnd_img, 1);
  measure("fxsave", reps_fast(), 32, setup_fx, body_fxsave, 0, 0);
  measure("fxrstor", reps_fast(), 32, setup_fx, body_fxrstor, 0, 0);
  init_all();
}

static void body_xgetbv1(void *c, int n) {
  (void)c;
  for (int i = 0; i < n; i++) {
    uint32_t lo, hi;
    __asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(1));
  }
}
static void skip_fx(void *c, const char *reason) {
  (void)c;
  skip("fxsave", reason);
  skip("fxrstor", reason);
}
static void skip_xgetbv1(void *c, const char *reason) {
  (void)c;
  skip("xgetbv1", reason);
}
static void run_xgetbv1(void *c) {
  (void)c;
  measure("xgetbv1", reps_fast(), 64, setup_init_all, body_xgetbv1, 0, 0);
}

/* ---------------------------------------------------------------- memory */

static unsigned char msrc[65536] __attribute__((aligned(64)));
static unsigned char mdst[65536] __attribute__((aligned(64)));
static void *(*volatile cpy)(void *, const void *, size_t) = memcpy; /* a real call into libc */
struct mctx { size_t size; };
static void body_memcpy(void *c, int n) {
  struct mctx *m = c;
  for (int i = 0; i < n; i++) cpy(mdst, msrc, m->size);
}

#define FAULT_PAGES 256
struct pfctx { unsigned char *p; long page; };
static void setup_pf(void *c) {
  struct pfctx *f = c;
  f->p = mmap(0, (size_t)FAULT_PAGES * f->page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (f->p == MAP_FAILED) {
    fprintf(stderr, "calibrate: mmap: %s\n", strerror(errno));
    exit(3);
  }
  madvise(f->p, (size_t)FAULT_PAGES * f->page, MADV_NOHUGEPAGE);
}
static void body_pf(void *c, int n) {
  struct pfctx *f = c;
  for (int i = 0; i < n; i++) ((volatile unsigned char *)f->p)[(size_t)i * f->page] = 1;
}
static void teardown_pf(void *c) {
  struct pfctx *f = c;
  munmap(f->p, (size_t)FAULT_PAGES * f->page);
}

/* ---------------------------------------------------------------- kernel paths */

static void body_syscall(void *c, int n) {
  (void)c;
  for (int i = 0; i < n; i++) syscall(SYS_getppid);
}

struct pctx { int wfd, rfd; };
static void body_pingpong(void *c, int n) {
  struct pctx *p = c;
  char b = 'x';
  for (int i = 0; i < n / 2; i++) {
    if (write(p->wfd, &b, 1) != 1 || read(p->rfd, &b, 1) != 1) {
      fprintf(stderr, "calibrate: ping-pong pipe failed\n");
      exit(3);
    }
  }
}

static int pin(int cpu) {
  cpu_set_t s;
  CPU_ZERO(&s);
  CPU_SET(cpu, &s);
  return sched_setaffinity(0, sizeof s, &s);
}

static int home_cpu = -1, remote_cpu = -1;

static void run_ctxswitch(void) {
  if (home_cpu < 0) {
    skip("ctxswitch", "cannot pin to one CPU (sched_setaffinity failed)");
    return;
  }
  int ab[2], ba[2];
  if (pipe(ab) || pipe(ba)) {
    skip("ctxswitch", "pipe() failed");
    return;
  }
  pid_t pid = fork();
  if (pid < 0) {
    skip("ctxswitch", "fork() failed");
    return;
  }
  if (pid == 0) { /* child: inherits the pinning; echoes until EOF */
    close(ab[1]);
    close(ba[0]);
    char b;
    while (read(ab[0], &b, 1) == 1)
      if (write(ba[1], &b, 1) != 1) break;
    _exit(0);
  }
  close(ab[0]);
  close(ba[1]);
  struct pctx p = {ab[1], ba[0]};
  measure("ctxswitch", reps_os(), 200, 0, body_pingpong, 0, &p); /* 100 round trips = 200 switches */
  close(ab[1]);
  close(ba[0]);
  waitpid(pid, 0, 0);
}

struct tctx { unsigned char *page; long size; };
static void body_mprotect(void *c, int n) {
  struct tctx *t = c;
  volatile unsigned char *p = t->page;
  for (int i = 0; i < n / 2; i++) {
    if (mprotect(t->page, (size_t)t->size, PROT_READ)) exit(4);
    (void)p[0];
    if (mprotect(t->page, (size_t)t->size, PROT_READ | PROT_WRITE)) exit(4);
    p[0] = (unsigned char)i;
  }
}

static volatile int spin_stop, spin_state;
static void *spinner(void *arg) {
  int cpu = *(int *)arg;
  if (pin(cpu) || sched_getcpu() != cpu) {
    spin_state = 2;
    return 0;
  }
  spin_state = 1;
  while (!spin_stop) { /* in user mode with this mm loaded; no PAUSE (a hypervisor may deschedule on it) */
  }
  return 0;
}

/* TLB shootdown interrupts `cpu` has taken (the TLB line of /proc/interrupts), or -1. */
static long tlb_irqs(int cpu) {
  FILE *f = fopen("/proc/interrupts", "r");
  if (!f) return -1;
  static char line[8192];
  long res = -1;
  int col = -1;
  if (fgets(line, sizeof line, f)) { /* "           CPU0       CPU1 ..." */
    int k = 0;
    for (char *tok = strtok(line, " \t\n"); tok; tok = strtok(0, " \t\n"), k++)
      if (!strncmp(tok, "CPU", 3) && atoi(tok + 3) == cpu) col = k;
  }
  while (col >= 0 && fgets(line, sizeof line, f)) {
    char *tok = strtok(line, " \t\n");
    if (!tok || strcmp(tok, "TLB:")) continue;
    for (int k = 0; k <= col && (tok = strtok(0, " \t\n")); k++)
      if (k == col) res = atol(tok);
    break;
  }
  fclose(f);
  return res;
}

static long remote_calls = -1, remote_ipis = -1, remote_batches, remote_kept;

/* tlbflush.remote: a batch in which the other CPU took fewer shootdown interrupts than the batch had
   RW->RO->RW rounds (a paravirtual flush deferred instead of interrupting a preempted vCPU) does not
   measure a shootdown; when /proc/interrupts can be read, only the other batches are kept. */
static void run_remote(struct tctx *t) {
  static int64_t v[MAXREP];
  const int B = 40, want = reps_os();
  int n = 0, tries = 0, counted = tlb_irqs(remote_cpu) >= 0;
  remote_calls = remote_ipis = 0;
  for (int w = 0; w < 3; w++) body_mprotect(t, B);
  uint64_t start = now_ns();
  while (n < want && (tries < want || now_ns() - start < (quick ? 1500000000u : 4000000000u)) && tries < 50 * want) {
    long before = counted ? tlb_irqs(remote_cpu) : 0;
    uint64_t a = tsc_begin();
    body_mprotect(t, B);
    uint64_t b = tsc_end();
    long got = counted ? tlb_irqs(remote_cpu) - before : B;
    tries++;
    remote_calls += B;
    remote_ipis += got;
    if (got >= B / 2) v[n++] = ((int64_t)(b - a) - timer_overhead) * 1000 / B;
  }
  remote_batches = tries;
  remote_kept = n;
  if (!counted) remote_calls = remote_ipis = -1;
  if (n < 5) {
    char why[200];
    snprintf(why, sizeof why, "in %d batches of %d mprotect calls only %d interrupted the other CPU in every round (paravirtual "
             "TLB flush deferred to a preempted vCPU)", tries, B, n);
    skip("tlbflush.remote", why);
  } else {
    summarize(new_result("tlbflush.remote"), v, n, B);
  }
}

static void run_tlb(void) {
  long ps = sysconf(_SC_PAGESIZE);
  unsigned char *pg = mmap(0, (size_t)ps, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (pg == MAP_FAILED) {
    skip("tlbflush.local", "mmap failed");
    skip("tlbflush.remote", "mmap failed");
    return;
  }
  pg[0] = 1;
  struct tctx t = {pg, ps};
  measure("tlbflush.local", reps_os(), 40, 0, body_mprotect, 0, &t);
  if (remote_cpu < 0) {
    skip("tlbflush.remote", "needs a second CPU this process may run on");
  } else {
    pthread_t th;
    int cpu = remote_cpu;
    if (pthread_create(&th, 0, spinner, &cpu)) {
      skip("tlbflush.remote", "pthread_create failed");
    } else {
      while (!spin_state) sched_yield();
      if (spin_state != 1) skip("tlbflush.remote", "cannot pin the second thread to another CPU");
      else run_remote(&t);
      spin_stop = 1;
      pthread_join(th, 0);
    }
  }
  munmap(pg, (size_t)ps);
}

/* ---------------------------------------------------------------- clocks */

static void body_empty(void *c, int n) { (void)c, (void)n; }

static uint64_t estimate_tsc_khz(void) {
  int64_t v[7];
  int n = quick ? 3 : 7;
  for (int k = 0; k < n; k++) {
    uint64_t n0 = now_ns(), t0 = tsc_begin(), n1;
    while ((n1 = now_ns()) - n0 < (quick ? 10000000u : 25000000u)) {
    }
    uint64_t t1 = tsc_end();
    v[k] = (int64_t)((t1 - t0) * 1000000u / (n1 - n0));
  }
  return (uint64_t)median_of(v, n);
}

/* Core clock: 100 dependent register ADDs (1 cycle each) per loop iteration, timed by the OS clock. */
static uint64_t estimate_core_khz(void) {
  int64_t v[7];
  int n = quick ? 3 : 7;
  for (int k = 0; k < n; k++) {
    uint64_t iters = 100000, x = 0, one = 1;
    uint64_t a = now_ns();
    /* register operands: recent cores fold additions of small immediates at rename (zero latency) */
    __asm__ volatile("1:\n\t.rept 100\n\taddq %2, %0\n\t.endr\n\tdecq %1\n\tjnz 1b" : "+r"(x), "+r"(iters) : "r"(one));
    uint64_t b = now_ns();
    v[k] = (int64_t)(100ull * 100000ull * 1000000ull / (b - a));
  }
  int64_t best = 0; /* the fastest run: preemption and interrupts only ever slow a run down */
  for (int k = 0; k < n; k++)
    if (v[k] > best) best = v[k];
  return (uint64_t)best;
}

/* ---------------------------------------------------------------- output */

static void put_milli(int64_t v) {
  if (v < 0) {
    putchar('-');
    v = -v;
  }
  printf("%lld.%03lld", (long long)(v / 1000), (long long)(v % 1000));
}

static void emit(uint64_t core_khz) {
  printf("{\"harness\":\"switchlab-calibrate\",\"version\":1,\"quick\":%s,\"tscMHz\":", quick ? "true" : "false");
  put_milli((int64_t)tsc_khz);
  printf(",\"coreMHz\":");
  put_milli((int64_t)core_khz);
  printf(",\"hypervisor\":%s,\"invariantTsc\":%s,\"xcr0\":\"0x%llx\",\"cpu\":%d,\"remoteCpu\":", hypervisor ? "true" : "false",
         invariant_tsc ? "true" : "false", (unsigned long long)xcr0, home_cpu);
  if (remote_cpu >= 0) printf("%d", remote_cpu);
  else printf("null");
  printf(",\"timerOverhead\":%lld,\"tlbRemote\":", (long long)timer_overhead);
  if (remote_calls >= 0) printf("{\"calls\":%ld,\"ipis\":%ld,\"batches\":%ld,\"kept\":%ld}", remote_calls, remote_ipis, remote_batches, remote_kept);
  else printf("null");
  printf(",\"figures\":{");
  for (int k = 0; k < nresults; k++) {
    struct result *r = &results[k];
    printf("%s\"%s\":", k ? "," : "", r->key);
    if (!r->ok) {
      printf("null");
      continue;
    }
    printf("{\"cycles\":");
    put_milli(r->med);
    printf(",\"ns\":");
    put_milli(r->med * 1000000 / (int64_t)tsc_khz);
    printf(",\"p10\":");
    put_milli(r->p10);
    printf(",\"p90\":");
    put_milli(r->p90);
    printf(",\"n\":%d,\"batch\":%d}", r->n, r->batch);
  }
  printf("},\"skipped\":{");
  int first = 1;
  for (int k = 0; k < nresults; k++)
    if (!results[k].ok) {
      printf("%s\"%s\":\"%s\"", first ? "" : ",", results[k].key, results[k].reason);
      first = 0;
    }
  printf("},\"notes\":[\"cycles, p10 and p90 are TSC cycles per operation; ns = cycles / tscMHz\"");
  if (hypervisor)
    printf(",\"running under a hypervisor: the TSC is the host's (possibly scaled) and not the vCPU's core clock; "
           "coreMHz estimates the core clock\"");
  if (remote_calls > 0 && remote_kept < remote_batches)
    printf(",\"tlbflush.remote: in %ld of %ld batches some flushes sent no IPI (a paravirtual TLB flush defers the flush "
           "of a preempted vCPU); only the other %ld batches are counted\"",
           remote_batches - remote_kept, remote_batches, remote_kept);
  if (!invariant_tsc) printf(",\"the CPU does not report an invariant TSC: TSC cycles may not be constant-rate\"");
  printf("]}\n");
}

int main(int argc, char **argv) {
  for (int k = 1; k < argc; k++) {
    if (!strcmp(argv[k], "--quick")) quick = 1;
    else {
      fprintf(stderr, "usage: calibrate [--quick]\n");
      return 2;
    }
  }
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_fault;
  sa.sa_flags = SA_NODEFER;
  sigaction(SIGSEGV, &sa, 0);
  sigaction(SIGILL, &sa, 0);
  sigaction(SIGBUS, &sa, 0);

  detect();

  /* One CPU for everything (a second one, if allowed, for the remote TLB flush). */
  cpu_set_t allowed;
  if (sched_getaffinity(0, sizeof allowed, &allowed) == 0) {
    int cur = sched_getcpu();
    if (cur >= 0 && pin(cur) == 0) home_cpu = cur;
    for (int c = 0; c < CPU_SETSIZE && home_cpu >= 0; c++)
      if (c != home_cpu && CPU_ISSET(c, &allowed)) {
        remote_cpu = c;
        break;
      }
  }

  /* timer overhead: an empty batch */
  {
    static int64_t v[MAXREP];
    timer_overhead = 0;
    sample(v, 101, 1, 0, body_empty, 0, 0);
    timer_overhead = median_of(v, 101) / 1000;
  }
  tsc_khz = estimate_tsc_khz();
  uint64_t core_khz = estimate_core_khz();

  guarded(run_fx, skip_fx, 0);
  if (!osxsave) {
    skip("xgetbv1", "no XSAVE enabled by the OS (CPUID.1:ECX.OSXSAVE)");
  } else if (!has_xgetbv1) {
    skip("xgetbv1", "no XGETBV with ECX = 1 (CPUID.(EAX=0DH,ECX=1):EAX[2])");
  } else {
    guarded(run_xgetbv1, skip_xgetbv1, 0);
  }

  static struct setjob sets[4] = {{"x87sse", 0x3}, {"avx", 0x7}, {"avx512", 0xe7}, {"amx", 0x600e7}};
  for (int s = 0; s < 4; s++) {
    char reason[200] = "";
    if (!osxsave) snprintf(reason, sizeof reason, "no XSAVE enabled by the OS (CPUID.1:ECX.OSXSAVE)");
    else if (s == 1 && !(xcr0 & 4)) snprintf(reason, sizeof reason, "XCR0 0x%llx has no AVX", (unsigned long long)xcr0);
    else if (s == 2 && (xcr0 & 0xe0) != 0xe0)
      snprintf(reason, sizeof reason, "XCR0 0x%llx has no AVX-512", (unsigned long long)xcr0);
    else if (s == 3 && !amx_ok) snprintf(reason, sizeof reason, "%s", amx_reason);
    if (s == 3 && !reason[0]) sets[3].mask = (xcr0 & 0xe7) | 0x60000;
    if (reason[0]) skip_set(&sets[s], reason);
    else guarded(run_set, skip_set, &sets[s]);
  }
  init_all();

  static const int kib[8] = {1, 2, 4, 8, 12, 16, 32, 64};
  for (int k = 0; k < 65536; k++) msrc[k] = (unsigned char)k, mdst[k] = 0;
  for (int i = 0; i < 8; i++) {
    char key[48];
    snprintf(key, sizeof key, "memcpy.%dk", kib[i]);
    struct mctx m = {(size_t)kib[i] * 1024};
    measure(key, reps_fast(), kib[i] <= 8 ? 32 : 8, 0, body_memcpy, 0, &m);
  }

  struct pfctx pf = {0, sysconf(_SC_PAGESIZE)};
  measure("pagefault", quick ? 15 : 41, FAULT_PAGES, setup_pf, body_pf, teardown_pf, &pf);
  measure("syscall", reps_os(), 100, 0, body_syscall, 0, 0);
  run_ctxswitch();
  run_tlb();

  emit(core_khz);
  return 0;
}
