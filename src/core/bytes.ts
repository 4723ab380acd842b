/**
 * The pieces one after another: the only piece itself (uncopied), or a copy into `into` when it is large
 * enough (a view of its start is returned), or else into a new array.
 */
export function concatBytes(pieces: readonly Uint8Array[], into?: Uint8Array): Uint8Array {
  if (pieces.length === 1) return pieces[0] as Uint8Array;
  let length = 0;
  for (const piece of pieces) length += piece.length;
  const joined = into !== undefined && into.length >= length ? into : new Uint8Array(length);
  let offset = 0;
  for (const piece of pieces) {
    joined.set(piece, offset);
    offset += piece.length;
  }
  return joined === into ? joined.subarray(0, length) : joined;
}
