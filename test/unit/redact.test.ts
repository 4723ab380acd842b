import { describe, expect, test } from 'bun:test';
import { CliError, redactFailure } from '../../src/core/errors.ts';
import { maskKeyLikeWords, maskSecret, maskUrl, maskUrlsIn, redactSecrets } from '../../src/core/redact.ts';

describe('maskSecret', () => {
  test('keeps a short prefix and the last four characters; short values become stars', () => {
    expect(maskSecret('sk-test-SECRET1234')).toBe('sk-...1234');
    expect(maskSecret('AIzaSyE2eSECRET-GeminiKey9012')).toBe('AIz...9012');
    expect(maskSecret('short')).toBe('*****');
  });
});

describe('redactSecrets', () => {
  test('masks each secret wherever it appears, as sent and percent-encoded', () => {
    const secret = 'qort-REFRESH/SECRET+1';
    const text = `refresh token ${secret} is bad (form: refresh_token=${encodeURIComponent(secret)})`;
    const redacted = redactSecrets(text, [secret]);
    expect(redacted).toBe('refresh token qort-...ET+1 is bad (form: refresh_token=qort-...ET+1)');
  });

  test('a secret containing another is masked whole; short values and the rest of the text stay', () => {
    const text = 'token abcdefgh-long-0001, then abcdefgh alone, and k';
    expect(redactSecrets(text, ['abcdefgh', 'abcdefgh-long-0001', 'k', ''])).toBe(
      'token abc...0001, then ******** alone, and k',
    );
    expect(redactSecrets('nothing to hide', [])).toBe('nothing to hide');
  });

  test('also masks the credentials of URLs in the text, known or not', () => {
    expect(redactSecrets('error sending request for url (http://a:pw@h:1/v1?key=xyz)', [])).toBe(
      'error sending request for url (http://a:***@h:1/v1?key=***)',
    );
  });
});

describe('maskUrl', () => {
  test('the password, or a user part without one, becomes ***', () => {
    expect(maskUrl('http://admin:hunter2pass@127.0.0.1:9/v1')).toBe('http://admin:***@127.0.0.1:9/v1');
    expect(maskUrl('https://ghp_TOKEN0001@git.example/v1')).toBe('https://***@git.example/v1');
    expect(maskUrl('http://user%40corp:p%3Ass@proxy:3128')).toBe('http://user%40corp:***@proxy:3128');
    expect(maskUrl('http://a:b@c@host/v1')).toBe('http://a:***@host/v1');
  });

  test('credential-like query and fragment values become ***; the others stay', () => {
    expect(maskUrl('https://h/v1?token=tok-1&region=eu')).toBe('https://h/v1?token=***&region=eu');
    expect(maskUrl('https://h/v1beta?alt=sse&key=AIza0001')).toBe('https://h/v1beta?alt=sse&key=***');
    expect(maskUrl('https://h/?api_key=1&apiKey=2&access_token=3&sig=4&X-Amz-Signature=5&user_code=AB')).toBe(
      'https://h/?api_key=***&apiKey=***&access_token=***&sig=***&X-Amz-Signature=***&user_code=AB',
    );
    expect(maskUrl('https://h/cb#access_token=abc&state=s')).toBe('https://h/cb#access_token=***&state=s');
  });

  test('URLs without credentials are returned as they are, @ in the path included', () => {
    for (const url of [
      'https://dashscope.aliyuncs.com/compatible-mode/v1',
      'https://eu-aiplatform.googleapis.com/v1/projects/p/locations/eu/publishers/anthropic/models/claude@20240620:streamRawPredict',
      'http://127.0.0.1:8080',
      'not a url',
      '',
    ]) {
      expect(maskUrl(url)).toBe(url);
    }
  });

  test('URLs that do not parse, and proxy URLs without a scheme, are masked up to their last @', () => {
    expect(maskUrl('http://admin:hun/ter#2@bad host/v1?api_key=k-1')).toBe(
      'http://admin:***@bad host/v1?api_key=***',
    );
    expect(maskUrl('carol:pw@host:1')).toBe('carol:***@host:1');
    expect(maskUrl('http://bob:hunter2@[bad')).toBe('http://bob:***@[bad');
  });
});

