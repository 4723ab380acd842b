// The house rule end to end: a key a server echoes mid-stream never reaches stdout or stderr; its masked
// form does.
import { afterEach, describe, expect, test } from 'bun:test';
import {
  type AnthropicStreamOptions,
  anthropicStream,
  startFakeAnthropic,
} from '../fakes/anthropic-server.ts';
import { geminiStream, startFakeGemini } from '../fakes/gemini-server.ts';
import { startFakeOpenAi } from '../fakes/openai-server.ts';
import { type CliResult, makeSandbox, runCli, type Sandbox } from './harness.ts';

const stops: (() => Promise<void>)[] = [];
let sandbox: Sandbox;

afterEach(async () => {
  for (const stop of stops.splice(0)) await stop();
  sandbox?.cleanup();
});

function run(args: string[], env: Record<string, string>): Promise<CliResult> {
  sandbox = makeSandbox();
  return runCli(args, { sandbox, env });
}

function expectHidden(result: CliResult, secret: string, masked: string): void {
  expect(result.stdout).not.toContain(secret);
  expect(result.stderr).not.toContain(secret);
  expect(`${result.stdout}${result.stderr}`).toContain(masked);
}

describe('a stream that fails midway does not print the key the server echoes', () => {
  const key = 'sk-test-SECRET1234';

  test('OpenAI-compatible: text, json and stream-json', async () => {
    const fake = startFakeOpenAi({
      sse:
        'data: {"id":"c","choices":[{"index":0,"delta":{"content":"Hi"},"finish_reason":null}]}\n\n' +
        `data: {"error":{"message":"key ${key} revoked"}}\n\n`,
    });
    stops.push(fake.stop);
    const env = { OPENAI_API_KEY: key, OPENAI_BASE_URL: fake.url, OPENAI_MODEL: 'm' };
    for (const format of ['text', 'json', 'stream-json']) {
      const result = await run(['-o', format, 'hi'], env);
      expect(result.exitCode).toBe(1);
      expectHidden(result, key, 'key sk-...1234 revoked');
      if (format !== 'text') expect(result.stdout).toContain('sk-...1234');
    }
  });

  test('Anthropic: an error event quoting the x-api-key value', async () => {
    const anthropicKey = 'sk-ant-api03-SECRET-5678';
    const stream: AnthropicStreamOptions = {
      text: ['Hi'],
      errorType: 'invalid_request_error',
      errorMessage: `x-api-key ${anthropicKey} is revoked`,
    };
    const fake = startFakeAnthropic({ sse: anthropicStream(stream) }, { apiKey: anthropicKey });
    stops.push(fake.stop);
    const result = await run(['hi'], {
      ANTHROPIC_API_KEY: anthropicKey,
      ANTHROPIC_BASE_URL: fake.url,
      ANTHROPIC_MODEL: 'claude-sonnet-4-5',
    });
    expect(result.exitCode).toBe(1);
    expect(result.stdout).toStartWith('Hi');
    expectHidden(result, anthropicKey, 'x-api-key sk-...5678 is revoked');
  });

  test('Gemini: an {error} chunk quoting the API key', async () => {
    const geminiKey = 'AIzaSyE2eSECRET-GeminiKey9012';
    const fake = startFakeGemini(
      {
        sse: geminiStream({
          text: ['Hi'],
          error: { code: 403, message: `API key ${geminiKey} was revoked`, status: 'PERMISSION_DENIED' },
        }),
      },
      { apiKey: geminiKey },
    );
    stops.push(fake.stop);
    const result = await run(['--auth-type', 'gemini', 'hi'], {
      GEMINI_API_KEY: geminiKey,
      GOOGLE_GEMINI_BASE_URL: fake.url,
      GEMINI_MODEL: 'gemini-2.5-pro',
    });
    expect(result.exitCode).toBe(1);
    expectHidden(result, geminiKey, 'API key AIz...9012 was revoked');
  });
});
