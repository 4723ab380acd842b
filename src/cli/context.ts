// What a command needs from the outside world, gathered once in main.ts so commands stay testable.
import type { Write } from '../render/renderer.ts';
import type { StreamLimits } from './turn.ts';

export interface RunContext {
  cwd: string;
  home: string;
  env: Record<string, string | undefined>;
  version: string;
  /** stdout: text, or bytes already in UTF-8 (a streamed answer). */
  writeOut: Write;
  /** One diagnostic line on stderr. */
  writeError: (line: string) => void;
  /** Called before a failure is written out: the exit code to keep if stdout or stderr is gone by then. */
  reportingFailure?: (exitCode: number) => void;
  signal: AbortSignal;
  stdinIsTerminal: boolean;
  stdoutIsTerminal: boolean;
  streamLimits?: StreamLimits;
  fetchImplementation?: typeof fetch;
}
