/** A progress bar on stderr for long runs: off when stderr is not a terminal or with --quiet. */
import cliProgress from 'cli-progress';

export interface Progress {
  update(done: number): void;
  stop(): void;
}

export function progress(total: number, quiet: boolean, unit: string): Progress {
  if (quiet || !process.stderr.isTTY || total < 2) return { update: () => undefined, stop: () => undefined };
  const bar = new cliProgress.SingleBar(
    { stream: process.stderr, format: `{bar} {value}/{total} ${unit} {duration}s`, hideCursor: true, clearOnComplete: true },
    cliProgress.Presets.shades_classic,
  );
  bar.start(total, 0);
  return { update: (d) => bar.update(d), stop: () => bar.stop() };
}
