/**
 * Not a mutant: the RFC-2016 policy itself (src/policies/fpu/rfc-2016.ts, Rik van Riel's "x86,fpu:
 * make FPU context switching much lazier", 2016-10-01, five patches on 4.8 as posted). Its author
 * wrote "This code is still BROKEN"; the corpus holds its two defects the checker must find.
 *
 *  - signal: patch 5/5 "kinda sorta fix up signal path" leaves TIF_LOAD_FPU set across signal
 *    delivery (fpu__clear loads init state into the registers only), so the exit path's
 *    switch_fpu_return() reloads the stale memory image: the handler starts with the interrupted
 *    registers instead of init state (catalogue H1(a)).
 *  - exec: 4.8's fpu__clear() loads init state into the registers but leaves memory and TIF_LOAD_FPU,
 *    which a kernel FPU section set (patch 2/5): the new program starts with the old one's registers.
 */
import { rfc2016 } from '../../policies/fpu/rfc-2016.js';
import { DEFAULT_CONFIG } from '../explore.js';
import type { Mutant } from './types.js';

export const rfc2016Signal: Mutant = {
  name: 'rfc-2016-signal',
  of: 'rfc-2016',
  bug: 'RFC 2016 patch 5/5 "kinda sorta fix up signal path" (catalogue H1(a)): TIF_LOAD_FPU survives signal delivery',
  policy: rfc2016,
  config: { moves: [...DEFAULT_CONFIG.moves, 'signal', 'sigreturn'], depth: 6 },
};

export const rfc2016Exec: Mutant = {
  name: 'rfc-2016-exec',
  of: 'rfc-2016',
  bug: 'RFC 2016 patch 2/5 "delay FPU restore until return to userspace" with 4.8\'s fpu__clear at exec: a pending TIF_LOAD_FPU reloads the old program\'s image',
  policy: rfc2016,
  config: { depth: 6 },
};
