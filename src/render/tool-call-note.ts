// The stderr note of a text-mode run whose model asked for tools. qwen-lite runs none, and text mode prints
// only the answer's text: without the note, an answer that is only a tool call would end silently, empty.
// The JSON formats list the calls themselves and need no note.
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
