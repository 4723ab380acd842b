// `qwen auth ...`: log in with Qwen OAuth, configure Coding Plan from a script, show which credentials a
// run would use and why, log out. A thin shell: the work is in src/auth/, where the interactive /auth
// wizard reuses it. Results go to stdout; the login's URL, code and QR code go to stderr.
import { existsSync } from 'node:fs';
import process from 'node:process';
import { browserUnavailableReason, canOpenBrowser, openBrowser } from '../auth/browser.ts';
import {
  codingPlanEnvKey,
  codingPlanRegionLabels,
  codingPlanRegions,
  configureCodingPlan,
  isCodingPlanRegion,
  replacing,
  validateCodingPlanKey,
} from '../auth/coding-plan.ts';
import {
  keyVariableOf,
  missingKeyError,
  notLoggedInError,
  unsendableKeyError,
  unsendableOauthTokenError,
} from '../auth/credentials.ts';
import { findGoogleCredentials } from '../auth/google-adc.ts';
import { encodeQr, renderQrForTerminal } from '../auth/qr.ts';
import { type DeviceAuthorization, resourceBaseUrl, runDeviceLogin } from '../auth/qwen-oauth.ts';
import {
  assertCanSaveCredentials,
  cachedLogin,
  deleteFile,
  readCredentials,
  refreshMarginMs,
  writeCredentials,
} from '../auth/token-store.ts';
import { type LoadedConfiguration, loadConfiguration } from '../config/load.ts';
import { configPaths } from '../config/paths.ts';
import {
  assertAuthTypeAllowed,
  highestFileWith,
  keyAsWritten,
  NoModelSelectedError,
  qwenOauthModel,
  type ResolveFlags,
  resolveAuthType,
  resolveModel,
  settingsThatWin,
} from '../config/resolve.ts';
import { assertCanUpdateSettingsFile, updateSettingsFile } from '../config/settings-writer.ts';
import { modelSettingsPath } from '../config/setup-files.ts';
import { CliError } from '../core/errors.ts';
import { unsendableCharacterIn } from '../core/header-text.ts';
import { maskSecret, maskUrl } from '../core/redact.ts';
import { type AcceptedAuthType, nonEmpty, type ResolvedModel, whereSet } from '../core/types.ts';
import { defaultAnthropicBaseUrl } from '../protocols/anthropic.ts';
import { defaultGeminiBaseUrl, defaultVertexHostFor } from '../protocols/gemini.ts';
import { defaultOpenAiBaseUrl } from '../protocols/openai.ts';
import { terminalSafe } from '../render/terminal-safe.ts';
import { type AuthFlags, flagsForResolution, type MainFlags } from './command-line.ts';
import type { RunContext } from './context.ts';
import { configureNetwork } from './network.ts';
import { readPipedStdin } from './terminal-io.ts';

export const authActions = ['qwen-oauth', 'coding-plan', 'status', 'logout'] as const;

export interface AuthCommandOptions {
  /** Draw the QR code only where someone can see it... */
  stderrIsTerminal?: boolean;
  /** ...and only when it fits: the terminal's width (stderr's by default). */
  columns?: number;
  platform?: NodeJS.Platform;
  /** The piped key for `coding-plan`; stdin by default. */
  readKeyFromStdin?: () => Promise<string | undefined>;
}

/** A key fetched by a password manager may take a while to arrive; a silent open pipe still ends. */
const keyOnStdinTimeoutMs = 30_000;

export async function runAuthCommand(
  action: string | undefined,
  flags: AuthFlags & MainFlags,
  context: RunContext,
  options: AuthCommandOptions = {},
): Promise<number> {
  const format = flags.outputFormat;
  if (format !== 'text' && !(action === 'status' && format === 'json')) {
    throw new CliError(
      'input',
      `\`qwen auth\` prints text; only \`qwen auth status\` also prints json, not "${format}".`,
      {
        hint: 'Use -o json with `qwen auth status`, or leave -o out.',
      },
    );
  }
  switch (action) {
    case 'qwen-oauth':
      return loginWithQwenOauth(flags, context, options);
    case 'coding-plan':
      return setUpCodingPlan(flags, context, options);
    case 'status':
      return showStatus(flags, context);
    case 'logout':
      return logout(context);
    default:
      throw new CliError(
        'input',
        action === undefined ? 'Say which auth action to run.' : `Unknown auth action "${action}".`,
        {
          hint: 'Use one of: qwen auth qwen-oauth | qwen auth coding-plan --region china|global [--key sk-sp-...] | qwen auth status | qwen auth logout.',
        },
      );
  }
}

