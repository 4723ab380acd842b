// A one-shot run with -o json or stream-json ends with its result whatever ended it: a failure nobody
// foresaw (a runtime's own error) too, as the README promises.
import { expect, test } from 'bun:test';
import { writeFailedResult } from '../../src/cli/run.ts';
import { asCliError, CliError } from '../../src/core/errors.ts';
import { terminalContext } from './helpers.ts';

function failedResult(error: unknown, format: 'json' | 'stream-json') {
  const out: string[] = [];
  const exitCodes: number[] = [];
  const context = terminalContext({
    cwd: '/',
    home: '/',
    env: {},
    writeOut: (text) => out.push(typeof text === 'string' ? text : new TextDecoder().decode(text)),
    reportingFailure: (exitCode) => exitCodes.push(exitCode),
  });
  writeFailedResult(error, format, context, performance.now());
  const text = out.join('');
  const lines =
    format === 'json'
      ? JSON.parse(text)
      : text
          .trim()
          .split('\n')
          .map((line) => JSON.parse(line));
  return { result: lines.at(-1), exitCodes };
}

test('an unexpected failure ends the JSON formats with an error result (exit 1), its message kept', () => {
  const unexpected = Object.assign(new Error('EBADF: bad file descriptor, read'), { code: 'EBADF' });
  for (const format of ['json', 'stream-json'] as const) {
    const { result, exitCodes } = failedResult(unexpected, format);
    expect(result).toMatchObject({
      type: 'result',
      is_error: true,
      error: { message: 'Unexpected failure: EBADF: bad file descriptor, read', exit_code: 1 },
    });
    expect(exitCodes).toEqual([1]);
  }
  expect(failedResult('a thrown string', 'json').result.error.message).toBe(
    'Unexpected failure: a thrown string',
  );
  // A CliError is reported as it is.
  expect(failedResult(new CliError('input', 'No prompt given.'), 'json').result.error).toEqual({
    message: 'No prompt given.',
    exit_code: 42,
  });
});

test('asCliError keeps a CliError and makes anything else an exit-1 failure with its cause', () => {
  const failure = new CliError('auth', 'No key.');
  expect(asCliError(failure)).toBe(failure);
  const cause = new TypeError('x is not a function');
  expect(asCliError(cause)).toMatchObject({
    exitCode: 1,
    message: 'Unexpected failure: x is not a function',
    cause,
  });
});
