// Edits JSON-with-comments text the way a person would, so that everything an edit does not concern keeps
// its bytes: a changed value is replaced in place, a new property or array element goes next to its
// siblings (on their line when they share one, else on a line of its own at their indentation), and a
// removed one takes its own line(s) and comma with it. jsonc-parser's `modify` re-formats every line it
// touches, which expanded one-line neighbours such as `"env": { "A": "x" }`, and its removal of a last array
// element breaks `[{"a":1},{"b":2}]` and CRLF lines.
//
// A key written twice in one object (a block pasted twice) is read as its last occurrence, by JSON.parse and
// by jsonc-parser's `parse` alike, so that is the one edited: jsonc-parser's `findNodeAtLocation` takes the
// first, and an edit there would never take effect. A removal takes every occurrence, or an earlier one would
// come back into effect.
import { applyEdits, getNodeValue, type Node, parseTree, type Edit as TextEdit } from 'jsonc-parser';

export type JsonPath = (string | number)[];

/** How new text is laid out: the file's line ending and one level of its indentation. */
interface Layout {
  eol: string;
  unit: string;
}

/** How a one-line object or array separates its parts: `{ "a": 1, "b": 2 }` or `{"a":1,"b":2}`. */
interface InlineStyle {
  colon: string;
  comma: string;
  padding: string;
}

/**
 * Sets the value at `path` (creating the objects and arrays on the way), or removes it when `value` is
 * undefined. A number last in `path` is an array index: -1 or past the end appends, and with `insert` the
 * value goes in before that element instead of replacing it. Throws when a value on the way is not a
 * container; the message says which kind it is.
 */
export function setJsonValue(text: string, path: JsonPath, value: unknown, insert = false): string {
  // An array index names one element; only a key can be written more than once.
  if (value !== undefined || typeof path.at(-1) !== 'string') return setOnce(text, path, value, insert);
  // One occurrence at a time: the offsets of the others change with each removal.
  let result = text;
  for (;;) {
    const next = setOnce(result, path, undefined, insert);
    if (next === result) return result;
    result = next;
  }
}

function setOnce(text: string, path: JsonPath, value: unknown, insert: boolean): string {
  const layout = layoutOf(text);
  const root = parseTree(text, [], { allowTrailingComma: true });
  if (root === undefined) {
    if (value === undefined) return text;
    const separator = text === '' || text.endsWith('\n') ? '' : layout.eol;
    return `${text}${separator}${renderBlock(wrap(plain(value), path), '', layout)}${layout.eol}`;
  }
  if (path.length === 0) throw new Error('an edit needs a path');

  // The deepest container that exists; the segments below it become part of the new value.
  let depth = path.length - 1;
  let newValue = value === undefined ? undefined : plain(value);
  let parent = nodeAt(root, path.slice(0, depth));
  while (parent === undefined) {
    if (newValue === undefined) return text;
    newValue = wrap(newValue, [path[depth]!]);
    depth -= 1;
    parent = nodeAt(root, path.slice(0, depth));
  }
  return applyEdits(text, editsAt(text, parent, path[depth]!, newValue, insert, layout));
}

function editsAt(
  text: string,
  parent: Node,
  segment: string | number,
  value: unknown,
  insert: boolean,
  layout: Layout,
): TextEdit[] {
  const children = parent.children ?? [];
  if (parent.type === 'object' && typeof segment === 'string') {
    const property = propertyNamed(parent, segment);
    if (value === undefined) return property === undefined ? [] : removal(text, parent, property);
    const existing = property?.children?.[1];
    if (existing !== undefined) return replacement(text, existing, value, layout);
    return insertion(text, parent, children.length, JSON.stringify(segment), value, layout);
  }
  if (parent.type === 'array' && typeof segment === 'number') {
    const existing = segment >= 0 ? children[segment] : undefined;
    if (value === undefined) return existing === undefined ? [] : removal(text, parent, existing);
    if (existing !== undefined && !insert) return replacement(text, existing, value, layout);
    const index = segment < 0 || segment > children.length ? children.length : segment;
    return insertion(text, parent, index, undefined, value, layout);
  }
  const expected = typeof segment === 'number' ? 'an array' : 'an object';
  throw new Error(`the value on the way is ${article(parent.type)}, not ${expected}`);
}

/** The node at `path` as a reader sees it: a key written twice is its last occurrence. */
function nodeAt(root: Node, path: JsonPath): Node | undefined {
  let node: Node | undefined = root;
  for (const segment of path) {
    if (node === undefined) return undefined;
    if (typeof segment === 'string') {
      node = node.type === 'object' ? propertyNamed(node, segment)?.children?.[1] : undefined;
    } else {
      node = node.type === 'array' && segment >= 0 ? node.children?.[segment] : undefined;
    }
  }
  return node;
}

