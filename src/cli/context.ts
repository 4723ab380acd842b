// What a command needs from the outside world, gathered once in main.ts so commands stay testable.

export interface RunContext {
  cwd: string;
  home: string;
  env: Record<string, string | undefined>;
  version: string;
  writeOut: (text: string) => void;
  /** One diagnostic line on stderr. */
  writeError: (line: string) => void;
  signal: AbortSignal;
  stdinIsTerminal: boolean;
  stdoutIsTerminal: boolean;
  streamIdleTimeoutMs?: number;
  fetchImplementation?: typeof fetch;
}
