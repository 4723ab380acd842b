// The shapes every layer shares. No imports, no I/O: config produces a ResolvedModel, protocols turn a
// ChatRequest into an HttpRequest, and the CLI only ever sees StreamEvents (events.ts).

/** A JSON object (not an array, not null): what parsed settings and wire payloads are narrowed with. */
/** A parsed JSON object, or one about to be serialized. */
export type JsonObject = Record<string, unknown>;

/** The value without surrounding whitespace, or undefined when nothing is left (or there was none). */
export function nonEmpty(value: string | undefined): string | undefined {
  const trimmed = value?.trim();
  return trimmed === '' ? undefined : trimmed;
}

export function isObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** A base URL without surrounding blanks or trailing slashes: how two spellings of one endpoint compare. */
export function normalizedBaseUrl(url: string): string {
  return url.trim().replace(/\/+$/, '');
}

/** Two base URLs that differ only in surrounding blanks or trailing slashes are the same endpoint. */
export function sameBaseUrl(first: unknown, second: string): boolean {
  return typeof first === 'string' && normalizedBaseUrl(first) === normalizedBaseUrl(second);
}

/** Whether a URL is Anthropic's own API (`*.anthropic.com`), not a gateway that speaks its protocol. */
export function isAnthropicHost(url: string): boolean {
  try {
    const host = new URL(url).hostname.toLowerCase();
    return host === 'anthropic.com' || host.endsWith('.anthropic.com');
  } catch {
    return false;
  }
}

/** Whether `value` is one of a constant list of names (auth types, output formats, regions). */
export function isOneOf<Name extends string>(names: readonly Name[], value: string): value is Name {
  return (names as readonly string[]).includes(value);
}

/** The auth types qwen-lite runs. */
export const authTypes = ['openai', 'anthropic', 'gemini', 'vertex-ai', 'qwen-oauth'] as const;
export type AuthType = (typeof authTypes)[number];

/**
 * Every auth type Qwen Code accepts in `--auth-type`, `security.auth.selectedType` and `enforcedType`, so its
 * files load here. qwen-lite does not speak the Responses API: `openai-responses` runs as `openai` over
 * Chat Completions, with a note (config/resolve.ts).
 */
export const acceptedAuthTypes = [...authTypes, 'openai-responses'] as const;
export type AcceptedAuthType = (typeof acceptedAuthTypes)[number];

/** The wire protocols; qwen-oauth speaks openai with a token instead of a key. */
export const protocols = ['openai', 'anthropic', 'gemini', 'vertex-ai'] as const;
export type Protocol = (typeof protocols)[number];

export type Role = 'system' | 'user' | 'assistant';

export interface Message {
  role: Role;
  content: string;
  /** An assistant turn's reply as its provider sent it, signed reasoning included (core/signed-reply.ts). */
  signedReply?: SignedReply;
}

/**
 * A reply whose reasoning the provider signed (Anthropic's thinking blocks, Gemini's thoughtSignature), in
 * the protocol's own shape: the provider wants it back unchanged in later turns. Signatures are only valid
 * where they were made, so `origin` says which endpoint and model that was.
 */
export interface SignedReply {
  origin: ReplyOrigin;
  /** Anthropic content blocks, or Gemini parts, in the order they came. */
  parts: readonly JsonObject[];
}

export interface ReplyOrigin {
  protocol: Protocol;
  /** As normalizedBaseUrl gives it. */
  baseUrl: string;
  model: string;
}

/** Sampling parameters as written in settings; unknown keys travel as-is to OpenAI-compatible servers. */
export interface SamplingParams {
  temperature?: number;
  top_p?: number;
  top_k?: number;
  max_tokens?: number;
  presence_penalty?: number;
  frequency_penalty?: number;
  stop?: string | string[];
  [key: string]: unknown;
}

