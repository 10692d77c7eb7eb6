/**
 * Progress of a long check on stderr: distinct states, depth (or walks) and states/s. Shown only when
 * stderr is a terminal, never with --json, and only once the run has lasted a second.
 */
import cliProgress from 'cli-progress';

export interface CheckProgress {
  /** `done` of `total` levels (or walks), `states` distinct states so far. */
  update(done: number, states: number): void;
  stop(): void;
}

export function checkProgress(total: number, unit: string, quiet: boolean, now: () => number): CheckProgress {
  if (quiet || !process.stderr.isTTY) return { update: () => undefined, stop: () => undefined };
  const t0 = now();
  let bar: cliProgress.SingleBar | null = null;
  return {
    update(done, states) {
      const s = (now() - t0) / 1000;
      if (!bar) {
        if (s < 1) return;
        bar = new cliProgress.SingleBar({ stream: process.stderr, format: `{bar} ${unit} {value}/{total} | {states} states | {rate} states/s | {duration}s`, hideCursor: true, clearOnComplete: true }, cliProgress.Presets.shades_classic);
        bar.start(total, 0, { states: '0', rate: '0' });
      }
      bar.update(done, { states: states.toLocaleString('en-US'), rate: Math.round(states / Math.max(s, 1e-3)).toLocaleString('en-US') });
    },
    stop: () => bar?.stop(),
  };
}
