// The notes that follow an answer shown as text (a text-mode run's stderr, the interactive session), about
// what the text alone does not show. A model that asked for tools: qwen-lite runs none, and without the
// note an answer that is only a tool call would end silently, empty (the JSON formats list the calls
// themselves). An answer the output limit (or a full context window) ended: it may stop mid-sentence.
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
function isOutputLimit(finishReason: string | undefined): finishReason is string {
  return finishReason === 'length' || finishReason === 'max_tokens' || finishReason === 'MAX_TOKENS';
}

/**
 * Why an answer that ended without an error may still be incomplete, from its finish reason: the output
 * limit (it may stop mid-sentence, or never begin: reasoning that used the whole limit), Anthropic's full
 * context window, or its pause of a long turn of server tools. Undefined for an answer that is whole.
 */
export function cutShortNote(finishReason: string | undefined): string | undefined {
  if (isOutputLimit(finishReason)) {
    return `Note: the answer stopped at the model's output limit (finish reason "${finishReason}"), so it may be cut short; raise max_tokens in the model's samplingParams for longer answers.`;
  }
  if (finishReason === 'model_context_window_exceeded') {
    return 'Note: the answer stopped because the conversation filled the model\'s context window (stop reason "model_context_window_exceeded"), so it may be cut short; send less text, or start a new conversation.';
  }
  if (finishReason === 'pause_turn') {
    return 'Note: the server paused a long turn (stop reason "pause_turn"), so the answer may be incomplete; qwen-lite does not resume it by itself: ask the model to continue.';
  }
  return undefined;
}