/** The configuration as a run without flags would see it; `readFile` shows files as they would be written. */
export function loadConfigurationFor(
  context: RunContext,
  readFile?: (path: string) => string | undefined,
): LoadedConfiguration {
  return loadConfiguration({
    argvFlags: {},
    processEnv: context.env,
    cwd: context.cwd,
    home: context.home,
    platform: process.platform,
    ...(readFile === undefined ? {} : { readFile }),
  });
}

export function pathsOf(context: RunContext) {
  return configPaths({ env: context.env, cwd: context.cwd, home: context.home, platform: process.platform });
}

async function loginWithQwenOauth(
  flags: AuthFlags & MainFlags,
  context: RunContext,
  options: AuthCommandOptions,
): Promise<number> {
  const configuration = loadConfigurationFor(context);
  const { paths } = configuration;
  // Refused before the login: its selectedType would leave every later run refused.
  assertAuthTypeAllowed(configuration.settings.merged, 'qwen-oauth', 'Set that auth type up instead');
  // The login goes through the same proxy and certificates as every other request.
  configureNetwork(context, configuration, flags);
  // A later `qwen "..."` should use the login without flags, as after Qwen Code's /auth: the user file says
  // so. The workspace file is edited only where /model saves (modelSettingsPath: it defines modelProviders,
  // so setups already write there); any other project file, possibly committed and shared, is left as it is,
  // and a choice of its that wins over the login is warned about. The model another provider left would only
  // get "Unsupported Qwen OAuth model" on every run: Qwen OAuth serves one.
  const { files } = configuration.settings;
  const userFile = files.find((file) => file.path === paths.userSettings);
  const modelPath = modelSettingsPath(configuration);
  const workspace = files.find((file) => file.scope === 'workspace' && file.path === modelPath);
  const otherModel = (file: typeof userFile) => {
    const name = file?.settings.model?.name;
    return name !== undefined && name !== '' && name !== qwenOauthModel ? name : undefined;
  };
  const workspaceType = workspace?.settings.security?.auth?.selectedType;
  const written = [{ path: paths.userSettings, select: true, dropModel: otherModel(userFile) }];
  const workspaceSelects = workspaceType !== undefined && workspaceType !== 'qwen-oauth';
  const workspaceModel = otherModel(workspace);
  if (workspace !== undefined && (workspaceSelects || workspaceModel !== undefined)) {
    written.push({ path: workspace.path, select: workspaceSelects, dropModel: workspaceModel });
  }
  const editsOf = ({ select, dropModel }: (typeof written)[number]) => [
    ...(select ? [{ path: ['security', 'auth', 'selectedType'], value: 'qwen-oauth' }] : []),
    ...(dropModel === undefined
      ? []
      : [
          { path: ['model', 'name'], value: undefined },
          { path: ['model', 'baseUrl'], value: undefined },
        ]),
  ];
  // What would stop the saving is found now, not after the user approved in the browser: that login,
  // its refresh token already issued, would be lost.
  assertCanSaveCredentials(paths.oauthCreds);
  for (const file of written) assertCanUpdateSettingsFile(file.path, editsOf(file));
  const platform = options.platform ?? process.platform;
  const stderrIsTerminal = options.stderrIsTerminal ?? Boolean(process.stderr.isTTY);
  const credentials = await runDeviceLogin({
    env: context.env,
    signal: context.signal,
    fetchImplementation: context.fetchImplementation,
    onAuthorization: (authorization) =>
      showAuthorization(authorization, context, {
        platform,
        stderrIsTerminal,
        columns: options.columns ?? process.stderr.columns,
      }),
    onSlowDown: (intervalMs) =>
      context.writeError(
        `The server asked to poll less often; now every ${(intervalMs / 1000).toFixed(1)} s.`,
      ),
    onServerTrouble: (problem) =>
      context.writeError(terminalSafe(`Still waiting: ${problem}. Polling goes on until the code expires.`)),
  });
  writeCredentials(paths.oauthCreds, credentials);
  const selectedIn: string[] = [];
  const modelsRemoved: string[] = [];
  for (const file of written) {
    const { path, select, dropModel } = file;
    updateSettingsFile(path, editsOf(file));
    if (select) selectedIn.push(path);
    if (dropModel !== undefined) modelsRemoved.push(`"${dropModel}" from ${path}`);
  }
  const removed =
    modelsRemoved.length === 0
      ? ''
      : ` model.name ${modelsRemoved.join(' and ')} removed: Qwen OAuth serves ${qwenOauthModel}.`;
  context.writeOut(
    `Logged in with Qwen OAuth. Credentials saved to ${paths.oauthCreds}; ` +
      `security.auth.selectedType is now "qwen-oauth" in ${selectedIn.join(' and in ')}.${removed}\n`,
  );
  warnWhenOverridden('qwen-oauth', context, { path: paths.userSettings });
  return 0;
}

