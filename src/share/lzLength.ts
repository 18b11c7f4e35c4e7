/**
 * A guard against decompression bombs: computes how long lz-string's
 * decompressFromEncodedURIComponent(input) would be WITHOUT building any strings, by replaying its
 * code stream with entry lengths only. LZW output can grow quadratically with the input (a crafted
 * 20,000-character link expands to tens of millions of characters and freezes the page for
 * seconds), so the codec calls this first and refuses anything longer than it could ever write.
 *
 * Mirrors lz-string 1.5 `_decompress` (resetValue 32, the URI-safe alphabet) step by step.
 */

const URI_SAFE_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+-$';
const CHAR_VALUE = new Map<string, number>([...URI_SAFE_ALPHABET].map((ch, i) => [ch, i]));

/**
 * The length of the decompressed text; `null` when lz-string would return null/"" or fail
 * (a damaged stream); `Infinity` as soon as the length passes `limit`.
 */
export function lzDecompressedLength(compressed: string, limit: number): number | null {
  const input = compressed.replace(/ /g, '+');
  const length = input.length;
  if (length === 0) return null;
  const valueAt = (i: number): number => CHAR_VALUE.get(input.charAt(i)) ?? 0;

  let val = valueAt(0);
  let position = 32;
  let index = 1;
  const readBits = (n: number): number => {
    let bits = 0;
    const maxpower = 2 ** n;
    let power = 1;
    while (power !== maxpower) {
      const resb = val & position;
      position >>= 1;
      if (position === 0) {
        position = 32;
        val = valueAt(index++);
      }
      bits |= (resb > 0 ? 1 : 0) * power;
      power <<= 1;
    }
    return bits;
  };

  // Entry lengths; codes 0..2 are control codes and never looked up.
  const lens: number[] = [0, 0, 0];
  let dictSize = 4;
  let numBits = 3;
  let enlargeIn = 4;

  const first = readBits(2);
  if (first === 0) readBits(8);
  else if (first === 1) readBits(16);
  // 2: lz-string returns "". 3: lz-string carries on with an undefined first entry and returns
  // garbage or throws; no compressor writes it, so it counts as damaged.
  else return null;
  lens[3] = 1;
  let wLen = 1;
  let total = 1;

  for (;;) {
    if (index > length) return null;
    let c = readBits(numBits);
    if (c === 0 || c === 1) {
      readBits(c === 0 ? 8 : 16);
      lens[dictSize++] = 1;
      c = dictSize - 1;
      enlargeIn--;
    } else if (c === 2) {
      return total;
    }
    if (enlargeIn === 0) {
      enlargeIn = 2 ** numBits;
      numBits++;
    }
    let entryLen: number;
    if (c >= 3 && c < dictSize) entryLen = lens[c];
    else if (c === dictSize) entryLen = wLen + 1;
    else return null;
    total += entryLen;
    if (total > limit) return Infinity;
    lens[dictSize++] = wLen + 1;
    enlargeIn--;
    wLen = entryLen;
    if (enlargeIn === 0) {
      enlargeIn = 2 ** numBits;
      numBits++;
    }
  }
}