describe('a key given where a URL, host or header name goes', () => {
  test('is masked; a mistyped URL, a host name, a model-free word stay readable', () => {
    expect(maskUrl('sk-proj-SECRETSECRET1234567890abcdef')).toBe('sk-...cdef');
    const jwt = 'eyJhbGciOiJSUzI1NiJ9.eyJhdWQiOiJ4In0.c2lnbmF0dXJlMTIz';
    expect(maskUrl(jwt)).not.toContain('eyJhdWQi');
    expect(maskKeyLikeWords('X-Key sk-proj-SECRETSECRET1234567890abcdef')).toBe('X-Key sk-...cdef');
    for (const readable of [
      'htps//llm.internal/v1',
      'llm.internal.example.com',
      'localhost:8080',
      'not a url',
    ]) {
      expect(maskUrl(readable)).toBe(readable);
    }
    expect(maskUrl('https://gateway.example/v1/sk-proj-in-a-path-1234567890')).toBe(
      'https://gateway.example/v1/sk-proj-in-a-path-1234567890',
    );
  });
});

describe('maskUrlsIn', () => {
  test('every URL in a message, and the query of one cut short by a space', () => {
    const text =
      'The base URL is not a valid URL: http://admin:hunter2pass@bad host/v1?token=t-1/chat/completions; ' +
      'also tried https://u:p@ok.example/v1 and https://plain.example/v1?region=eu.';
    expect(maskUrlsIn(text)).toBe(
      'The base URL is not a valid URL: http://admin:***@bad host/v1?token=***; ' +
        'also tried https://u:***@ok.example/v1 and https://plain.example/v1?region=eu.',
    );
  });
});

describe('redactFailure', () => {
  test('masks message and hint, keeps kind, status and cause, and not the original', () => {
    const cause = new Error('socket');
    const failure = new CliError('auth', 'key sk-test-SECRET1234 revoked', {
      status: 401,
      hint: 'Replace sk-test-SECRET1234.',
      cause,
    });
    const redacted = redactFailure(failure, ['sk-test-SECRET1234']);
    expect(redacted.message).toBe('key sk-...1234 revoked');
    expect(redacted.hint).toBe('Replace sk-...1234.');
    expect(redacted).toMatchObject({ kind: 'auth', exitCode: 41, status: 401, cause });
    expect(redacted.stack).not.toContain('SECRET');
  });

  test('a URL in the hint is our example of the form, and stays as written (the secrets in it are still masked)', () => {
    const failure = new CliError(
      'network',
      'The proxy http://proxy:3128 asks for a user name and password (407).',
      {
        hint: 'Put them in the proxy URL: http://user:password@host:port (sk-test-SECRET1234 not needed).',
      },
    );
    const redacted = redactFailure(failure, ['sk-test-SECRET1234']);
    expect(redacted.hint).toBe(
      'Put them in the proxy URL: http://user:password@host:port (sk-...1234 not needed).',
    );
  });

  test('a failure with nothing to mask is returned as it is', () => {
    const failure = new CliError('api', 'The server failed.');
    expect(redactFailure(failure, ['sk-test-SECRET1234'])).toBe(failure);
  });
});

describe('CliError', () => {
  test('a message naming a URL shows its credentials masked, stack included; the hint is ours', () => {
    const failure = new CliError(
      'config',
      'The base URL is not a valid URL: http://admin:hunter2pass@bad host',
      {
        hint: 'Write it as http://user:password@host:port.',
      },
    );
    expect(failure.message).toBe('The base URL is not a valid URL: http://admin:***@bad host');
    expect(failure.stack).not.toContain('hunter2pass');
    expect(failure.hint).toBe('Write it as http://user:password@host:port.');
  });
});
