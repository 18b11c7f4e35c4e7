import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { unzipSync } from 'fflate';
import { describe, expect, it } from 'vitest';
import { npyBytes, npzBytes } from './npz';

const PYTHON = process.env.PYTHON ?? 'python3';

function pythonHasNumpy(): boolean {
  try {
    execFileSync(PYTHON, ['-c', 'import numpy'], { stdio: 'ignore', timeout: 30_000 });
    return true;
  } catch {
    return false;
  }
}

const HAS_NUMPY = pythonHasNumpy();
const REQUIRE = process.env.REQUIRE_TORCH === '1';

function headerOf(bytes: Uint8Array): { len: number; text: string } {
  const len = (bytes[8] ?? 0) | ((bytes[9] ?? 0) << 8);
  return { len, text: new TextDecoder('latin1').decode(bytes.subarray(10, 10 + len)) };
}

describe('npyBytes', () => {
  it('writes the exact version 1.0 header for a small uint8 array', () => {
    const data = Uint8Array.from([1, 2, 3, 4, 5, 6]);
    const bytes = npyBytes(data, [2, 3]);
    expect([...bytes.subarray(0, 8)]).toEqual([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0]);
    const dict = "{'descr': '|u1', 'fortran_order': False, 'shape': (2, 3), }";
    // 10 preamble bytes + 60 dict chars + padding + '\n' = 128
    const expected = dict + ' '.repeat(128 - 10 - dict.length - 1) + '\n';
    const { len, text } = headerOf(bytes);
    expect(len).toBe(118);
    expect(text).toBe(expected);
    expect((10 + len) % 64).toBe(0);
    expect([...bytes.subarray(10 + len)]).toEqual([1, 2, 3, 4, 5, 6]);
    expect(bytes.length).toBe(128 + 6);
  });

  it('writes float32 little-endian with a 1-D shape as (n,)', () => {
    const data = Float32Array.from([1, -2.5, 0.1, 3e38, 0]);
    const bytes = npyBytes(data, [5]);
    const { len, text } = headerOf(bytes);
    expect(text.startsWith("{'descr': '<f4', 'fortran_order': False, 'shape': (5,), }")).toBe(true);
    expect(text.endsWith(' \n')).toBe(true);
    expect((10 + len) % 64).toBe(0);
    const view = new DataView(bytes.buffer, bytes.byteOffset + 10 + len);
    expect(view.byteLength).toBe(20);
    for (let i = 0; i < data.length; i += 1) expect(view.getFloat32(i * 4, true)).toBe(data[i]);
  });

  it('pads every header to a multiple of 64, including scalars and long shapes', () => {
    for (const shape of [[], [0], [1], [3, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1]]) {
      const n = shape.reduce((a, b) => a * b, 1);
      const { len, text } = headerOf(npyBytes(new Float32Array(n), shape));
      expect((10 + len) % 64).toBe(0);
      expect(text.endsWith('\n')).toBe(true);
    }
    expect(headerOf(npyBytes(new Uint8Array(1), [])).text).toContain("'shape': (), }");
  });

  it('rejects a shape that does not match the data', () => {
    expect(() => npyBytes(new Uint8Array(5), [2, 3])).toThrow(/6 values/);
    expect(() => npyBytes(new Uint8Array(0), [-1])).toThrow(/invalid dimension/);
  });
});

describe('npzBytes', () => {
  it('is a stored zip of <name>.npy files', () => {
    const npz = npzBytes({ x: { data: new Uint8Array(4), shape: [2, 2] }, y: { data: new Float32Array(3), shape: [3] } });
    const files = unzipSync(npz);
    expect(Object.keys(files).sort()).toEqual(['x.npy', 'y.npy']);
    expect(files['x.npy']).toEqual(npyBytes(new Uint8Array(4), [2, 2]));
    expect(npz[8]).toBe(0); // compression method of the first local header: stored
  });

  it.skipIf(!HAS_NUMPY && !REQUIRE)('loads in real NumPy with the same shapes, dtypes and values', () => {
    expect(HAS_NUMPY, `${PYTHON} cannot import numpy (REQUIRE_TORCH=1)`).toBe(true);
    const images = Uint8Array.from({ length: 2 * 3 * 4 }, (_, i) => (i * 37) % 256);
    const embeddings = Float32Array.from([0, 1, -1, 0.1, 1e-8, -3.4e38, 123.456, 2 ** -20]);
    const labels = Uint8Array.from([3, 1, 4, 1, 5]);
    const input = {
      images: { data: images, shape: [2, 3, 4] },
      embeddings: { data: embeddings, shape: [4, 2] },
      labels: { data: labels, shape: [5] },
    };
    const dir = mkdtempSync(join(tmpdir(), 'npz-test-'));
    try {
      const file = join(dir, 'data.npz');
      writeFileSync(file, npzBytes(input));
      const script = [
        'import json, sys, numpy as np',
        'z = np.load(sys.argv[1])',
        'print(json.dumps({k: {"shape": list(z[k].shape), "dtype": str(z[k].dtype), "values": z[k].ravel().tolist()} for k in z.files}))',
      ].join('\n');
      const out = execFileSync(PYTHON, ['-c', script, file], { encoding: 'utf8', timeout: 60_000 });
      const loaded = JSON.parse(out) as Record<string, { shape: number[]; dtype: string; values: number[] }>;
      expect(Object.keys(loaded).sort()).toEqual(['embeddings', 'images', 'labels']);
      expect(loaded.images).toEqual({ shape: [2, 3, 4], dtype: 'uint8', values: [...images] });
      expect(loaded.labels).toEqual({ shape: [5], dtype: 'uint8', values: [...labels] });
      expect(loaded.embeddings).toEqual({ shape: [4, 2], dtype: 'float32', values: [...embeddings] });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
