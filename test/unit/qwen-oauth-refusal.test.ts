import { expect, test } from 'bun:test';
import { explainQwenOauthFailure, isQwenOauthTokenRefused } from '../../src/auth/credentials.ts';
import { CliError } from '../../src/core/errors.ts';

const failure = (status: number | undefined, message: string) =>
  new CliError('api', message, status === undefined ? {} : { status });

test('a 401 or 403, or a server message about the token itself, calls for a refresh; look-alikes and our own messages do not', () => {
  for (const [status, message, refused] of [
    [401, 'host answered 401: Unauthorized', true],
    [403, 'host answered 403: Forbidden', true],
    [400, 'host answered 400: Invalid access token', true],
    [400, 'host answered 400: invalid_api_key: Invalid API key provided', true],
    [400, 'host answered 400: Access token expired', true],
    [400, 'host answered 400: The token has been expired, please log in again', true],
    [500, 'host reported 500 before any answer: invalid_token', true],
    [400, 'host answered 400: Invalid token count in messages[0]', false],
    [400, 'host answered 400: invalid token id 151665 in the prompt', false],
    [400, 'host answered 400: max_tokens exceeds the limit: invalid_tokens', false],
    [429, 'host answered 429: Too many tokens; the token bucket expired... try later', false],
    // Ours, with no status: it can quote the model.
    [undefined, 'the model declined to answer (refusal): your access token expired', false],
  ] as const) {
    expect(isQwenOauthTokenRefused(failure(status, message))).toBe(refused);
  }
});

test('a refused login is exit 41 with login advice; any other failure keeps its own', () => {
  const unauthorized = explainQwenOauthFailure(failure(401, 'host answered 401: Invalid access token'));
  expect(unauthorized).toMatchObject({ kind: 'auth', exitCode: 41 });
  expect(unauthorized.hint).toStartWith('Log in again with `qwen auth qwen-oauth`');
  expect(explainQwenOauthFailure(failure(403, 'host answered 403: Forbidden')).hint).toStartWith(
    'The Qwen OAuth login was refused: this account may not have access.',
  );
  const prompt = failure(400, 'host answered 400: Invalid token count in messages[0]');
  expect(explainQwenOauthFailure(prompt)).toBe(prompt);
});
