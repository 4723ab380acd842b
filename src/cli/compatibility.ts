// Qwen Code's flags that qwen-lite reads so that a command line copied from Qwen Code (`qwen -p "..." --yolo
// -o json`) runs unchanged. qwen-lite runs no tools, so the tool, approval and session flags have nothing to
// act on; the values Qwen Code itself refuses are refused here too (exit 42), and so is what we cannot do.
import { CliError } from '../core/errors.ts';
import type { MainFlags } from './command-line.ts';

/** Qwen Code's --approval-mode choices (0.24: `auto` included). */
export const approvalModes = ['plan', 'default', 'auto-edit', 'auto', 'yolo'] as const;

/** The --help section that says what these flags do here. */
export const compatibilityNote = `  -y/--yolo, --approval-mode, --max-session-turns and --max-tool-calls are accepted so that
  Qwen Code command lines run unchanged; qwen-lite runs no tools, so they change nothing.`;

/** The approval mode the flags ask for (checked by checkCompatibilityFlags), as Qwen Code names it. */
export function permissionModeOf(flags: MainFlags): string {
  if (flags.yolo) return 'yolo';
  return flags.approvalMode ?? 'default';
}

/** Throws for the values Qwen Code refuses and for what qwen-lite cannot do; the rest is accepted as is. */
export function checkCompatibilityFlags(flags: MainFlags): void {
  if (flags.approvalMode !== undefined) {
    if (flags.yolo) {
      throw new CliError('input', 'Give either --yolo (-y) or --approval-mode, not both.', {
        hint: 'Use --approval-mode=yolo instead.',
      });
    }
    if (!(approvalModes as readonly string[]).includes(flags.approvalMode)) {
      throw new CliError(
        'input',
        `Unknown approval mode "${flags.approvalMode}"; use one of: ${approvalModes.join(', ')}.`,
      );
    }
  }
  if (flags.inputFormat === 'stream-json') {
    throw new CliError(
      'input',
      '--input-format stream-json is not supported: qwen-lite reads the prompt as text.',
      {
        hint: 'Pass the prompt as an argument, with -p, or as plain text on stdin.',
      },
    );
  }
  if (flags.inputFormat !== undefined && flags.inputFormat !== 'text') {
    throw new CliError('input', `Unknown input format "${flags.inputFormat}"; use text.`);
  }
  if (flags.includePartialMessages && flags.outputFormat !== 'stream-json') {
    throw new CliError('input', '--include-partial-messages needs --output-format stream-json.');
  }
  for (const [flag, value] of [
    ['--max-session-turns', flags.maxSessionTurns],
    ['--max-tool-calls', flags.maxToolCalls],
  ] as const) {
    if (value !== undefined && !Number.isInteger(Number(value === '' ? 'x' : value))) {
      throw new CliError('input', `${flag} takes a whole number, not "${value}".`);
    }
  }
  // A one-shot run is one turn: any limit of 1 or more (or -1, Qwen Code's "no limit") changes nothing,
  // but 0 leaves no turn for the prompt (Qwen Code stops there too).
  if (flags.maxSessionTurns !== undefined && Number(flags.maxSessionTurns) === 0) {
    throw new CliError('input', '--max-session-turns 0 leaves no turn for the prompt.', {
      hint: 'A one-shot run takes one turn; leave the flag out or give 1 or more.',
    });
  }
}
