/*
 * cpuid-dump: prints this CPU's CPUID leaves in the format of `cpuid -r` (Todd Allen's tool), which
 * switchlab's `host` profile loader parses. Used only when /dev/cpu/0/cpuid cannot be read.
 * Pinned to CPU 0 when possible, so the values are logical CPU 0's, like the dumps in data/cpuid.
 */
#define _GNU_SOURCE
#include <cpuid.h>
#include <sched.h>
#include <stdio.h>

static void leaf(unsigned l, unsigned s) {
  unsigned a, b, c, d;
  __cpuid_count(l, s, a, b, c, d);
  printf("   0x%08x 0x%02x: eax=0x%08x ebx=0x%08x ecx=0x%08x edx=0x%08x\n", l, s, a, b, c, d);
}

static unsigned eax_of(unsigned l, unsigned s) {
  unsigned a, b, c, d;
  __cpuid_count(l, s, a, b, c, d);
  return a;
}

int main(void) {
  cpu_set_t set;
  CPU_ZERO(&set);
  CPU_SET(0, &set);
  (void)sched_setaffinity(0, sizeof set, &set);
  printf("CPU 0:\n");
  unsigned max = eax_of(0, 0);
  for (unsigned l = 0; l <= max; l++) {
    unsigned subs = 1;
    if (l == 0xd) subs = 64;                                   /* every state component */
    else if (l == 7 || l == 0x14 || l == 0x17 || l == 0x18 || l == 0x1d || l == 0x24) subs = eax_of(l, 0) + 1;
    else if (l == 4 || l == 0xb || l == 0x1f || l == 0xf || l == 0x10 || l == 0x12) subs = 4;
    if (subs > 64) subs = 64;
    for (unsigned s = 0; s < subs; s++) leaf(l, s);
  }
  unsigned emax = eax_of(0x80000000u, 0);
  if (emax > 0x80000040u) emax = 0x80000040u;
  for (unsigned l = 0x80000000u; l <= emax; l++) leaf(l, 0);
  return 0;
}