/**
 * The user-facing part of the device flow, on stderr: the QR code when one fits, then the URL and the code
 * (last, so that they stay on screen above the waiting line), and the browser.
 */
export function showAuthorization(
  authorization: DeviceAuthorization,
  context: Pick<RunContext, 'writeError' | 'env'>,
  display: { platform: NodeJS.Platform; stderrIsTerminal: boolean; columns?: number },
): void {
  // The server's words on the way to a terminal: nothing in them may act as an escape sequence.
  const url = terminalSafe(authorization.verificationUriComplete);
  const seconds = authorization.expiresInSeconds;
  const validity = seconds < 90 ? `${Math.max(1, Math.round(seconds))} s` : `${Math.round(seconds / 60)} min`;
  context.writeError('Qwen OAuth login: open the URL below in a browser and approve the request.');
  if (display.stderrIsTerminal) showQrCode(url, context, display.columns);
  context.writeError(`  ${url}`);
  context.writeError(`Code: ${terminalSafe(authorization.userCode)} (valid for about ${validity})`);
  const environment = { env: context.env, platform: display.platform };
  if (canOpenBrowser(environment) && openBrowser(url, environment)) {
    context.writeError('A browser window was opened for you.');
  } else {
    const reason = browserUnavailableReason(environment);
    if (reason !== undefined) context.writeError(`(No browser opened: ${reason}.)`);
  }
  context.writeError('Waiting for approval... (Ctrl+C to cancel)');
}

/**
 * The URL as a QR code, for a phone, when the terminal is wide enough: rows that wrap cannot be scanned. One
 * taller than the screen is still drawn (the URL and the code come after it, and stay in view); it can be
 * scrolled back to.
 */
function showQrCode(
  url: string,
  context: Pick<RunContext, 'writeError' | 'env'>,
  columns: number | undefined,
) {
  let qr: string;
  try {
    qr = renderQrForTerminal(encodeQr(url, 'M'), { color: (context.env['NO_COLOR'] ?? '') === '' });
  } catch {
    return; // A URL too long for the encoder: the link below still works.
  }
  const width = qrWidth(qr);
  if (columns !== undefined && columns > 0 && width > columns) {
    context.writeError(
      `(The QR code is left out: it needs ${width} columns and the terminal has ${columns}.)`,
    );
    return;
  }
  context.writeError('Scan this QR code with a phone, or open the URL:');
  context.writeError(qr);
}

