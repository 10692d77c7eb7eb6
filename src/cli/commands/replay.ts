import { Command } from 'commander';
import { readFileSync, writeFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { InputError } from '../../arch/errors.js';
import { loadProfile } from '../../arch/profiles/index.js';
import { fpuPolicy } from '../../policies/fpu/index.js';
import { formatFtrace } from '../../kernel/trace/ftrace.js';
import { replayTrace } from '../../sim/replay-report.js';
import { readTrace, replay } from '../../sim/replay.js';
import { combinePerfetto, toPerfetto } from '../../report/perfetto.js';
import { replayJson, replayText } from '../../report/replay-report.js';
import { toJson } from '../json.js';

function readTraceFile(path: string): string {
  let buf: Buffer;
  try {
    buf = readFileSync(path);
  } catch (e) {
    throw new InputError(`cannot read trace (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`, path);
  }
  if (buf[0] === 0x1f && buf[1] === 0x8b) {
    try {
      buf = gunzipSync(buf);
    } catch (e) {
      throw new InputError(`corrupt gzip data (${(e as Error).message})`, path);
    }
  }
  return buf.toString('utf8');
}

export function replayCommand(): Command {
  return new Command('replay')
    .description('replay a real ftrace recording through the model and compare the predicted x86_fpu events with the recorded ones')
    .argument('<trace>', 'ftrace text (/sys/kernel/tracing/trace), optionally gzipped, as recorded by record.sh')
    .option('--cpu <profile>', 'the CPU the trace was recorded on', 'zen4-vm')
    .option('--policy <name>', 'FPU policy', 'deferred')
    .option('--kernel <version>', 'Linux version', '6.18')
    .option('--entropy <n|auto>', "initial fill of random.c's BLAKE2s buffer (0-64, hidden machine state); auto scans every value", 'auto')
    .option('--emit-ftrace <file>', 'write the predicted x86_fpu events as ftrace text')
    .option('--perfetto <file>', 'write the recording and the model’s prediction side by side for ui.perfetto.dev')
    .option('--json', 'machine-readable output')
    .action((file: string, o: { cpu: string; policy: string; kernel: string; entropy: string; emitFtrace?: string; perfetto?: string; json?: boolean }) => {
      const profile = loadProfile(o.cpu);
      const policy = fpuPolicy(o.policy);
      let entropy: number | 'auto' = 'auto';
      if (o.entropy !== 'auto') {
        entropy = Number(o.entropy);
        if (!Number.isInteger(entropy) || entropy < 0 || entropy > 64) throw new InputError(`'${o.entropy}' is not a fill level 0..64 or auto`, '--entropy');
      }
      const text = readTraceFile(file);
      const rep = replayTrace(profile, policy, text, { version: o.kernel, entropy, file });
      if (o.emitFtrace) writeFileSync(o.emitFtrace, formatFtrace(rep.predictedFpu));
      if (o.perfetto) {
        // The report keeps only the FPU events; the timeline wants every event of the best run.
        const input = readTrace(text);
        const run = replay(profile, policy, input, { version: o.kernel, entropyBuf: rep.entropyBuf });
        const recorded = toPerfetto(input.records, { title: 'recorded by Linux', cpus: input.cpus, pid: 1, processName: `recorded: ${file}` });
        const predicted = toPerfetto(run.predicted, { title: 'predicted by the model', cpus: input.cpus, pid: 2, processName: `predicted: ${policy.name} on ${profile.id}` });
        writeFileSync(o.perfetto, JSON.stringify(combinePerfetto(`switchlab replay ${file}`, [recorded, predicted])));
      }
      process.stdout.write(o.json ? toJson(replayJson(rep)) : replayText(rep));
    });
}