/** The last property of that name: the one JSON.parse keeps. */
function propertyNamed(object: Node, key: string): Node | undefined {
  return object.children?.findLast(
    (child) => child.children?.[0]?.value === key && child.children.length === 2,
  );
}

function replacement(text: string, node: Node, value: unknown, layout: Layout): TextEdit[] {
  if (JSON.stringify(getNodeValue(node)) === JSON.stringify(value)) return [];
  const isContainer = typeof value === 'object' && value !== null;
  // A one-line object or array the user wrote stays on one line.
  const content =
    isContainer && (node.children?.length ?? 0) > 0 && onOneLine(text, node.offset, end(node))
      ? renderInline(value, inlineStyleOf(text.slice(node.offset, end(node))))
      : renderBlock(value, lineIndent(text, node.offset), layout);
  return [{ offset: node.offset, length: node.length, content }];
}

function insertion(
  text: string,
  container: Node,
  index: number,
  key: string | undefined,
  value: unknown,
  layout: Layout,
): TextEdit[] {
  const children = container.children ?? [];
  const open = container.offset;
  const close = end(container) - 1;
  const last = children[children.length - 1];

  if (last === undefined) {
    const indent = lineIndent(text, open);
    const inner = indent + layout.unit;
    const item = `${key === undefined ? '' : `${key}: `}${renderBlock(value, inner, layout)}`;
    if (text.slice(open + 1, close).trim() === '') {
      return [
        {
          offset: open + 1,
          length: close - open - 1,
          content: `${layout.eol}${inner}${item}${layout.eol}${indent}`,
        },
      ];
    }
    // Only comments inside: the new value goes after them, just before the closing bracket.
    return firstOnLine(text, close)
      ? [added(lineStart(text, close), `${inner}${item}${layout.eol}`)]
      : [added(close, `${layout.eol}${inner}${item}${layout.eol}${indent}`)];
  }

  const lastComma = trailingComma(text, last);
  if (onOneLine(text, open, close)) {
    const style = inlineStyleOf(text.slice(open, close + 1));
    const item = `${key === undefined ? '' : `${key}${style.colon}`}${renderInline(value, style)}`;
    if (index < children.length) return [added(children[index]!.offset, `${item}${style.comma}`)];
    return lastComma === undefined
      ? [added(end(last), `${style.comma}${item}`)]
      : [added(lastComma + 1, `${style.comma.slice(1)}${item},`)];
  }

  const sibling = children[index] ?? last;
  const indent = firstOnLine(text, sibling.offset)
    ? lineIndent(text, sibling.offset)
    : lineIndent(text, open) + layout.unit;
  const item = `${layout.eol}${indent}${key === undefined ? '' : `${key}: `}${renderBlock(value, indent, layout)}`;
  // After the bracket or the comma before the place, and after a comment that ends that line.
  if (index < children.length) {
    const after = index === 0 ? open + 1 : trailingComma(text, children[index - 1]!)! + 1;
    return [added(afterLineComment(text, after), `${item},`)];
  }
  if (lastComma !== undefined) return [added(afterLineComment(text, lastComma + 1), `${item},`)];
  const at = afterLineComment(text, end(last));
  return at === end(last) ? [added(at, `,${item}`)] : [added(end(last), ','), added(at, item)];
}

function removal(text: string, container: Node, child: Node): TextEdit[] {
  const children = container.children ?? [];
  const index = children.indexOf(child);
  const open = container.offset;
  const close = end(container) - 1;
  const comma = trailingComma(text, child);
  const childEnd = comma === undefined ? end(child) : comma + 1;

  const rest = text.slice(open + 1, child.offset) + text.slice(childEnd, close);
  if (children.length === 1 && rest.trim() === '')
    return [{ offset: open + 1, length: close - open - 1, content: '' }];
  const previous = children[index - 1];
  if (
    firstOnLine(text, child.offset) &&
    afterLineComment(text, childEnd) === lineContentEnd(text, childEnd)
  ) {
    // Its own line(s), with a comment that ends them; a last element also takes the comma before it.
    const from = lineStart(text, child.offset);
    const edits: TextEdit[] = [{ offset: from, length: lineEnd(text, childEnd) - from, content: '' }];
    const previousComma = previous === undefined ? undefined : trailingComma(text, previous);
    if (index === children.length - 1 && comma === undefined && previousComma !== undefined) {
      edits.push({ offset: previousComma, length: 1, content: '' });
    }
    return edits;
  }
  const next = children[index + 1];
  if (next !== undefined) return [{ offset: child.offset, length: next.offset - child.offset, content: '' }];
  const from = previous === undefined ? child.offset : end(previous);
  return [{ offset: from, length: end(child) - from, content: '' }];
}

