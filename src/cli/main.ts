#!/usr/bin/env node
/**
 * The switchlab command line. Bad input (files, flags, fields) prints one line and exits 2.
 */
import { Command, CommanderError } from 'commander';
import { InputError } from '../arch/errors.js';
import { checkCommand } from './commands/check.js';
import { compareCommand } from './commands/compare.js';
import { costsCommand } from './commands/costs.js';
import { cpuCommand } from './commands/cpu.js';
import { dmesgCommand } from './commands/dmesg.js';
import { layoutCommand } from './commands/layout.js';
import { profilesCommand } from './commands/profiles.js';
import { replayCommand } from './commands/replay.js';
import { simulateCommand } from './commands/simulate.js';
import { studyCommand } from './commands/study.js';
import { sweepCommand } from './commands/sweep.js';
import { stateKindsCommand } from './commands/state-kinds.js';
import { sigframeCommand } from './commands/sigframe.js';

function buildProgram(): Command {
  const program = new Command();
  program
    .name('switchlab')
    .description('A laboratory for how an x86 kernel manages CPU state across context switches.')
    .version('0.1.0')
    .exitOverride()
    .configureOutput({ writeErr: (s) => process.stderr.write(s) })
    .showHelpAfterError(false);
  for (const c of [profilesCommand(), cpuCommand(), layoutCommand(), sigframeCommand(), dmesgCommand(), simulateCommand(), compareCommand(), costsCommand(), studyCommand(), sweepCommand(), checkCommand(), replayCommand(), stateKindsCommand()]) {
    c.exitOverride();
    program.addCommand(c);
  }
  return program;
}

export async function main(argv: string[]): Promise<number> {
  const program = buildProgram();
  try {
    await program.parseAsync(argv, { from: 'user' });
    return 0;
  } catch (e) {
    if (e instanceof InputError) {
      process.stderr.write(`switchlab: ${e.line()}\n`);
      return 2;
    }
    if (e instanceof CommanderError) {
      if (e.code === 'commander.helpDisplayed' || e.code === 'commander.version' || e.code === 'commander.help') return 0;
      return 2;
    }
    throw e;
  }
}

// Output piped into `head`: a closed pipe ends the command quietly, as for any Unix tool.
process.stdout.on('error', (e: NodeJS.ErrnoException) => {
  if (e.code === 'EPIPE') process.exit(0);
  throw e;
});

main(process.argv.slice(2)).then(
  (code) => {
    // A command may set its own status (check: 1 = a counterexample was found).
    if (code !== 0 || process.exitCode === undefined) process.exitCode = code;
  },
  (e: unknown) => {
    process.stderr.write(`switchlab: internal error: ${e instanceof Error ? e.message : String(e)}\n`);
    process.exitCode = 70;
  },
);
