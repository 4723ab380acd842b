// A one-character spinner shown while the REPL waits for the first token. It draws on one line with `\r`
// and erases itself, so the answer starts where the spinner was; off when the stream is not a terminal.
// Cut to the terminal's width: a frame that wrapped would leave a line behind at each redraw.

export interface Spinner {
  start(): void;
  /** Erases the spinner; safe to call when it is not running. */
  stop(): void;
}

export interface SpinnerOptions {
  write: (text: string) => void;
  enabled: boolean;
  label?: string;
  intervalMs?: number;
  /** The terminal's width now (it can change between frames); undefined: not known. */
  columns?: () => number | undefined;
}

const frames = ['⠋', '⠙', '⠹', '⠸', '⠼', '⠴', '⠦', '⠧', '⠇', '⠏'];

export function createSpinner(options: SpinnerOptions): Spinner {
  const label = options.label ?? 'Thinking… (Ctrl+C to cancel)';
  let timer: ReturnType<typeof setInterval> | undefined;
  let frame = 0;
  const draw = () => {
    const text = `${frames[frame % frames.length]} ${label}`;
    // One column short of the width: some terminals wrap as soon as the last column is written.
    const width = Math.max(1, (options.columns?.() ?? Number.POSITIVE_INFINITY) - 1);
    options.write(`\r${text.slice(0, width)}`);
    frame += 1;
  };
  return {
    start() {
      if (!options.enabled || timer !== undefined) return;
      frame = 0;
      draw();
      timer = setInterval(draw, options.intervalMs ?? 80);
    },
    stop() {
      if (timer === undefined) return;
      clearInterval(timer);
      timer = undefined;
      // Back to column 0 and clear to the end of the line.
      options.write('\r\x1b[K');
    },
  };
}
