// A fake Google OAuth 2.0 token endpoint over real HTTP on 127.0.0.1, port 0, for Application Default
// Credentials tests. Point a credentials file's `token_uri` at `fake.tokenUrl`.
//
// - `urn:ietf:params:oauth:grant-type:jwt-bearer` (service accounts): the assertion's RS256 signature is
//   verified with `publicKey`, and its claims checked as Google does (aud = this token URL, a scope, a
//   lifetime of at most one hour, iss = `clientEmail` when given).
// - `refresh_token` (authorized_user files from `gcloud auth application-default login`): client id,
//   secret and refresh token must match.
// Failures answer with Google's `{error, error_description}` bodies.

export interface FakeGoogleTokenOptions {
  port?: number;
  /** Verifies service-account assertions; without it any well-formed RS256 JWT is accepted. */
  publicKey?: CryptoKey;
  clientEmail?: string;
  /** authorized_user credentials that are accepted. */
  clientId?: string;
  clientSecret?: string;
  refreshToken?: string;
  /** Lifetime of issued tokens in seconds (Google: 3599). */
  expiresIn?: number;
}

export interface RecordedTokenRequest {
  path: string;
  contentType: string;
  form: Record<string, string>;
  /** For jwt-bearer grants: the decoded JWT header and claims, and whether the signature verified. */
  assertion?: { header: Record<string, unknown>; claims: Record<string, unknown>; signatureValid: boolean };
}

export interface FakeGoogleToken {
  /** The token endpoint, for `token_uri`. */
  tokenUrl: string;
  port: number;
  requests: RecordedTokenRequest[];
  /** Access tokens handed out so far, in order (`ya29.fake-1`, `ya29.fake-2`, ...). */
  issuedTokens: string[];
  /** The next requests get these answers instead of a token (one each, in order). */
  failNext(...answers: { status: number; body: unknown }[]): void;
  stop(): Promise<void>;
}

/** The kind of key Google issues for service accounts (RS256); the public half goes to the fake. */
export function rsaKeyPair(): Promise<CryptoKeyPair> {
  return crypto.subtle.generateKey(
    {
      name: 'RSASSA-PKCS1-v1_5',
      modulusLength: 2048,
      publicExponent: new Uint8Array([1, 0, 1]),
      hash: 'SHA-256',
    },
    true,
    ['sign', 'verify'],
  );
}

/** A private key as a service-account file's `private_key` holds it (PKCS#8 PEM). */
export async function privateKeyPem(key: CryptoKey): Promise<string> {
  const base64 = Buffer.from(await crypto.subtle.exportKey('pkcs8', key)).toString('base64');
  const lines = base64.match(/.{1,64}/g) ?? [];
  return `-----BEGIN PRIVATE KEY-----\n${lines.join('\n')}\n-----END PRIVATE KEY-----\n`;
}

export const jwtBearerGrant = 'urn:ietf:params:oauth:grant-type:jwt-bearer';
export const cloudPlatformScope = 'https://www.googleapis.com/auth/cloud-platform';

function base64UrlDecode(text: string): Uint8Array<ArrayBuffer> {
  const base64 = text.replace(/-/g, '+').replace(/_/g, '/');
  const padded = base64 + '='.repeat((4 - (base64.length % 4)) % 4);
  const binary = atob(padded);
  const bytes = new Uint8Array(binary.length);
  for (let index = 0; index < binary.length; index += 1) bytes[index] = binary.charCodeAt(index);
  return bytes;
}

function decodeJsonSegment(segment: string): Record<string, unknown> {
  try {
    const value: unknown = JSON.parse(new TextDecoder().decode(base64UrlDecode(segment)));
    return typeof value === 'object' && value !== null ? (value as Record<string, unknown>) : {};
  } catch {
    return {};
  }
}

function oauthError(status: number, error: string, description: string): Response {
  return Response.json({ error, error_description: description }, { status });
}