/** The columns a rendered QR code takes: its first row without the colour sequences. */
function qrWidth(rendered: string): number {
  const [first = ''] = rendered.split('\n');
  return first.replace(/\u001b\[[0-9;]*m/g, '').length;
}

async function setUpCodingPlan(
  flags: AuthFlags,
  context: RunContext,
  options: AuthCommandOptions,
): Promise<number> {
  const region = flags.region?.trim().toLowerCase();
  if (region === undefined || !isCodingPlanRegion(region)) {
    throw new CliError(
      'input',
      region === undefined ? 'Coding Plan needs a region.' : `Unknown Coding Plan region "${flags.region}".`,
      {
        hint: `Pass --region ${codingPlanRegions.join(' or ')} (china: ${codingPlanRegionLabels.china}; global: ${codingPlanRegionLabels.global}).`,
      },
    );
  }
  // The models go where the modelProviders in use here are: a workspace file that has them hides the user's.
  const configuration = loadConfigurationFor(context);
  assertAuthTypeAllowed(configuration.settings.merged, 'openai', 'Set that auth type up instead');
  const key = await codingPlanKey(flags, context, options);
  const userPath = configuration.paths.userSettings;
  const result = configureCodingPlan({
    userSettingsPath: userPath,
    modelSettingsPath: modelSettingsPath(configuration),
    region,
    apiKey: key,
  });
  const where =
    result.settingsPath === userPath
      ? ''
      : ` in ${result.settingsPath} (it defines modelProviders, which hide the user settings' ones)`;
  context.writeOut(
    `Coding Plan (${codingPlanRegionLabels[region]}) configured: ${result.modelCount} models at ${result.baseUrl}${where}, ` +
      `model "${result.model}". Key ${maskSecret(key)} stored in ${result.keyLocation}${replacing(result)}.\n`,
  );
  if (result.keptEntries > 0) {
    context.writeOut(
      `Kept your ${result.keptEntries} other modelProviders.openai entr${result.keptEntries === 1 ? 'y' : 'ies'}.\n`,
    );
  }
  warnWhenOverridden('openai', context, { path: result.settingsPath, key, model: result.model });
  return 0;
}

async function codingPlanKey(
  flags: AuthFlags,
  context: RunContext,
  options: AuthCommandOptions,
): Promise<string> {
  if (flags.key !== undefined) return validateCodingPlanKey(flags.key);
  if (context.stdinIsTerminal) {
    throw new CliError('input', 'No Coding Plan key given.', {
      hint: 'Pass --key sk-sp-..., or pipe it so it stays out of shell history: printenv KEY | qwen auth coding-plan --region global.',
    });
  }
  const readKey = options.readKeyFromStdin ?? (async () => (await readPipedStdin(keyOnStdinTimeoutMs))?.text);
  const piped = (await readKey())?.trim();
  if (piped === undefined || piped === '') {
    throw new CliError('input', 'No Coding Plan key on stdin.', {
      hint: 'Pipe the key (printenv KEY | qwen auth coding-plan --region global) or pass --key sk-sp-....',
    });
  }
  return validateCodingPlanKey(piped);
}

/**
 * After a setup, says when something else still wins over what was just written: a higher file's
 * selectedType, model.name or model.baseUrl, or the same key variable set in the shell or a .env file
 * (which beats settings env).
 */
function warnWhenOverridden(
  expected: ResolvedModel['authType'],
  context: RunContext,
  written: { path: string; key?: string; model?: string },
): void {
  let configuration: LoadedConfiguration;
  try {
    configuration = loadConfigurationFor(context);
  } catch {
    return;
  }
  const winning = settingsThatWin(configuration.settings, { authType: expected, model: written.model });
  if (winning.selectedType !== undefined) {
    context.writeError(
      `Warning: ${winning.selectedType.path} selects "${winning.selectedType.value}", which wins over ${written.path}; ` +
        `pass --auth-type ${expected} or change it there.`,
    );
  }
  if (winning.model !== undefined) {
    context.writeError(
      `Warning: ${winning.model.path} sets model.name "${winning.model.value}", which wins over ` +
        `"${written.model}" in ${written.path}; pass --model ${written.model} or change it there.`,
    );
  }
  // Qwen OAuth serves one model: another one named in a file the login did not edit would be refused by name
  // (and replaced) on every run.
  const name = configuration.settings.merged.model?.name;
  if (expected === 'qwen-oauth' && name !== undefined && name !== '' && name !== qwenOauthModel) {
    const file = highestFileWith(
      configuration.settings.files,
      (settings) => settings.model?.name !== undefined,
    );
    context.writeError(
      `Warning: ${file?.path ?? 'another settings file'} sets model.name "${name}", which wins over ${written.path}; ` +
        `Qwen OAuth serves ${qwenOauthModel}: remove it there or pass --model ${qwenOauthModel}.`,
    );
  }
  if (written.model !== undefined) {
    const files = configuration.settings.files;
    const model = configuration.settings.merged.model;
    if (model?.baseUrl !== undefined && model.baseUrl !== '') {
      const file = highestFileWith(files, (settings) => settings.model?.baseUrl !== undefined);
      context.writeError(
        `Warning: ${file?.path ?? 'another settings file'} sets model.baseUrl "${maskUrl(model.baseUrl)}", ` +
          `which wins over the empty one written to ${written.path}; remove it there.`,
      );
    }
  }
  if (written.key !== undefined) {
    const source = configuration.env.source(codingPlanEnvKey);
    const value = configuration.env.get(codingPlanEnvKey);
    if (source !== undefined && value !== written.key) {
      context.writeError(
        `Warning: ${codingPlanEnvKey} is also set in ${source.description}; that value takes priority over the saved one.`,
      );
    }
  }
}

async function showStatus(flags: AuthFlags & MainFlags, context: RunContext): Promise<number> {
  const resolveFlags = flagsForResolution(flags);
  const configuration = loadConfiguration({
    argvFlags: resolveFlags,
    processEnv: context.env,
    cwd: context.cwd,
    home: context.home,
    platform: process.platform,
  });
  const { paths } = configuration;
  for (const note of configuration.notes) context.writeError(note);
  // A line is `Label: value (source)`. `-o json` gives one object, each label as a key (`Auth type` ->
  // `auth_type`) holding the bare value, so a script can use it as it is, and where it came from in
  // `<key>_source`; `aside` is for the terminal only (a display name, a hint the error repeats).
  const shown: StatusLine[] = [];
  const show = (label: string, value: string, source?: string, aside = '') =>
    shown.push({ label, value, source, aside });
  const print = () => context.writeOut(flags.outputFormat === 'json' ? statusJson(shown) : statusText(shown));
  let target: ResolvedModel;
  try {
    target = resolveModel({
      flags: resolveFlags,
      settings: configuration.settings.merged,
      env: configuration.env,
      settingsFiles: configuration.settings.files,
    });
  } catch (error) {
    if (!(error instanceof CliError)) throw error;
    // What was found before the failure (an auth type without a model, say) is still worth showing.
    const authType = authTypeIfChosen(resolveFlags, configuration);
    show(
      'Auth type',
      authType ?? 'none',
      authType === undefined ? undefined : authTypeSource(authType, resolveFlags, configuration),
    );
    if (authType !== undefined && error instanceof NoModelSelectedError) show('Model', 'none');
    print();
    throw error;
  }

  // openai-responses runs as openai (Chat Completions): both are said, as asked and as run.
  const requested = authTypeIfChosen(resolveFlags, configuration) ?? target.authType;
  const runAs = requested === target.authType ? '' : `, run as ${target.authType}`;
  show('Auth type', requested, `${authTypeSource(requested, resolveFlags, configuration)}${runAs}`);
  for (const note of target.notes ?? []) context.writeError(note);
  const name = target.displayName && target.displayName !== target.model ? ` "${target.displayName}"` : '';
  show('Model', target.model, target.modelSource && whereSet(target.modelSource), name);
  let usable = true;
  let unsendable: CliError | undefined;
  if (target.authType === 'qwen-oauth') {
    const credentials = readCredentials(paths.oauthCreds);
    // A file that is there but cannot be used (broken JSON, fields missing) is not "none".
    const missing = existsSync(paths.oauthCreds)
      ? `${paths.oauthCreds} is there but not usable`
      : `none in ${paths.oauthCreds}`;
    show('Credentials', credentials === undefined ? missing : paths.oauthCreds);
    if (credentials === undefined) {
      usable = false;
      show('Base URL', resourceBaseUrl(undefined), 'default; the login may name another');
    } else {
      const named = nonEmpty(credentials.resource_url) !== undefined;
      const source = named ? 'resource_url of the login' : 'default; the login named no resource_url';
      show('Base URL', maskUrl(resourceBaseUrl(credentials.resource_url)), source);
      const problem = unsendableCharacterIn(credentials.access_token);
      // Not masked when it cannot be sent, as an API key: a line break in it would break the line.
      const token =
        problem === undefined ? maskSecret(credentials.access_token) : `unusable, it has ${problem}`;
      show('Token', token, undefined, ` ${describeExpiry(credentials.expiry_date)}`);
      unsendable = unsendableOauthTokenError(credentials, paths.oauthCreds);
      shown.push({
        label: 'Token expires',
        value: new Date(credentials.expiry_date).toISOString(),
        jsonOnly: true,
      });
    }
  } else {
    if (target.baseUrl) {
      show('Base URL', maskUrl(target.baseUrl), target.baseUrlSource && whereSet(target.baseUrlSource));
    } else show('Base URL', protocolDefaultBaseUrl(target), 'default');
    const secret = target.apiKey ?? target.accessToken;
    if (secret === undefined && target.googleCloud !== undefined) {
      show(
        'API key',
        `none; Google Application Default Credentials for project ${target.googleCloud.project}`,
      );
      try {
        const found = await findGoogleCredentials({ env: configuration.env.toRecord(), home: context.home });
        show('Credentials', found.path, undefined, ` (${found.type})`);
      } catch (error) {
        // The very error a run would stop with (exit 41), after the lines above.
        if (!(error instanceof CliError)) throw error;
        show('Credentials', 'none usable');
        print();
        throw error;
      }
    } else if (secret === undefined) {
      usable = false;
      const { variable, mistake } = keyVariableOf(target);
      // What to do about it is the error that follows, on stderr.
      show('API key', 'none', undefined, ` (${mistake ?? `set ${variable}`})`);
    } else {
      const source = target.apiKeySource;
      const where = source ? whereSet(source) : 'unknown source';
      const problem = unsendableCharacterIn(secret);
      // Not masked: a key with a line break would break the line, and its start is of no help here.
      if (problem !== undefined) {
        unsendable = unsendableKeyError(target);
        show('API key', `unusable, it has ${problem}`, where);
      } else show('API key', maskSecret(secret), where);
    }
    const cached = cachedLogin(paths.oauthCreds);
    if (cached === 'yes') show('Qwen OAuth', 'also logged in, not used by this auth type', paths.oauthCreds);
    if (cached === 'unreadable') {
      show('Qwen OAuth', `${paths.oauthCreds} cannot be read by this user; not used by this auth type`);
    }
  }
  print();
  // The run's own explanation: a key it could not send, which variable to set (or what envKey is for).
  if (unsendable !== undefined) throw unsendable;
  if (!usable) {
    if (target.authType !== 'qwen-oauth') throw missingKeyError(target);
    throw notLoggedInError(paths.oauthCreds);
  }
  return 0;
}

function authTypeIfChosen(
  flags: ResolveFlags,
  configuration: LoadedConfiguration,
): AcceptedAuthType | undefined {
  try {
    return resolveAuthType({ flags, settings: configuration.settings.merged, env: configuration.env });
  } catch {
    return undefined;
  }
}

function authTypeSource(authType: string, flags: ResolveFlags, configuration: LoadedConfiguration): string {
  if (flags.authType !== undefined) return 'flag --auth-type';
  const file = flags.bare ? undefined : selectedTypeFile(configuration);
  if (file !== undefined) return `${keyAsWritten(file, 'security.auth.selectedType')} in ${file.path}`;
  // --openai-api-key is the OPENAI_API_KEY of the run (its top layer): detection then rests on the flag.
  if (
    authType === 'openai' &&
    configuration.env.source('OPENAI_API_KEY')?.description === 'flag --openai-api-key'
  ) {
    return 'implied by --openai-api-key';
  }
  return 'detected from the environment';
}

function selectedTypeFile(configuration: LoadedConfiguration) {
  return highestFileWith(
    configuration.settings.files,
    (settings) => settings.security?.auth?.selectedType !== undefined,
  );
}

interface StatusLine {
  label: string;
  value: string;
  source?: string | undefined;
  aside?: string;
  jsonOnly?: boolean;
}

function statusText(lines: StatusLine[]): string {
  const text = lines
    .filter((line) => line.jsonOnly !== true)
    .map(({ label, value, source, aside }) => {
      const from = source === undefined ? '' : ` (${source})`;
      return `${`${label}:`.padEnd(13)}${value}${aside ?? ''}${from}`;
    });
  return `${text.join('\n')}\n`;
}

function statusJson(lines: StatusLine[]): string {
  const fields: Record<string, string | null> = {};
  for (const { label, value, source } of lines) {
    const key = label.toLowerCase().replaceAll(' ', '_');
    // "none" is text for a person; a script reading `.model` must not take it for a model's id.
    fields[key] = value === 'none' ? null : value;
    if (source !== undefined) fields[`${key}_source`] = source;
  }
  return `${JSON.stringify(fields)}\n`;
}

function describeExpiry(expiryDate: number, now: number = Date.now()): string {
  const when = new Date(expiryDate).toISOString();
  const minutes = Math.round(Math.abs(expiryDate - now) / 60_000);
  if (expiryDate - refreshMarginMs > now) return `expires ${when} (in ${minutes} min)`;
  return `expired or about to (${when}); the next run refreshes it`;
}

function logout(context: RunContext): number {
  const paths = pathsOf(context);
  const removed = [paths.oauthCreds, paths.oauthLock].filter((path) => deleteFile(path));
  if (removed.length === 0) {
    context.writeOut(`No cached Qwen OAuth credentials in ${paths.qwenHome}; nothing removed.\n`);
  } else {
    context.writeOut(`Logged out of Qwen OAuth. Removed ${removed.join(' and ')}.\n`);
  }
  return 0;
}

/** Where a run sends when no base URL is set, as the protocol adapters choose it. */
function protocolDefaultBaseUrl(target: ResolvedModel): string {
  if (target.protocol === 'anthropic') return defaultAnthropicBaseUrl;
  if (target.protocol === 'gemini') return defaultGeminiBaseUrl;
  if (target.protocol === 'vertex-ai') return defaultVertexHostFor(target);
  return defaultOpenAiBaseUrl;
}
