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
