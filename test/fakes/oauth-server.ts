// A fake Qwen OAuth server (chat.qwen.ai's device-code and token endpoints) over real HTTP on 127.0.0.1,
// port 0. Point QWEN_OAUTH_BASE_URL at `fake.url`. Each behaviour is scripted per test:
//
//   const fake = startFakeOAuth({ pollOutcomes: ['pending', 'slow_down', 'success'], interval: 0.02 });
//   ... run `qwen auth qwen-oauth` ...
//   fake.refreshRequests  // how many refresh_token grants arrived
//
// Also runnable as a process (for tests that need it in another runtime): `bun test/fakes/oauth-server.ts`
// prints {"url": "..."} and serves the default script until killed.

export type PollOutcome =
  | 'pending'
  | 'slow_down'
  | 'success'
  | 'expired'
  | 'denied'
  | 'server_error'
  | ScriptedAnswer;
export type RefreshOutcome = 'success' | 'rejected' | 'server_error' | ScriptedAnswer;

/** An answer spelled out by the test; its body may echo the form received, as careless servers do. */
export interface ScriptedAnswer {
  status: number;
  body: (form: Record<string, string>) => unknown;
}

export interface FakeOAuthOptions {
  /** What successive device-code polls get; the last one repeats. Default: one pending, then success. */
  pollOutcomes?: PollOutcome[];
  /** `interval` in the device-code response (seconds); undefined leaves it out (clients then use 2 s). */
  interval?: number;
  expiresIn?: number;
  /** What successive refresh requests get; the last one repeats. Default: success. */
  refreshOutcomes?: RefreshOutcome[];
  /** Delay before answering a refresh, so concurrent processes overlap. */
  refreshDelayMs?: number;
  /** resource_url in token responses (e.g. the fake OpenAI server's URL). */
  resourceUrl?: string;
  /** Token lifetime in seconds. */
  tokenExpiresIn?: number;
  /** Replaces the device-code endpoint's answer. */
  deviceCodeAnswer?: ScriptedAnswer;
}

export interface RecordedOAuthRequest {
  path: string;
  form: Record<string, string>;
  headers: Record<string, string>;
}

export interface FakeOAuthServer {
  url: string;
  requests: RecordedOAuthRequest[];
  readonly pollCount: number;
  readonly refreshCount: number;
  /** The access tokens handed out, in order ("access-1", "access-2", ...). */
  issuedTokens: string[];
  stop(): Promise<void>;
}

export const fakeUserCode = 'ABCD-1234';

export function startFakeOAuth(options: FakeOAuthOptions = {}): FakeOAuthServer {
  const pollOutcomes = options.pollOutcomes ?? ['pending', 'success'];
  const refreshOutcomes = options.refreshOutcomes ?? ['success'];
  const requests: RecordedOAuthRequest[] = [];
  const issuedTokens: string[] = [];
  let pollCount = 0;
  let refreshCount = 0;

  const issue = (): Response => {
    const token = `access-${issuedTokens.length + 1}`;
    issuedTokens.push(token);
    const body: Record<string, unknown> = {
      access_token: token,
      refresh_token: `refresh-${issuedTokens.length}`,
      token_type: 'Bearer',
      expires_in: options.tokenExpiresIn ?? 3600,
    };
    if (options.resourceUrl !== undefined) body['resource_url'] = options.resourceUrl;
    return Response.json(body);
  };
  const oauthError = (status: number, error: string, description?: string) =>
    Response.json({ error, ...(description ? { error_description: description } : {}) }, { status });
  // A body of undefined is none at all (a proxy's bare 502).
  const scripted = (answer: ScriptedAnswer, form: Record<string, string>) => {
    const body = answer.body(form);
    return body === undefined
      ? new Response(null, { status: answer.status })
      : Response.json(body, { status: answer.status });
  };

  const server = Bun.serve({
    hostname: '127.0.0.1',
    port: 0,
    async fetch(request) {
      const path = new URL(request.url).pathname;
      const form = Object.fromEntries(new URLSearchParams(await request.text()));
      requests.push({ path, form, headers: Object.fromEntries(request.headers) });

      if (request.method === 'POST' && path === '/api/v1/oauth2/device/code') {
        if (options.deviceCodeAnswer !== undefined) return scripted(options.deviceCodeAnswer, form);
        if (form['code_challenge_method'] !== 'S256' || !form['code_challenge']) {
          return oauthError(400, 'invalid_request', 'PKCE S256 required');
        }
        const origin = `http://127.0.0.1:${server.port}`;
        const body: Record<string, unknown> = {
          device_code: 'device-code-1',
          user_code: fakeUserCode,
          verification_uri: `${origin}/authorize`,
          verification_uri_complete: `${origin}/authorize?user_code=${fakeUserCode}&client=qwen-code`,
          expires_in: options.expiresIn ?? 600,
        };
        if (options.interval !== undefined) body['interval'] = options.interval;
        return Response.json(body);
      }

      if (request.method === 'POST' && path === '/api/v1/oauth2/token') {
        if (form['grant_type'] === 'refresh_token') {
          const outcome = refreshOutcomes[Math.min(refreshCount, refreshOutcomes.length - 1)]!;
          refreshCount += 1;
          if (options.refreshDelayMs) await Bun.sleep(options.refreshDelayMs);
          if (typeof outcome === 'object') return scripted(outcome, form);
          if (outcome === 'rejected') return oauthError(400, 'invalid_grant', 'refresh token expired');
          if (outcome === 'server_error') return new Response('upstream down', { status: 502 });
          return issue();
        }
        if (form['grant_type'] === 'urn:ietf:params:oauth:grant-type:device_code') {
          if (!form['code_verifier']) return oauthError(400, 'invalid_request', 'code_verifier missing');
          const outcome = pollOutcomes[Math.min(pollCount, pollOutcomes.length - 1)]!;
          pollCount += 1;
          if (typeof outcome === 'object') return scripted(outcome, form);
          switch (outcome) {
            case 'pending':
              return oauthError(400, 'authorization_pending');
            case 'slow_down':
              return oauthError(429, 'slow_down');
            case 'expired':
              return oauthError(400, 'expired_token');
            case 'denied':
              return oauthError(400, 'access_denied');
            case 'server_error':
              return new Response('oops', { status: 500 });
            case 'success':
              return issue();
          }
        }
        return oauthError(400, 'unsupported_grant_type');
      }
      return new Response('not found', { status: 404 });
    },
  });

  return {
    url: `http://127.0.0.1:${server.port}`,
    requests,
    issuedTokens,
    get pollCount() {
      return pollCount;
    },
    get refreshCount() {
      return refreshCount;
    },
    stop: async () => {
      await server.stop(true);
    },
  };
}

if (import.meta.main) {
  const fake = startFakeOAuth({ interval: 0.05 });
  console.log(JSON.stringify({ url: fake.url }));
}
