/*
 * xsave-harness: runs XSAVE-family programs on the real CPU for switchlab's differential tests.
 *
 * Built with -mgeneral-regs-only, so nothing the compiler emits between two steps touches x87/SSE/AVX
 * state: the register contents one step leaves are exactly what the next step sees. No libc call is
 * made while a case runs (libc string functions use vector registers); faults (#GP -> SIGSEGV,
 * #UD -> SIGILL) are caught and recorded.
 *
 * Input (stdin, little-endian):  "SLHW" u32 ncases, then per case
 *   u32 nbuf, u32 nsteps; per buffer: u32 misalign, u32 size, size bytes;
 *   per step: u32 op, u32 buf, u32 eax, u32 edx, u32 arg, u32 arg2
 * Output (stdout): "SLHR" u32 mxcsr_mask u64 xcr0 u64 xinuse u64 getauxval(AT_MINSIGSTKSZ), then per case
 *   u32 fault_step (0xffffffff: none), u32 signo, u32 nread, u64 values[nread], then every buffer's bytes.
 * Ops: 1 XSAVE64, 2 XSAVEOPT64, 3 XSAVEC64, 4 XRSTOR64, 5 FXSAVE64, 6 FXRSTOR64, 7 XGETBV(ecx=eax), 8 poke byte.
 */
#define _GNU_SOURCE
#include <setjmp.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/auxv.h>
#include <sys/syscall.h>
#include <sched.h>
#include <unistd.h>

enum { OP_XSAVE = 1, OP_XSAVEOPT, OP_XSAVEC, OP_XRSTOR, OP_FXSAVE, OP_FXRSTOR, OP_XGETBV, OP_POKE };

static sigjmp_buf jb;
static volatile int last_sig;

static void on_fault(int sig) {
  last_sig = sig;
  siglongjmp(jb, 1);
}

static unsigned char *inbuf;
static size_t inlen, inpos;
static unsigned char *outbuf;
static size_t outlen, outcap;

static void die(const char *msg) {
  (void)!write(2, msg, strlen(msg));
  _exit(3);
}

static uint32_t rd32(void) {
  if (inpos + 4 > inlen) die("xsave-harness: truncated input\n");
  uint32_t v = (uint32_t)inbuf[inpos] | (uint32_t)inbuf[inpos + 1] << 8 | (uint32_t)inbuf[inpos + 2] << 16 |
               (uint32_t)inbuf[inpos + 3] << 24;
  inpos += 4;
  return v;
}

static void out_bytes(const void *p, size_t n) {
  if (outlen + n > outcap) {
    while (outlen + n > outcap) outcap = outcap ? outcap * 2 : 1 << 20;
    outbuf = realloc(outbuf, outcap);
    if (!outbuf) die("xsave-harness: out of memory\n");
  }
  const unsigned char *s = p;
  for (size_t k = 0; k < n; k++) outbuf[outlen + k] = s[k];
  outlen += n;
}

static void out32(uint32_t v) { out_bytes(&v, 4); }
static void out64(uint64_t v) { out_bytes(&v, 8); }

static uint64_t xgetbv(uint32_t ecx) {
  uint32_t lo, hi;
  __asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(ecx));
  return (uint64_t)hi << 32 | lo;
}

#define MAXBUF 8
#define MAXSTEP 16
#define MAXREAD 16

struct step { uint32_t op, buf, eax, edx, arg, arg2; };

