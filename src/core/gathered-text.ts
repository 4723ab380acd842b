// Text put together from many small pieces (a long answer's deltas). `text += piece` keeps one rope node
// per piece in JavaScriptCore until the text is read: tens of bytes for a one-byte delta, so an answer of a
// few MB in tiny deltas took hundreds of MB. Joining the pieces every few thousand keeps memory near the
// text's own size.

const piecesPerJoin = 4096;

export interface GatheredText {
  add(piece: string): void;
  /** Everything added so far. */
  text(): string;
}

export function createGatheredText(): GatheredText {
  let joined = '';
  let pieces: string[] = [];
  const join = () => {
    if (pieces.length === 0) return;
    joined += pieces.join('');
    pieces = [];
  };
  return {
    add(piece) {
      pieces.push(piece);
      if (pieces.length >= piecesPerJoin) join();
    },
    text() {
      join();
      return joined;
    },
  };
}
