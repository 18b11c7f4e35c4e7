/**
 * Decoder for the data set asset format written by scripts/build-data.mjs (after gunzip).
 *
 * Layout (little-endian):
 *   0-3   ASCII "AEDS"
 *   4     format version (1)
 *   5-7   zero
 *   8-11  uint32 count
 *   12-13 uint16 height
 *   14-15 uint16 width
 *   16-17 uint16 channels
 *   18-19 uint16 zero
 *   20..  `count` label bytes, then count*h*w*c pixel bytes (uint8, row-major HWC per image)
 */

export const DATASET_MAGIC = 'AEDS';
export const DATASET_FORMAT_VERSION = 1;
export const DATASET_HEADER_BYTES = 20;

export interface DecodedDataset {
  count: number;
  height: number;
  width: number;
  channels: number;
  /** One label per image (views into the input bytes). */
  labels: Uint8Array;
  /** count*height*width*channels uint8 pixels, row-major HWC per image (views into the input bytes). */
  pixels: Uint8Array;
}

/** True when the bytes start with the gzip magic (1f 8b). */
export function isGzip(bytes: Uint8Array): boolean {
  return bytes.length >= 2 && bytes[0] === 0x1f && bytes[1] === 0x8b;
}

/** Parses an (already gunzipped) data set asset. Throws a descriptive Error on malformed input. */
export function decodeDataset(bytes: Uint8Array): DecodedDataset {
  if (isGzip(bytes)) {
    throw new Error('dataset decode: the bytes are still gzip-compressed; gunzip them first');
  }
  if (bytes.length < DATASET_HEADER_BYTES) {
    throw new Error(
      `dataset decode: truncated header (${bytes.length} bytes, need ${DATASET_HEADER_BYTES})`,
    );
  }
  let magic = '';
  for (let i = 0; i < 4; i++) magic += String.fromCharCode(bytes[i]);
  if (magic !== DATASET_MAGIC) {
    throw new Error(`dataset decode: bad magic ${JSON.stringify(magic)} (expected "${DATASET_MAGIC}")`);
  }
  const version = bytes[4];
  if (version !== DATASET_FORMAT_VERSION) {
    throw new Error(
      `dataset decode: unsupported format version ${version} (expected ${DATASET_FORMAT_VERSION}); rebuild with \`npm run data -- --force\``,
    );
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const count = view.getUint32(8, true);
  const height = view.getUint16(12, true);
  const width = view.getUint16(14, true);
  const channels = view.getUint16(16, true);
  if (height === 0 || width === 0 || channels === 0) {
    throw new Error(`dataset decode: invalid image shape ${height}x${width}x${channels}`);
  }
  const perImage = height * width * channels;
  const labelsStart = DATASET_HEADER_BYTES;
  const pixelsStart = labelsStart + count;
  const expected = pixelsStart + count * perImage;
  if (bytes.length < expected) {
    throw new Error(
      `dataset decode: truncated data (${bytes.length} bytes, need ${expected} for ${count} images of ${height}x${width}x${channels})`,
    );
  }
  if (bytes.length > expected) {
    throw new Error(
      `dataset decode: ${bytes.length - expected} unexpected trailing bytes after ${count} images of ${height}x${width}x${channels}`,
    );
  }
  return {
    count,
    height,
    width,
    channels,
    labels: bytes.subarray(labelsStart, pixelsStart),
    pixels: bytes.subarray(pixelsStart, expected),
  };
}
