/**
 * Writing NumPy `.npy` (format version 1.0) and `.npz` files, so data and
 * embeddings can be loaded with `numpy.load`. Pure: no DOM, React or tfjs.
 */
import { zipSync, type Zippable } from 'fflate';

export type NpyArray = Uint8Array | Float32Array;

export interface NpzEntry {
  data: NpyArray;
  shape: readonly number[];
}

const MAGIC = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]; // \x93NUMPY
const PREAMBLE = MAGIC.length + 2 + 2; // magic + version + uint16 header length
const ALIGN = 64;

const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

function shapeLiteral(shape: readonly number[]): string {
  if (shape.length === 1) return `(${shape[0]},)`;
  return `(${shape.join(', ')})`;
}

/** The header dict, padded with spaces and ending in '\n' so the data starts at a multiple of 64. */
export function npyHeader(descr: '|u1' | '<f4', shape: readonly number[]): string {
  const dict = `{'descr': '${descr}', 'fortran_order': False, 'shape': ${shapeLiteral(shape)}, }`;
  const unpadded = PREAMBLE + dict.length + 1;
  const pad = (ALIGN - (unpadded % ALIGN)) % ALIGN;
  return `${dict}${' '.repeat(pad)}\n`;
}

function dataBytes(array: NpyArray): Uint8Array {
  if (array instanceof Uint8Array) return array;
  if (LITTLE_ENDIAN) return new Uint8Array(array.buffer, array.byteOffset, array.byteLength);
  const out = new Uint8Array(array.length * 4);
  const view = new DataView(out.buffer);
  for (let i = 0; i < array.length; i += 1) view.setFloat32(i * 4, array[i] ?? 0, true);
  return out;
}

/** A `.npy` file (version 1.0, C order) holding `array` with the given shape. */
export function npyBytes(array: NpyArray, shape: readonly number[]): Uint8Array {
  let size = 1;
  for (const d of shape) {
    if (!Number.isSafeInteger(d) || d < 0) throw new Error(`npy: invalid dimension ${String(d)} in shape [${shape.join(', ')}]`);
    size *= d;
  }
  if (size !== array.length) {
    throw new Error(`npy: shape [${shape.join(', ')}] holds ${size} values but the array has ${array.length}`);
  }
  const descr = array instanceof Uint8Array ? '|u1' : '<f4';
  const header = npyHeader(descr, shape);
  if (header.length > 0xffff) throw new Error('npy: header too long for format version 1.0');
  const data = dataBytes(array);
  const out = new Uint8Array(PREAMBLE + header.length + data.length);
  out.set(MAGIC, 0);
  out[6] = 1; // major version
  out[7] = 0; // minor version
  out[8] = header.length & 0xff;
  out[9] = header.length >> 8;
  for (let i = 0; i < header.length; i += 1) out[PREAMBLE + i] = header.charCodeAt(i);
  out.set(data, PREAMBLE + header.length);
  return out;
}

/** A `.npz` file: an uncompressed zip of `<name>.npy` files, one per array. */
export function npzBytes(arrays: Record<string, NpzEntry>): Uint8Array {
  const files: Zippable = {};
  for (const [name, { data, shape }] of Object.entries(arrays)) {
    if (name.length === 0) throw new Error('npz: array names must not be empty');
    files[`${name}.npy`] = [npyBytes(data, shape), { level: 0 }];
  }
  return zipSync(files, { level: 0 });
}
