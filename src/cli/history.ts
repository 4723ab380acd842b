// The REPL's prompt history in $QWEN_HOME/history: one prompt a line, oldest first (like a shell's), at
// most `historyLimit` entries, mode 0600 because prompts can quote code and secrets. A prompt of several
// lines is written as it would be typed: every line but its last ends in `\`, which reading removes.
import { appendFileSync, mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { readTextFileIfPresent } from '../config/settings.ts';
import { writeFileAtomically } from '../config/settings-writer.ts';

export const historyLimit = 1000;
const privateFileMode = 0o600;
const privateDirectoryMode = 0o700;

export interface PromptHistory {
  /** Newest first, the order node:readline's `history` option expects. */
  readonly entries: readonly string[];
  /** Records one prompt and saves the file; a prompt equal to the newest one is not repeated. */
  add(entry: string): void;
}

/**
 * Entries that would break the format or mean nothing in a later session. A last line ending in `\` would
 * run into the next entry (and recalled, it would only continue the line).
 */
export function isRecordable(entry: string): boolean {
  return entry.trim() !== '' && !entry.includes('\r') && !entry.endsWith('\\');
}

/** The file's lines as entries: a line ending in `\` goes on in the next one, without that `\`. */
function parseHistory(text: string): string[] {
  const entries: string[] = [];
  let pending: string[] = [];
  for (const line of text.split('\n')) {
    if (line.endsWith('\\')) {
      pending.push(line.slice(0, -1));
      continue;
    }
    entries.push([...pending, line].join('\n'));
    pending = [];
  }
  return entries.filter(isRecordable);
}

function formatEntry(entry: string): string {
  return entry.split('\n').join('\\\n');
}

/**
 * Reads the file (a missing or unreadable one is an empty history: it is a convenience, not data). A file
 * past the limit is cut to it here, once per session; between those, prompts are only appended.
 */
export function loadHistory(path: string, limit: number = historyLimit): PromptHistory {
  let oldestFirst: string[] = [];
  try {
    oldestFirst = parseHistory(readTextFileIfPresent(path) ?? '');
  } catch {
    oldestFirst = [];
  }
  if (oldestFirst.length > limit) {
    oldestFirst = oldestFirst.slice(-limit);
    saveHistory(path, oldestFirst);
  }
  return {
    get entries() {
      return [...oldestFirst].reverse();
    },
    add(entry: string) {
      if (!isRecordable(entry) || oldestFirst.at(-1) === entry) return;
      oldestFirst = [...oldestFirst, entry].slice(-limit);
      // Appended, never rewritten from this session's list: another session open at the same time adds
      // its own prompts to the same file, and they must stay.
      appendEntry(path, entry);
    },
  };
}

function appendEntry(path: string, entry: string): void {
  try {
    mkdirSync(dirname(path), { recursive: true, mode: privateDirectoryMode });
    appendFileSync(path, `${formatEntry(entry)}\n`, { mode: privateFileMode });
  } catch {
    // A read-only home must not break the session; the history only lives in memory then.
  }
}

function saveHistory(path: string, oldestFirst: readonly string[]): void {
  try {
    mkdirSync(dirname(path), { recursive: true, mode: privateDirectoryMode });
    writeFileAtomically(path, `${oldestFirst.map(formatEntry).join('\n')}\n`, privateFileMode);
  } catch {
    // A read-only home must not break the session; the history only lives in memory then.
  }
}
