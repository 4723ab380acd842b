import { expect, test } from 'bun:test';
import { endedEarlyMessage, streamErrorMessage } from '../../src/cli/stream-failure.ts';

const host = 'api.example.com';

test('an error event before any answer names the status and code, as an HTTP failure would', () => {
  const overloaded = { message: 'Overloaded', status: 529, code: 'overloaded_error' };
  expect(streamErrorMessage(overloaded, 'Overloaded', host, false)).toBe(
    'api.example.com reported 529 overloaded_error before any answer: Overloaded',
  );
  const busy = { message: 'High demand.', status: 503, code: 'UNAVAILABLE' };
  expect(streamErrorMessage(busy, 'High demand.', host, false)).toBe(
    'api.example.com reported 503 UNAVAILABLE before any answer: High demand.',
  );
});

test('"The answer stopped" only once some of the answer was shown', () => {
  const overloaded = { message: 'Overloaded', status: 529, code: 'overloaded_error' };
  expect(streamErrorMessage(overloaded, 'Overloaded', host, true)).toBe(
    'The answer stopped: api.example.com reported 529 overloaded_error: Overloaded',
  );
  const cut = { message: 'Gemini cut the answer off (finishReason SAFETY).', code: 'SAFETY' };
  expect(streamErrorMessage(cut, cut.message, host, true)).toBe(
    'The answer stopped with an error from api.example.com: Gemini cut the answer off (finishReason SAFETY).',
  );
});

test('a code the message already names is not repeated; without status or code it is "an error"', () => {
  const blocked = {
    message: 'The prompt was blocked by Gemini (PROHIBITED_CONTENT).',
    code: 'PROHIBITED_CONTENT',
  };
  expect(streamErrorMessage(blocked, blocked.message, host, false)).toBe(
    'api.example.com reported an error before any answer: The prompt was blocked by Gemini (PROHIBITED_CONTENT).',
  );
  expect(streamErrorMessage({ message: 'm', code: 'rate_limit' }, 'm', host, false)).toBe(
    'api.example.com reported rate_limit before any answer: m',
  );
});

test('a stream that ended early: before any answer, or before the answer was complete', () => {
  expect(endedEarlyMessage('no finishReason', host, false)).toBe(
    'The event stream from api.example.com ended before any answer (no finishReason).',
  );
  expect(endedEarlyMessage('no finishReason', host, true)).toBe(
    'The stream from api.example.com ended before the answer was complete (no finishReason).',
  );
});

test('a code that is the status again (vLLM, gateways: code 500 beside status 500) is said once', () => {
  const failure = { message: 'upstream exploded', status: 500, code: '500' };
  expect(streamErrorMessage(failure, failure.message, host, true)).toBe(
    'The answer stopped: api.example.com reported 500: upstream exploded',
  );
});