export function startFakeGoogleToken(options: FakeGoogleTokenOptions = {}): FakeGoogleToken {
  const requests: RecordedTokenRequest[] = [];
  const issuedTokens: string[] = [];
  const failures: { status: number; body: unknown }[] = [];
  let tokenUrl = '';

  function issue(): Response {
    const token = `ya29.fake-${issuedTokens.length + 1}`;
    issuedTokens.push(token);
    return Response.json({
      access_token: token,
      expires_in: options.expiresIn ?? 3599,
      token_type: 'Bearer',
    });
  }

  async function jwtGrant(record: RecordedTokenRequest): Promise<Response> {
    const parts = (record.form['assertion'] ?? '').split('.');
    const [headerPart, claimsPart, signaturePart] = parts;
    if (
      parts.length !== 3 ||
      headerPart === undefined ||
      claimsPart === undefined ||
      signaturePart === undefined
    ) {
      return oauthError(
        400,
        'invalid_grant',
        'Invalid JWT: Token must be a short-lived token and in a reasonable timeframe',
      );
    }
    const header = decodeJsonSegment(headerPart);
    const claims = decodeJsonSegment(claimsPart);
    let signatureValid = false;
    if (options.publicKey !== undefined) {
      signatureValid = await crypto.subtle.verify(
        'RSASSA-PKCS1-v1_5',
        options.publicKey,
        base64UrlDecode(signaturePart),
        new TextEncoder().encode(`${headerPart}.${claimsPart}`),
      );
    }
    record.assertion = { header, claims, signatureValid };
    if (header['alg'] !== 'RS256') return oauthError(400, 'invalid_grant', 'Invalid JWT: alg must be RS256');
    if (options.publicKey !== undefined && !signatureValid) {
      return oauthError(400, 'invalid_grant', 'Invalid JWT Signature.');
    }
    if (options.clientEmail !== undefined && claims['iss'] !== options.clientEmail) {
      return oauthError(401, 'invalid_client', 'The OAuth client was not found.');
    }
    if (claims['aud'] !== tokenUrl) return oauthError(400, 'invalid_grant', 'Invalid JWT audience.');
    const iat = Number(claims['iat']);
    const exp = Number(claims['exp']);
    if (!Number.isFinite(iat) || !Number.isFinite(exp) || exp <= iat || exp - iat > 3600) {
      return oauthError(
        400,
        'invalid_grant',
        'Invalid JWT: Token must be a short-lived token (60 minutes) and in a reasonable timeframe.',
      );
    }
    if (typeof claims['scope'] !== 'string' || claims['scope'] === '') {
      return oauthError(400, 'invalid_scope', 'Invalid OAuth scope or ID token audience provided.');
    }
    return issue();
  }

  function refreshGrant(record: RecordedTokenRequest): Response {
    const { form } = record;
    if (options.clientId !== undefined && form['client_id'] !== options.clientId) {
      return oauthError(401, 'invalid_client', 'The OAuth client was not found.');
    }
    if (options.clientSecret !== undefined && form['client_secret'] !== options.clientSecret) {
      return oauthError(401, 'invalid_client', 'Unauthorized');
    }
    if (options.refreshToken !== undefined && form['refresh_token'] !== options.refreshToken) {
      return oauthError(400, 'invalid_grant', 'Token has been expired or revoked.');
    }
    return issue();
  }

  const server = Bun.serve({
    hostname: '127.0.0.1',
    port: options.port ?? 0,
    async fetch(request) {
      const url = new URL(request.url);
      const text = await request.text();
      const record: RecordedTokenRequest = {
        path: url.pathname,
        contentType: request.headers.get('content-type') ?? '',
        form: Object.fromEntries(new URLSearchParams(text)),
      };
      requests.push(record);
      if (request.method !== 'POST' || url.pathname !== '/token') {
        return new Response('Not Found', { status: 404 });
      }
      const failure = failures.shift();
      if (failure !== undefined) return Response.json(failure.body, { status: failure.status });
      const grant = record.form['grant_type'];
      if (grant === jwtBearerGrant) return jwtGrant(record);
      if (grant === 'refresh_token') return refreshGrant(record);
      return oauthError(400, 'unsupported_grant_type', `Invalid grant_type: ${grant ?? ''}`);
    },
  });

  const port = server.port ?? 0;
  tokenUrl = `http://127.0.0.1:${port}/token`;
  return {
    tokenUrl,
    port,
    requests,
    issuedTokens,
    failNext(...answers) {
      failures.push(...answers);
    },
    async stop() {
      await server.stop(true);
    },
  };
}
