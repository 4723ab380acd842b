// A `.env` parser for files as users write them, close to the `dotenv` package Qwen Code uses:
//   KEY=value            export KEY=value        KEY="double\nquoted"   KEY='single'   KEY=`backtick`
//   # full-line comments, KEY=value # trailing comments, KEY= (empty), CRLF line ends, a leading BOM.
// Differences from `dotenv`, on purpose: an unquoted value keeps a `#` that is not preceded by whitespace
// (`PASSWORD=abc#123` stays whole; dotenv would cut it), and no `${VAR}` expansion (dotenv does none either).

const keyPattern = /^[A-Za-z_][A-Za-z0-9_.-]*$/;

export function parseDotEnv(text: string): Record<string, string> {
  const values: Record<string, string> = {};
  const source = (text.startsWith('\uFEFF') ? text.slice(1) : text).replace(/\r\n?/g, '\n');
  let position = 0;

  while (position < source.length) {
    const lineEnd = indexOrEnd(source, '\n', position);
    const line = source.slice(position, lineEnd);
    const assignment = /^\s*(?:export\s+)?([^=\s#]+)\s*=\s*/.exec(line);
    if (assignment === null || !keyPattern.test(assignment[1] ?? '')) {
      // Comments, blank lines and lines that are not assignments are skipped, as dotenv does.
      position = lineEnd + 1;
      continue;
    }
    const key = assignment[1] ?? '';
    const valueStart = position + assignment[0].length;
    const quote = source[valueStart];

    if (quote === '"' || quote === "'" || quote === '`') {
      // A quoted value may span lines; it ends at the next unescaped matching quote.
      const closing = findClosingQuote(source, valueStart + 1, quote);
      if (closing !== undefined) {
        const raw = source.slice(valueStart + 1, closing);
        values[key] = quote === '"' ? unescapeDoubleQuoted(raw) : raw;
        // Anything after the closing quote on its line is a comment or noise.
        position = indexOrEnd(source, '\n', closing) + 1;
        continue;
      }
      // No closing quote: dotenv keeps the rest of the line as written, quote included.
    }

    values[key] = stripInlineComment(source.slice(valueStart, lineEnd)).trim();
    position = lineEnd + 1;
  }
  return values;
}

function indexOrEnd(text: string, search: string, from: number): number {
  const index = text.indexOf(search, from);
  return index === -1 ? text.length : index;
}

function findClosingQuote(text: string, from: number, quote: string): number | undefined {
  for (let index = from; index < text.length; index += 1) {
    const character = text[index];
    if (character === '\\' && quote === '"') {
      index += 1;
      continue;
    }
    if (character === quote) return index;
  }
  return undefined;
}

function unescapeDoubleQuoted(raw: string): string {
  return raw.replace(/\\([\\nrt"'$`])/g, (_match, escaped: string) => {
    switch (escaped) {
      case 'n':
        return '\n';
      case 'r':
        return '\r';
      case 't':
        return '\t';
      default:
        return escaped;
    }
  });
}

/** `value # note` -> `value`; `#` right at the start is a comment too (an empty value). */
function stripInlineComment(value: string): string {
  if (value.startsWith('#')) return '';
  const match = /\s#/.exec(value);
  return match === null ? value : value.slice(0, match.index);
}