int main(void) {
  /* read all of stdin */
  size_t cap = 1 << 20;
  inbuf = malloc(cap);
  for (;;) {
    if (inlen == cap) inbuf = realloc(inbuf, cap *= 2);
    ssize_t n = read(0, inbuf + inlen, cap - inlen);
    if (n < 0) die("xsave-harness: read error\n");
    if (n == 0) break;
    inlen += (size_t)n;
  }
  if (rd32() != 0x57484c53u) die("xsave-harness: bad magic\n"); /* "SLHW" */
  uint32_t ncases = rd32();

  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_fault;
  sa.sa_flags = SA_NODEFER;
  sigaction(SIGSEGV, &sa, 0);
  sigaction(SIGILL, &sa, 0);
  sigaction(SIGBUS, &sa, 0);

  /* AMX: Linux arms XFD for TILEDATA until the process asks for it (ARCH_REQ_XCOMP_PERM, 5.16+);
     the first XRSTOR that requests it then takes #NM, the kernel grows the task's buffer and disarms
     XFD, and the instruction is re-executed. Do that once here so the cases see an ordinary register
     file (XFD = 0), as the model's machine has. Harmless where the CPU or kernel has no AMX. */
  static unsigned char zero[16384] __attribute__((aligned(64)));
  if (syscall(SYS_arch_prctl, 0x1023 /* ARCH_REQ_XCOMP_PERM */, 18 /* XFEATURE_XTILEDATA */) == 0 &&
      (xgetbv(0) & 0x60000) == 0x60000)
    __asm__ volatile("xrstor64 (%0)" ::"r"(zero), "a"(0x60000u), "d"(0u) : "memory");

  /* MXCSR_MASK as this CPU stores it */
  static unsigned char fx[512] __attribute__((aligned(64)));
  __asm__ volatile("fxsave64 %0" : "=m"(fx));
  uint32_t mxcsr_mask = (uint32_t)fx[28] | (uint32_t)fx[29] << 8 | (uint32_t)fx[30] << 16 | (uint32_t)fx[31] << 24;
  out32(0x52484c53u); /* "SLHR" */
  out32(mxcsr_mask);
  out64(xgetbv(0));
  out64(xgetbv(1));
#ifndef AT_MINSIGSTKSZ
#define AT_MINSIGSTKSZ 51
#endif
  out64(getauxval(AT_MINSIGSTKSZ));

  static unsigned char *mem[MAXBUF];
  static unsigned char *ptr[MAXBUF];
  static uint32_t size[MAXBUF];
  static struct step steps[MAXSTEP];
  static uint64_t reads[MAXREAD];

  for (uint32_t c = 0; c < ncases; c++) {
    uint32_t nbuf = rd32(), nsteps = rd32();
    if (nbuf > MAXBUF || nsteps > MAXSTEP) die("xsave-harness: case too large\n");
    for (uint32_t b = 0; b < nbuf; b++) {
      uint32_t mis = rd32();
      size[b] = rd32();
      if (mis > 63 || inpos + size[b] > inlen) die("xsave-harness: bad buffer\n");
      mem[b] = aligned_alloc(64, ((size_t)size[b] + 64 + 63) & ~(size_t)63);
      if (!mem[b]) die("xsave-harness: out of memory\n");
      ptr[b] = mem[b] + mis;
      for (uint32_t k = 0; k < size[b]; k++) ptr[b][k] = inbuf[inpos + k];
      inpos += size[b];
    }
    for (uint32_t s = 0; s < nsteps; s++) {
      steps[s].op = rd32();
      steps[s].buf = rd32();
      steps[s].eax = rd32();
      steps[s].edx = rd32();
      steps[s].arg = rd32();
      steps[s].arg2 = rd32();
      if (steps[s].buf >= nbuf && steps[s].op != OP_XGETBV) die("xsave-harness: bad buffer index\n");
    }
    /* Start each case on a fresh time slice: a context switch in the middle of a case makes the kernel
       save and restore our registers, which changes XINUSE and XRSTOR_INFO (the test re-runs cases
       whose two hardware runs disagree). */
    sched_yield();
    volatile uint32_t fault_step = 0xffffffffu;
    volatile uint32_t nread = 0;
    last_sig = 0;
    volatile uint32_t s = 0;
    if (sigsetjmp(jb, 1) != 0) {
      fault_step = s;
    } else {
      for (s = 0; s < nsteps; s++) {
        struct step *st = &steps[s];
        unsigned char *p = ptr[st->buf];
        uint32_t a = st->eax, d = st->edx;
        switch (st->op) {
        case OP_XSAVE: __asm__ volatile("xsave64 (%0)" ::"r"(p), "a"(a), "d"(d) : "memory"); break;
        case OP_XSAVEOPT: __asm__ volatile("xsaveopt64 (%0)" ::"r"(p), "a"(a), "d"(d) : "memory"); break;
        case OP_XSAVEC: __asm__ volatile("xsavec64 (%0)" ::"r"(p), "a"(a), "d"(d) : "memory"); break;
        case OP_XRSTOR: __asm__ volatile("xrstor64 (%0)" ::"r"(p), "a"(a), "d"(d) : "memory"); break;
        case OP_FXSAVE: __asm__ volatile("fxsave64 (%0)" ::"r"(p) : "memory"); break;
        case OP_FXRSTOR: __asm__ volatile("fxrstor64 (%0)" ::"r"(p) : "memory"); break;
        case OP_XGETBV:
          if (nread < MAXREAD) reads[nread] = xgetbv(a);
          nread = nread + 1;
          break;
        case OP_POKE: p[st->arg] = (unsigned char)st->arg2; break;
        default: die("xsave-harness: bad op\n");
        }
      }
    }
    out32(fault_step);
    out32((uint32_t)last_sig);
    uint32_t nr = nread > MAXREAD ? MAXREAD : nread;
    out32(nr);
    for (uint32_t k = 0; k < nr; k++) out64(reads[k]);
    for (uint32_t b = 0; b < nbuf; b++) {
      out_bytes(ptr[b], size[b]);
      free(mem[b]);
    }
  }
  size_t off = 0;
  while (off < outlen) {
    ssize_t n = write(1, outbuf + off, outlen - off);
    if (n <= 0) die("xsave-harness: write error\n");
    off += (size_t)n;
  }
  return 0;
}
