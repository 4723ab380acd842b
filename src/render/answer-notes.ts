// The notes that follow an answer shown as text (a text-mode run's stderr, the interactive session), about
// what the text alone does not show. A model that asked for tools: qwen-lite runs none, and without the
// note an answer that is only a tool call would end silently, empty (the JSON formats list the calls
// themselves). An answer the output limit ended: it may stop mid-sentence.
import { terminalSafe } from './terminal-safe.ts';

/** More names than this are counted, not listed: the note stays one readable line. */
const mostNamesListed = 5;
const longestNameShown = 60;

/** One line naming the tools asked for (each once, in order), safe for a terminal whatever the server sent. */
export function toolCallNote(names: readonly string[]): string {
  const unique = [...new Set(names.map(shownName))];
  const listed = unique.slice(0, mostNamesListed).join(', ');
  const more = unique.length > mostNamesListed ? ` and ${unique.length - mostNamesListed} more` : '';
  const tools = unique.length === 1 ? 'a tool' : 'tools';
  return `The model asked to run ${tools} (${listed}${more}); qwen-lite runs no tools, so none ran (-o json lists the calls with their arguments).`;
}

/** A server's tool name without escape sequences or line breaks, cut to a sane length. */
function shownName(name: string): string {
  const safe = terminalSafe(name).replace(/\s+/g, ' ').trim();
  if (safe === '') return '(unnamed)';
  return safe.length <= longestNameShown ? safe : `${safe.slice(0, longestNameShown - 3)}...`;
}

/** The finish reasons that mean the output token limit ended the answer: OpenAI's, Anthropic's, Gemini's. */
export function isOutputLimit(finishReason: string | undefined): finishReason is string {
  return finishReason === 'length' || finishReason === 'max_tokens' || finishReason === 'MAX_TOKENS';
}

/** Why an answer may end mid-sentence, or never began (reasoning that used the whole limit). */
export function outputLimitNote(finishReason: string): string {
  return `Note: the answer stopped at the model's output limit (finish reason "${finishReason}"), so it may be cut short; raise max_tokens in the model's samplingParams for longer answers.`;
}
