/**
 * A minimal PNG writer for the tests (no dependency): 8-bit grey or RGB, no interlace, one IDAT chunk,
 * made with Node's zlib, so the tests can make real image files of any size to drop into the app.
 */
import { crc32, deflateSync } from 'node:zlib';

function chunk(type: string, data: Buffer): Buffer {
  const len = Buffer.alloc(4);
  len.writeUInt32BE(data.length);
  const body = Buffer.concat([Buffer.from(type, 'latin1'), data]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(body) >>> 0);
  return Buffer.concat([len, body, crc]);
}

/** A PNG of width × height; `pixel(x, y)` gives one value (grey) or three (RGB) in 0..255. */
export function encodePng(width: number, height: number, pixel: (x: number, y: number) => number | [number, number, number]): Buffer {
  const first = pixel(0, 0);
  const channels = Array.isArray(first) ? 3 : 1;
  const stride = width * channels + 1;
  const raw = Buffer.alloc(stride * height);
  for (let y = 0; y < height; y++) {
    raw[y * stride] = 0; // filter: none
    for (let x = 0; x < width; x++) {
      const v = pixel(x, y);
      const o = y * stride + 1 + x * channels;
      if (Array.isArray(v)) {
        raw[o] = v[0];
        raw[o + 1] = v[1];
        raw[o + 2] = v[2];
      } else raw[o] = v;
    }
  }
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr[8] = 8; // bit depth
  ihdr[9] = channels === 3 ? 2 : 0; // colour type: truecolour or greyscale
  ihdr[10] = 0;
  ihdr[11] = 0;
  ihdr[12] = 0;
  return Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), chunk('IHDR', ihdr), chunk('IDAT', deflateSync(raw, { level: 1 })), chunk('IEND', Buffer.alloc(0))]);
}

/** A disc of radius r at (cx, cy) on black, in `colour` (grey value or RGB). */
export function discPng(size: number, cx: number, cy: number, r: number, colour: number | [number, number, number]): Buffer {
  return encodePng(size, size, (x, y) => {
    const inside = (x + 0.5 - cx) ** 2 + (y + 0.5 - cy) ** 2 <= r * r;
    if (Array.isArray(colour)) return inside ? colour : [0, 0, 0];
    return inside ? colour : 0;
  });
}

/** A filled square of half-side h at (cx, cy) on black. */
export function squarePng(size: number, cx: number, cy: number, h: number, colour: number | [number, number, number]): Buffer {
  return encodePng(size, size, (x, y) => {
    const inside = Math.abs(x + 0.5 - cx) <= h && Math.abs(y + 0.5 - cy) <= h;
    if (Array.isArray(colour)) return inside ? colour : [0, 0, 0];
    return inside ? colour : 0;
  });
}
