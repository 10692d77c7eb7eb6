import { readFileSync } from 'node:fs';
import { parse as parseYaml, YAMLParseError } from 'yaml';

/**
 * Errors caused by bad user input (a file, a flag, a field). They carry where the problem is, and the
 * CLI prints them as one line and exits with code 2. Faults of the *modeled* CPU are never exceptions:
 * they are values (see xsave/fault.ts).
 */
export class InputError extends Error {
  constructor(
    /** What was wrong, in one line. */
    message: string,
    /** Where: "file.json", "file.txt:12", "--xcr0", "profile sapphire-rapids". */
    readonly where?: string,
  ) {
    super(message);
    this.name = 'InputError';
  }

  /** The single line the CLI prints. */
  line(): string {
    return this.where ? `${this.where}: ${this.message}` : this.message;
  }
}

/** Reads a user-supplied text file; a missing or unreadable one is an InputError naming it and what it was for. */
export function readInputFile(path: string, what: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (e) {
    throw new InputError(`cannot read ${what} (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`, path);
  }
}

/** YAML (or JSON, a subset) from a user's file: bad syntax is one line naming `where` and the line. */
export function parseYamlInput(text: string, where: string): unknown {
  try {
    return parseYaml(text);
  } catch (e) {
    const line = e instanceof YAMLParseError ? e.linePos?.[0]?.line : undefined;
    throw new InputError(`not valid YAML/JSON: ${(e as Error).message.split('\n')[0]}`, line === undefined ? where : `${where}:${line}`);
  }
}