/** The part of a modelProviders entry's generationConfig that reaches the wire or the HTTP layer. */
export interface GenerationConfig {
  /** Whole-request timeout in ms; 0 or less means none. */
  timeout?: number;
  /**
   * The setting that set `timeout`, as a user would raise it: `QWEN_CODE_API_TIMEOUT_MS`,
   * `model.generationConfig.timeout in settings.json`, or an entry's `generationConfig.timeout`.
   */
  timeoutSetting?: string;
  maxRetries?: number;
  samplingParams?: SamplingParams;
  customHeaders?: Record<string, string>;
  extra_body?: Record<string, unknown>;
}

/** Where a value came from, so `qwen auth status` and error messages can say why it is used. */
export interface ValueSource {
  /** e.g. "flag --openai-api-key", "environment", "/home/u/project/.env", "settings env (/home/u/.qwen/settings.json)" */
  description: string;
  /** The variable or setting name, when there is one. */
  name?: string;
}

/**
 * Where a value was set, for messages: `OPENAI_BASE_URL in the environment`, `OPENAI_API_KEY in /p/.env`,
 * `baseUrl in settings modelProviders.openai (gpt-4o)`; the description alone when it names the value
 * already (a flag, `resource_url in <file>`) or there is no name (a default).
 */
export function whereSet(source: ValueSource): string {
  const { name, description } = source;
  if (name === undefined || description.includes(name) || description.startsWith('flag ')) return description;
  return `${name} in ${description === 'environment' ? 'the environment' : description}`;
}

/** Everything the pipeline needs to talk to one model; produced by config/resolve.ts. */
export interface ResolvedModel {
  authType: AuthType;
  protocol: Protocol;
  /** The id sent as `model`. */
  model: string;
  /** Where the model id was chosen: a flag, a variable, `model.name`, the first modelProviders entry. */
  modelSource?: ValueSource;
  /** Base URL as configured (protocol adapters add their paths). Empty means the protocol default. */
  baseUrl: string;
  baseUrlSource?: ValueSource;
  /** The API key or bearer token. Undefined when none was found. */
  apiKey?: string;
  apiKeySource?: ValueSource;
  /**
   * Where the key variable is set, but empty, when no key was found: it hides what a lower layer (a .env
   * file, settings env) holds, and a message that said "set it" would puzzle whoever sees it set.
   */
  emptyKeySource?: ValueSource;
  /**
   * A bearer token (Qwen OAuth, Google ADC, ANTHROPIC_AUTH_TOKEN). When set, adapters send
   * `Authorization: Bearer <accessToken>` instead of the protocol's API-key header.
   */
  accessToken?: string;
  /** The variable the key is expected in, for messages ("set OPENAI_API_KEY"). */
  apiKeyVariable?: string;
  generationConfig: GenerationConfig;
  /** The display name of the provider entry, when the model came from modelProviders. */
  displayName?: string;
  /** Extra headers the auth layer adds (for example DashScope's). */
  extraHeaders?: Record<string, string>;
  /** An OpenAI-compatible DashScope endpoint (compat §7): the body marks the prompt for its context cache. */
  dashScope?: boolean;
  /** Vertex AI project mode: project and location, used when there is no API key. */
  googleCloud?: { project: string; location: string };
  /** One-line notes for stderr about how the configuration was read (e.g. openai-responses run as openai). */
  notes?: string[];
}

/** One request to a model: the resolved target and the conversation so far. */
export interface ChatRequest {
  target: ResolvedModel;
  messages: Message[];
  /** The run's (or interactive session's) id: the JSON output's session_id, and `${session_id}` in headers. */
  sessionId?: string;
}

/** Stands for the session id in a customHeaders value (allowed by outboundCorrelation.allowDynamicHeaderValues). */
// biome-ignore lint/suspicious/noTemplateCurlyInString: the literal text users write in settings, not a template.
export const sessionIdPlaceholder = '${session_id}';

/** What a protocol adapter asks the HTTP layer to send. */
export interface HttpRequest {
  url: string;
  headers: Record<string, string>;
  body: string;
}

export interface Usage {
  inputTokens: number;
  /** As the provider counts its output, and Qwen Code reports it: with the reasoning, except on Gemini. */
  outputTokens: number;
  totalTokens: number;
  cachedInputTokens?: number;
  reasoningTokens?: number;
}
