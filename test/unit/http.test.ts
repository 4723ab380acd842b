import { expect, test } from 'bun:test';
import { redactSecrets, retryDelayMs, serverRequestedDelayMs } from '../../src/net/http.ts';

test('a key echoed by the server is masked in error text', () => {
  const headers = { Authorization: 'Bearer sk-live-1234567890abcdef', 'Content-Type': 'application/json' };
  const text = redactSecrets('{"error":{"message":"key sk-live-1234567890abcdef is revoked"}}', headers);
  expect(text).not.toContain('sk-live-1234567890abcdef');
  expect(text).toContain('sk-...cdef');
  expect(
    redactSecrets('x-goog AIzaSyA-secret-value', { 'x-goog-api-key': 'AIzaSyA-secret-value' }),
  ).not.toContain('AIzaSyA-secret-value');
});

test('server-requested delays: retry-after-ms, retry-after seconds and HTTP dates', () => {
  expect(serverRequestedDelayMs(new Headers({ 'retry-after-ms': '250' }))).toBe(250);
  expect(serverRequestedDelayMs(new Headers({ 'retry-after': '2' }))).toBe(2000);
  const inTenSeconds = new Date(Date.now() + 10_000).toUTCString();
  const fromDate = serverRequestedDelayMs(new Headers({ 'retry-after': inTenSeconds })) ?? 0;
  expect(fromDate).toBeGreaterThan(8000);
  expect(fromDate).toBeLessThanOrEqual(10_000);
  expect(serverRequestedDelayMs(new Headers())).toBeUndefined();
});

test('retry delays: server hint wins, too-long waits are not waited for, backoff grows with jitter', () => {
  expect(retryDelayMs(new Headers({ 'retry-after-ms': '30' }), { message: '' }, 1)).toBe(30);
  expect(retryDelayMs(new Headers(), { message: '', retryAfterMs: 1500 }, 1)).toBe(1500);
  expect(retryDelayMs(new Headers({ 'retry-after': '600' }), { message: '' }, 1)).toBeUndefined();
  for (let attempt = 1; attempt <= 6; attempt += 1) {
    const delay = retryDelayMs(new Headers(), { message: '' }, attempt) ?? -1;
    const base = Math.min(8000, 500 * 2 ** (attempt - 1));
    expect(delay).toBeGreaterThanOrEqual(base * 0.75);
    expect(delay).toBeLessThanOrEqual(base);
  }
});
