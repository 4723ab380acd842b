// DashScope-flavoured OpenAI traffic (compat §7), as Qwen Code sends it to Alibaba Cloud's endpoints (Coding
// Plan, Model Studio, Token Plan), to a DashScope proxy, and with Qwen OAuth: headers that turn on its
// context cache and say which client and auth type call. The body's part (cache markers, session metadata)
// is protocols/openai.ts's, for targets marked `dashScope`.
import { type AuthType, sameBaseUrl } from '../core/types.ts';
import { qwenCodeUserAgent } from './client-headers.ts';

/**
 * Hosts Qwen Code treats as DashScope: `*.dashscope.aliyuncs.com` (Coding Plan's `coding-intl.dashscope...`)
 * and the regional `dashscope-intl`, `dashscope-us` ones, `token-plan.*.maas.aliyuncs.com`, ...
 */
const dashScopeHosts = [
  /(^|\.)dashscope(-[a-z0-9]+)?\.aliyuncs\.com$/,
  /^token-plan\.[^.]+\.maas\.aliyuncs\.com$/,
  /(^|\.)alicloudapi\.com$/,
  /(^|\.)alibaba-inc\.com$/,
  /(^|\.)aliyun-inc\.com$/,
];

/** True for a DashScope endpoint, or the one `DASHSCOPE_PROXY_BASE_URL` names (which counts as DashScope). */
export function isDashScopeEndpoint(baseUrl: string, proxyBaseUrl: string | undefined): boolean {
  if (proxyBaseUrl !== undefined && proxyBaseUrl.trim() !== '' && sameBaseUrl(baseUrl, proxyBaseUrl))
    return true;
  const host = hostNameOf(baseUrl);
  // Every such host has "ali" in it: any other never compiles the patterns (this runs on every OpenAI run).
  return host?.includes('ali') === true && dashScopeHosts.some((pattern) => pattern.test(host));
}

/** The headers DashScope reads: its context cache on, the client, and the auth type in use. */
export function dashScopeHeaders(authType: AuthType): Record<string, string> {
  return {
    'X-DashScope-CacheControl': 'enable',
    'X-DashScope-UserAgent': qwenCodeUserAgent,
    'X-DashScope-AuthType': authType,
  };
}

function hostNameOf(url: string): string | undefined {
  try {
    return new URL(url).hostname.toLowerCase();
  } catch {
    return undefined;
  }
}