function added(offset: number, content: string): TextEdit {
  return { offset, length: 0, content };
}

/** `{"a": {"b": value}}` for the path segments that do not exist yet. */
function wrap(value: unknown, segments: JsonPath): unknown {
  let wrapped = value;
  for (const segment of [...segments].reverse()) {
    wrapped = typeof segment === 'number' ? [wrapped] : { [segment]: wrapped };
  }
  return wrapped;
}

/** The value as JSON would carry it (undefined properties dropped, toJSON applied). */
function plain(value: unknown): unknown {
  return JSON.parse(JSON.stringify(value)) as unknown;
}

function renderBlock(value: unknown, indent: string, layout: Layout): string {
  return JSON.stringify(value, null, layout.unit).split('\n').join(`${layout.eol}${indent}`);
}

function renderInline(value: unknown, style: InlineStyle): string {
  if (Array.isArray(value)) {
    return value.length === 0
      ? '[]'
      : `[${value.map((item) => renderInline(item, style)).join(style.comma)}]`;
  }
  if (typeof value === 'object' && value !== null) {
    const entries = Object.entries(value).map(
      ([key, item]) => `${JSON.stringify(key)}${style.colon}${renderInline(item, style)}`,
    );
    return entries.length === 0 ? '{}' : `{${style.padding}${entries.join(style.comma)}${style.padding}}`;
  }
  return JSON.stringify(value);
}

function inlineStyleOf(source: string): InlineStyle {
  const tight = (spaced: RegExp, packed: RegExp) => packed.test(source) && !spaced.test(source);
  const colon = tight(/"\s*:\s/, /"\s*:[^\s]/) ? ':' : ': ';
  // With one element there is no comma to go by; `{"a":1}` is likely written by JSON.stringify.
  const comma = source.includes(',') ? (tight(/,\s/, /,[^\s]/) ? ',' : ', ') : colon === ':' ? ',' : ', ';
  return { colon, comma, padding: /^[{[][^\s]/.test(source) ? '' : ' ' };
}

function layoutOf(text: string): Layout {
  const eol = text.includes('\r\n') ? '\r\n' : '\n';
  // The indentation of the first line that starts with a JSON token is one level.
  const unit = /^([ \t]+)["{[\]}]/m.exec(text)?.[1] ?? '  ';
  return { eol, unit };
}

/** The comma after a node, past whitespace and comments, if there is one. */
function trailingComma(text: string, node: Node): number | undefined {
  const next = skipTrivia(text, end(node));
  return text[next] === ',' ? next : undefined;
}

function skipTrivia(text: string, offset: number): number {
  let at = offset;
  for (;;) {
    if (/\s/.test(text[at] ?? '')) at += 1;
    else if (text.startsWith('//', at)) at = lineContentEnd(text, at);
    else if (text.startsWith('/*', at)) {
      const close = text.indexOf('*/', at + 2);
      at = close < 0 ? text.length : close + 2;
    } else return at;
  }
}

/** The end of the line when only blanks and comments follow `offset` on it, else `offset` itself. */
function afterLineComment(text: string, offset: number): number {
  const lineEndOffset = lineContentEnd(text, offset);
  return /^(?:[ \t]|\/\/.*|\/\*.*?\*\/)*$/.test(text.slice(offset, lineEndOffset)) ? lineEndOffset : offset;
}

function end(node: Node): number {
  return node.offset + node.length;
}

function lineStart(text: string, offset: number): number {
  return text.lastIndexOf('\n', offset - 1) + 1;
}

/** Where the line's text ends, before its line break. */
function lineContentEnd(text: string, offset: number): number {
  const newline = text.indexOf('\n', offset);
  if (newline < 0) return text.length;
  return text[newline - 1] === '\r' ? newline - 1 : newline;
}

/** Just after the line's line break. */
function lineEnd(text: string, offset: number): number {
  const newline = text.indexOf('\n', offset);
  return newline < 0 ? text.length : newline + 1;
}

function lineIndent(text: string, offset: number): string {
  return /^[ \t]*/.exec(text.slice(lineStart(text, offset)))?.[0] ?? '';
}

function firstOnLine(text: string, offset: number): boolean {
  return text.slice(lineStart(text, offset), offset).trim() === '';
}

function onOneLine(text: string, from: number, to: number): boolean {
  return !text.slice(from, to).includes('\n');
}

function article(type: string): string {
  return /^[aeiou]/.test(type) ? `an ${type}` : `a ${type}`;
}
