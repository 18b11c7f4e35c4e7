// Convolution kernels with one channel on one side, in AssemblyScript with 128-bit SIMD (#19, the CPU
// path). Compiled by scripts/build-simd.mjs into ../simdWasm.ts; the module imports tfjs-wasm's own
// memory, so every pointer here is a byte offset into that heap (a tensor's memoryOffset) and nothing
// is copied in or out. No allocation, no data segment, no globals: the module owns no memory at all.
//
// Layouts as tfjs: activations NHWC, filters [KH, KW, Ci, Co], float32. Any stride and padding, no
// dilation. The geometry (N, H, W, Ci, Ho, Wo, Co, KH, KW, sh, sw, pt, pl) is as tfjs' conv2d info:
// input N×H×W×Ci, output N×Ho×Wo×Co, output pixel (oy, ox) reads input (oy·sh + ky − pt, ox·sw + kx − pl).
//
// Why: XNNPACK (tfjs-wasm's conv) packs for many channels; with one input or one output channel (an
// autoencoder's first and last layers) it reaches ~1-5 GFLOP/s, where these direct loops vectorize over
// the other side's channels.

@inline function hsum(v: v128): f32 {
  return f32x4.extract_lane(v, 0) + f32x4.extract_lane(v, 1) + f32x4.extract_lane(v, 2) + f32x4.extract_lane(v, 3);
}

@inline function imax(a: i32, b: i32): i32 {
  return a > b ? a : b;
}

@inline function imin(a: i32, b: i32): i32 {
  return a < b ? a : b;
}

/** Σ a[i]·b[i] over n floats, as a vector whose lanes sum to it (four accumulators, scalar tail in lane 0). */
@inline function dotv(a: usize, b: usize, n: i32): v128 {
  let a0 = f32x4.splat(0);
  let a1 = a0;
  let a2 = a0;
  let a3 = a0;
  let i = 0;
  for (; i + 16 <= n; i += 16) {
    const o = <usize>i << 2;
    a0 = f32x4.add(a0, f32x4.mul(v128.load(a + o), v128.load(b + o)));
    a1 = f32x4.add(a1, f32x4.mul(v128.load(a + o, 16), v128.load(b + o, 16)));
    a2 = f32x4.add(a2, f32x4.mul(v128.load(a + o, 32), v128.load(b + o, 32)));
    a3 = f32x4.add(a3, f32x4.mul(v128.load(a + o, 48), v128.load(b + o, 48)));
  }
  for (; i + 4 <= n; i += 4) {
    const o = <usize>i << 2;
    a0 = f32x4.add(a0, f32x4.mul(v128.load(a + o), v128.load(b + o)));
  }
  let acc = f32x4.add(f32x4.add(a0, a1), f32x4.add(a2, a3));
  if (i < n) {
    let s: f32 = 0;
    for (; i < n; i++) {
      const o = <usize>i << 2;
      s += load<f32>(a + o) * load<f32>(b + o);
    }
    acc = f32x4.add(acc, f32x4.replace_lane(f32x4.splat(0), 0, s));
  }
  return acc;
}

/** First output row oy whose input row oy·s + k − p is ≥ 0, and one past the last with it < size. */
@inline function firstOut(k: i32, s: i32, p: i32): i32 {
  // smallest o ≥ 0 with o·s ≥ p − k
  const need = p - k;
  return need <= 0 ? 0 : (need + s - 1) / s;
}

@inline function endOut(k: i32, s: i32, p: i32, size: i32, outSize: i32): i32 {
  // one past the largest o with o·s + k − p ≤ size − 1
  const lim = size - 1 + p - k;
  if (lim < 0) return 0;
  return imin(outSize, lim / s + 1);
}

/**
 * Forward conv with one output channel (Co = 1): out[n, oy, ox] = bias + Σ_{ky, kx, ci} x[…] · w[ky, kx, ci].
 * `bias` is a pointer, or 0 for none. The taps of one filter row that fall inside the image are one
 * contiguous run of (kx, ci) in both x and w, so each is one dot product.
 */
export function convForwardCo1(
  x: usize, w: usize, bias: usize, out: usize,
  N: i32, H: i32, W: i32, Ci: i32, Ho: i32, Wo: i32,
  KH: i32, KW: i32, sh: i32, sw: i32, pt: i32, pl: i32,
): void {
  const b: f32 = bias != 0 ? load<f32>(bias) : 0;
  let o = out;
  for (let n = 0; n < N; n++) {
    for (let oy = 0; oy < Ho; oy++) {
      for (let ox = 0; ox < Wo; ox++) {
        const ix0 = ox * sw - pl;
        const kx0 = imax(0, -ix0);
        const kx1 = imin(KW, W - ix0);
        let acc = f32x4.splat(0);
        if (kx1 > kx0) {
          const len = (kx1 - kx0) * Ci;
          for (let ky = 0; ky < KH; ky++) {
            const iy = oy * sh + ky - pt;
            if (iy < 0 || iy >= H) continue;
            const xp = x + ((<usize>(((n * H + iy) * W + ix0 + kx0) * Ci)) << 2);
            const wp = w + ((<usize>((ky * KW + kx0) * Ci)) << 2);
            acc = f32x4.add(acc, dotv(xp, wp, len));
          }
        }
        store<f32>(o, hsum(acc) + b);
        o += 4;
      }
    }
  }
}

/**
 * The output index o that reads input index i through filter tap k (o·s + k − p = i), or −1 when there
 * is none: (i + p − k) negative, not a multiple of s, or o ≥ outSize. Integer division only for s > 1.
 */
@inline function tapSource(i: i32, p: i32, k: i32, s: i32, outSize: i32): i32 {
  const t = i + p - k;
  if (t < 0) return -1;
  let o = t;
  if (s != 1) {
    o = t / s;
    if (o * s != t) return -1;
  }
  return o < outSize ? o : -1;
}

/**
 * Input gradient with one input channel (Ci = 1): dx[n, iy, ix] = Σ_{ky, kx} Σ_co dy[n, oy, ox, co] · w[ky, kx, 0, co]
 * over the taps with oy = (iy + pt − ky) / sh and ox = (ix + pl − kx) / sw whole and in range.
 */
export function convInputGradCi1(
  dy: usize, w: usize, dx: usize,
  N: i32, H: i32, W: i32, Ho: i32, Wo: i32, Co: i32,
  KH: i32, KW: i32, sh: i32, sw: i32, pt: i32, pl: i32,
): void {
  let o = dx;
  for (let n = 0; n < N; n++) {
    for (let iy = 0; iy < H; iy++) {
      for (let ix = 0; ix < W; ix++) {
        let a0 = f32x4.splat(0);
        let a1 = a0;
        let a2 = a0;
        let a3 = a0;
        let s: f32 = 0;
        for (let ky = 0; ky < KH; ky++) {
          const oy = tapSource(iy, pt, ky, sh, Ho);
          if (oy < 0) continue;
          for (let kx = 0; kx < KW; kx++) {
            const ox = tapSource(ix, pl, kx, sw, Wo);
            if (ox < 0) continue;
            const dp = dy + ((<usize>(((n * Ho + oy) * Wo + ox) * Co)) << 2);
            const wp = w + ((<usize>((ky * KW + kx) * Co)) << 2);
            let c = 0;
            for (; c + 16 <= Co; c += 16) {
              const q = (<usize>c) << 2;
              a0 = f32x4.add(a0, f32x4.mul(v128.load(dp + q), v128.load(wp + q)));
              a1 = f32x4.add(a1, f32x4.mul(v128.load(dp + q, 16), v128.load(wp + q, 16)));
              a2 = f32x4.add(a2, f32x4.mul(v128.load(dp + q, 32), v128.load(wp + q, 32)));
              a3 = f32x4.add(a3, f32x4.mul(v128.load(dp + q, 48), v128.load(wp + q, 48)));
            }
            for (; c + 4 <= Co; c += 4) {
              const q = (<usize>c) << 2;
              a0 = f32x4.add(a0, f32x4.mul(v128.load(dp + q), v128.load(wp + q)));
            }
            for (; c < Co; c++) {
              const q = (<usize>c) << 2;
              s += load<f32>(dp + q) * load<f32>(wp + q);
            }
          }
        }
        store<f32>(o, hsum(f32x4.add(f32x4.add(a0, a1), f32x4.add(a2, a3))) + s);
        o += 4;
      }
    }
  }
}

/**
 * Input gradient with one output channel (Co = 1): dx[n, iy, ix, ci] = Σ_{ky, kx} dy[n, oy, ox] · w[ky, kx, ci, 0]
 * over the taps with oy = (iy + pt − ky) / sh and ox = (ix + pl − kx) / sw whole and in range. Sixteen
 * channels at a time in four vector accumulators.
 */
export function convInputGradCo1(
  dy: usize, w: usize, dx: usize,
  N: i32, H: i32, W: i32, Ci: i32, Ho: i32, Wo: i32,
  KH: i32, KW: i32, sh: i32, sw: i32, pt: i32, pl: i32,
): void {
  const C4 = Ci & ~3;
  for (let n = 0; n < N; n++) {
    for (let iy = 0; iy < H; iy++) {
      for (let ix = 0; ix < W; ix++) {
        const op = dx + ((<usize>(((n * H + iy) * W + ix) * Ci)) << 2);
        let c0 = 0;
        for (; c0 < C4; c0 += 16) {
          const nv = imin(4, (C4 - c0) >> 2);
          let a0 = f32x4.splat(0);
          let a1 = a0;
          let a2 = a0;
          let a3 = a0;
          for (let ky = 0; ky < KH; ky++) {
            const oy = tapSource(iy, pt, ky, sh, Ho);
            if (oy < 0) continue;
            for (let kx = 0; kx < KW; kx++) {
              const ox = tapSource(ix, pl, kx, sw, Wo);
              if (ox < 0) continue;
              const d = f32x4.splat(load<f32>(dy + ((<usize>((n * Ho + oy) * Wo + ox)) << 2)));
              const wp = w + ((<usize>((ky * KW + kx) * Ci + c0)) << 2);
              a0 = f32x4.add(a0, f32x4.mul(d, v128.load(wp)));
              if (nv > 1) a1 = f32x4.add(a1, f32x4.mul(d, v128.load(wp, 16)));
              if (nv > 2) a2 = f32x4.add(a2, f32x4.mul(d, v128.load(wp, 32)));
              if (nv > 3) a3 = f32x4.add(a3, f32x4.mul(d, v128.load(wp, 48)));
            }
          }
          const p = op + ((<usize>c0) << 2);
          v128.store(p, a0);
          if (nv > 1) v128.store(p, a1, 16);
          if (nv > 2) v128.store(p, a2, 32);
          if (nv > 3) v128.store(p, a3, 48);
        }
        for (let c = C4; c < Ci; c++) {
          let s: f32 = 0;
          for (let ky = 0; ky < KH; ky++) {
            const oy = tapSource(iy, pt, ky, sh, Ho);
            if (oy < 0) continue;
            for (let kx = 0; kx < KW; kx++) {
              const ox = tapSource(ix, pl, kx, sw, Wo);
              if (ox < 0) continue;
              s += load<f32>(dy + ((<usize>((n * Ho + oy) * Wo + ox)) << 2)) * load<f32>(w + ((<usize>((ky * KW + kx) * Ci + c)) << 2));
            }
          }
          store<f32>(op + ((<usize>c) << 2), s);
        }
      }
    }
  }
}

/** tapSum for width 16, the common case: four accumulators and no per-pixel branches (~25% faster). */
function tapSum16(
  s: usize, sN: usize, sRow: usize, sCol: usize,
  v: usize, vN: usize, vRow: usize, vCol: usize,
  N: i32, oy0: i32, oy1: i32, ox0: i32, ox1: i32, out: usize,
): void {
  let a0 = f32x4.splat(0);
  let a1 = a0;
  let a2 = a0;
  let a3 = a0;
  for (let n = 0; n < N; n++) {
    for (let oy = oy0; oy < oy1; oy++) {
      let sp = s + <usize>n * sN + <usize>oy * sRow + <usize>ox0 * sCol;
      let vp = v + <usize>n * vN + <usize>oy * vRow + <usize>ox0 * vCol;
      const spEnd = sp + <usize>(ox1 - ox0) * sCol;
      while (sp < spEnd) {
        const d = v128.load32_splat(sp);
        a0 = f32x4.add(a0, f32x4.mul(d, v128.load(vp)));
        a1 = f32x4.add(a1, f32x4.mul(d, v128.load(vp, 16)));
        a2 = f32x4.add(a2, f32x4.mul(d, v128.load(vp, 32)));
        a3 = f32x4.add(a3, f32x4.mul(d, v128.load(vp, 48)));
        sp += sCol;
        vp += vCol;
      }
    }
  }
  v128.store(out, a0);
  v128.store(out, a1, 16);
  v128.store(out, a2, 32);
  v128.store(out, a3, 48);
}

/**
 * out[c] = Σ over (n, oy, ox) of S[n, oy, ox] · V[n, oy, ox, c] for c < width (≤ 16), for one filter tap:
 * S a scalar per pixel, V `width` floats per pixel. Pointers advance by the given byte strides per n,
 * per row and per column; the pixel ranges are rows [oy0, oy1) and columns [ox0, ox1) of each image.
 */
function tapSum(
  s: usize, sN: usize, sRow: usize, sCol: usize,
  v: usize, vN: usize, vRow: usize, vCol: usize,
  N: i32, oy0: i32, oy1: i32, ox0: i32, ox1: i32, width: i32, out: usize,
): void {
  if (width == 16) {
    tapSum16(s, sN, sRow, sCol, v, vN, vRow, vCol, N, oy0, oy1, ox0, ox1, out);
    return;
  }
  const nv = width >> 2;
  let a0 = f32x4.splat(0);
  let a1 = a0;
  let a2 = a0;
  let a3 = a0;
  let t0: f32 = 0;
  let t1: f32 = 0;
  let t2: f32 = 0;
  const tail = width & 3;
  const tailAt = <usize>(nv << 4);
  for (let n = 0; n < N; n++) {
    for (let oy = oy0; oy < oy1; oy++) {
      let sp = s + <usize>n * sN + <usize>oy * sRow + <usize>ox0 * sCol;
      let vp = v + <usize>n * vN + <usize>oy * vRow + <usize>ox0 * vCol;
      for (let ox = ox0; ox < ox1; ox++) {
        const sv = load<f32>(sp);
        const d = f32x4.splat(sv);
        if (nv > 0) a0 = f32x4.add(a0, f32x4.mul(d, v128.load(vp)));
        if (nv > 1) a1 = f32x4.add(a1, f32x4.mul(d, v128.load(vp, 16)));
        if (nv > 2) a2 = f32x4.add(a2, f32x4.mul(d, v128.load(vp, 32)));
        if (nv > 3) a3 = f32x4.add(a3, f32x4.mul(d, v128.load(vp, 48)));
        if (tail > 0) {
          t0 += sv * load<f32>(vp + tailAt);
          if (tail > 1) t1 += sv * load<f32>(vp + tailAt, 4);
          if (tail > 2) t2 += sv * load<f32>(vp + tailAt, 8);
        }
        sp += sCol;
        vp += vCol;
      }
    }
  }
  if (nv > 0) v128.store(out, a0);
  if (nv > 1) v128.store(out, a1, 16);
  if (nv > 2) v128.store(out, a2, 32);
  if (nv > 3) v128.store(out, a3, 48);
  if (tail > 0) store<f32>(out + tailAt, t0);
  if (tail > 1) store<f32>(out + tailAt, t1, 4);
  if (tail > 2) store<f32>(out + tailAt, t2, 8);
}

/**
 * Filter gradient: dw[ky, kx, ci, co] = Σ_{n, oy, ox} x[n, oy·sh + ky − pt, ox·sw + kx − pl, ci] · dy[n, oy, ox, co].
 * Per filter tap, one pass over the pixels in range for each channel of the smaller side (a scalar per
 * pixel) against up to 16 channels of the larger side (vectors), summed in registers. `scratch` holds
 * 16 floats (the sums when they go to a strided place in dw).
 */
export function convFilterGrad(
  x: usize, dy: usize, dw: usize, scratch: usize,
  N: i32, H: i32, W: i32, Ci: i32, Ho: i32, Wo: i32, Co: i32,
  KH: i32, KW: i32, sh: i32, sw: i32, pt: i32, pl: i32,
): void {
  const vecOut = Co >= Ci;
  // byte strides per image, per output row and per output column, of x (at a tap) and of dy
  const xN = <usize>(H * W * Ci) << 2;
  const xRow = <usize>(sh * W * Ci) << 2;
  const xCol = <usize>(sw * Ci) << 2;
  const dN = <usize>(Ho * Wo * Co) << 2;
  const dRow = <usize>(Wo * Co) << 2;
  const dCol = <usize>Co << 2;
  for (let ky = 0; ky < KH; ky++) {
    const oy0 = firstOut(ky, sh, pt);
    const oy1 = endOut(ky, sh, pt, H, Ho);
    for (let kx = 0; kx < KW; kx++) {
      const ox0 = firstOut(kx, sw, pl);
      const ox1 = endOut(kx, sw, pl, W, Wo);
      const tap = dw + ((<usize>((ky * KW + kx) * Ci * Co)) << 2);
      if (oy1 <= oy0 || ox1 <= ox0) {
        memory.fill(tap, 0, (<usize>(Ci * Co)) << 2);
        continue;
      }
      // x at output pixel (0, 0) for this tap (wraps below 0; the pixel ranges keep reads inside)
      const xt = x + ((<usize>(((ky - pt) * W + (kx - pl)) * Ci)) << 2);
      if (vecOut) {
        for (let ci = 0; ci < Ci; ci++) {
          for (let c0 = 0; c0 < Co; c0 += 16) {
            tapSum(
              xt + ((<usize>ci) << 2), xN, xRow, xCol,
              dy + ((<usize>c0) << 2), dN, dRow, dCol,
              N, oy0, oy1, ox0, ox1, imin(16, Co - c0), tap + ((<usize>(ci * Co + c0)) << 2),
            );
          }
        }
      } else {
        for (let co = 0; co < Co; co++) {
          for (let c0 = 0; c0 < Ci; c0 += 16) {
            const width = imin(16, Ci - c0);
            tapSum(
              dy + ((<usize>co) << 2), dN, dRow, dCol,
              xt + ((<usize>c0) << 2), xN, xRow, xCol,
              N, oy0, oy1, ox0, ox1, width, scratch,
            );
            for (let j = 0; j < width; j++) {
              store<f32>(tap + ((<usize>((c0 + j) * Co + co)) << 2), load<f32>(scratch + ((<usize>j) << 2)));
            }
          }
        }
      }
    }
  }
}

/**
 * Max-pooling gradient when windows do not overlap (sh ≥ KH, sw ≥ KW: the usual 2×2 pool, stride 2):
 * dx[the first maximum of each window, per channel, in (ky, kx) order] = dy[n, oy, ox, c]; every other
 * dx is 0. NaN is never a maximum and a window of only NaN or −∞ sends nothing, as on tfjs' cpu backend.
 * Four channels at a time: the window's positions compared in order, the winner's index kept per lane.
 */
export function maxPoolGradDisjoint(
  x: usize, dy: usize, dx: usize,
  N: i32, H: i32, W: i32, C: i32, Ho: i32, Wo: i32,
  KH: i32, KW: i32, sh: i32, sw: i32, pt: i32, pl: i32,
): void {
  memory.fill(dx, 0, (<usize>(N * H * W * C)) << 2);
  const C4 = C & ~3;
  const rowBytes = (<usize>(W * C)) << 2;
  const colBytes = (<usize>C) << 2;
  const negInf = f32x4.splat(-Infinity);
  const zero = f32x4.splat(0);
  let d = dy;
  for (let n = 0; n < N; n++) {
    const img = (<usize>(n * H * W * C)) << 2;
    for (let oy = 0; oy < Ho; oy++) {
      const y0 = imax(0, oy * sh - pt);
      const y1 = imin(H, oy * sh - pt + KH);
      for (let ox = 0; ox < Wo; ox++) {
        const x0 = imax(0, ox * sw - pl);
        const x1 = imin(W, ox * sw - pl + KW);
        if (y1 <= y0 || x1 <= x0) {
          d += colBytes;
          continue;
        }
        const base = img + <usize>y0 * rowBytes + <usize>x0 * colBytes;
        for (let c = 0; c < C4; c += 4) {
          const cb = (<usize>c) << 2;
          let best = negInf;
          let at = i32x4.splat(-1);
          let pos = 0;
          for (let y = y0; y < y1; y++) {
            let p = x + base + <usize>(y - y0) * rowBytes + cb;
            for (let xx = x0; xx < x1; xx++) {
              const v = v128.load(p);
              const gt = f32x4.gt(v, best);
              best = v128.bitselect(v, best, gt);
              at = v128.bitselect(i32x4.splat(pos), at, gt);
              pos++;
              p += colBytes;
            }
          }
          const g = v128.load(d + cb);
          pos = 0;
          for (let y = y0; y < y1; y++) {
            let q = dx + base + <usize>(y - y0) * rowBytes + cb;
            for (let xx = x0; xx < x1; xx++) {
              v128.store(q, v128.bitselect(g, zero, i32x4.eq(at, i32x4.splat(pos))));
              pos++;
              q += colBytes;
            }
          }
        }
        for (let c = C4; c < C; c++) {
          const cb = (<usize>c) << 2;
          let best: f32 = -Infinity;
          let at: usize = 0;
          let found = false;
          for (let y = y0; y < y1; y++) {
            let p = base + <usize>(y - y0) * rowBytes + cb;
            for (let xx = x0; xx < x1; xx++) {
              const v = load<f32>(x + p);
              if (v > best) {
                best = v;
                at = p;
                found = true;
              }
              p += colBytes;
            }
          }
          if (found) store<f32>(dx + at, load<f32>(d + cb));
        }
        d += colBytes;
      }
    }
  }
}

/**
 * One Adam step over n floats, as tfjs' AdamOptimizer computes it (same operations in the same order):
 *   m' = m·β1 + g·(1 − β1);  v' = v·β2 + g²·(1 − β2);
 *   value' = (m' / c1) / (√(v' / c2) + ε) · (−lr) + value,   c1 = 1 − β1^t, c2 = 1 − β2^t.
 * Reads value, g, m, v once and writes value', m', v' (other buffers) once: tfjs' ~13 kernels per
 * variable each read and write the whole tensor.
 */
export function adamStep(
  value: usize, g: usize, m: usize, v: usize, outValue: usize, outM: usize, outV: usize, n: i32,
  beta1: f32, oneMinusBeta1: f32, beta2: f32, oneMinusBeta2: f32, c1: f32, c2: f32, negLr: f32, eps: f32,
): void {
  const b1 = f32x4.splat(beta1);
  const ob1 = f32x4.splat(oneMinusBeta1);
  const b2 = f32x4.splat(beta2);
  const ob2 = f32x4.splat(oneMinusBeta2);
  const vc1 = f32x4.splat(c1);
  const vc2 = f32x4.splat(c2);
  const vlr = f32x4.splat(negLr);
  const veps = f32x4.splat(eps);
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    const o = <usize>i << 2;
    const gv = v128.load(g + o);
    const m1 = f32x4.add(f32x4.mul(v128.load(m + o), b1), f32x4.mul(gv, ob1));
    const v1 = f32x4.add(f32x4.mul(v128.load(v + o), b2), f32x4.mul(f32x4.mul(gv, gv), ob2));
    v128.store(outM + o, m1);
    v128.store(outV + o, v1);
    const step = f32x4.div(f32x4.div(m1, vc1), f32x4.add(f32x4.sqrt(f32x4.div(v1, vc2)), veps));
    v128.store(outValue + o, f32x4.add(f32x4.mul(step, vlr), v128.load(value + o)));
  }
  for (; i < n; i++) {
    const o = <usize>i << 2;
    const gs = load<f32>(g + o);
    const m1 = load<f32>(m + o) * beta1 + gs * oneMinusBeta1;
    const v1 = load<f32>(v + o) * beta2 + gs * gs * oneMinusBeta2;
    store<f32>(outM + o, m1);
    store<f32>(outV + o, v1);
    store<f32>(outValue + o, ((m1 / c1) / (sqrt<f32>(v1 / c2) + eps)) * negLr + load<f32>(value + o));
  }
}

/**
 * C[M×N] = A·B, B row-major [K×N] (rows of N contiguous floats), A's element (i, k) at a + 4·(i·ars + k·acs):
 * A row-major [M×K] is ars = K, acs = 1; Aᵀ of a row-major [K×M] is ars = 1, acs = M. Blocks of 4 rows ×
 * 8 columns in eight vector accumulators (one B row pair of vectors and four A scalars per k).
 */
export function gemmNN(a: usize, b: usize, c: usize, M: i32, K: i32, N: i32, ars: i32, acs: i32): void {
  const N8 = N & ~7;
  const N4 = N & ~3;
  const bRow = (<usize>N) << 2;
  const aCol = (<usize>acs) << 2;
  let i = 0;
  for (; i < M; i += 4) {
    const rows = imin(4, M - i);
    const a0 = a + ((<usize>(i * ars)) << 2);
    const a1 = a + ((<usize>(imin(i + 1, M - 1) * ars)) << 2);
    const a2 = a + ((<usize>(imin(i + 2, M - 1) * ars)) << 2);
    const a3 = a + ((<usize>(imin(i + 3, M - 1) * ars)) << 2);
    const c0 = c + ((<usize>(i * N)) << 2);
    let j = 0;
    for (; j < N8; j += 8) {
      let s00 = f32x4.splat(0);
      let s01 = s00;
      let s10 = s00;
      let s11 = s00;
      let s20 = s00;
      let s21 = s00;
      let s30 = s00;
      let s31 = s00;
      let bp = b + ((<usize>j) << 2);
      let ak: usize = 0;
      for (let k = 0; k < K; k++) {
        const b0 = v128.load(bp);
        const b1 = v128.load(bp, 16);
        const x0 = f32x4.splat(load<f32>(a0 + ak));
        const x1 = f32x4.splat(load<f32>(a1 + ak));
        const x2 = f32x4.splat(load<f32>(a2 + ak));
        const x3 = f32x4.splat(load<f32>(a3 + ak));
        s00 = f32x4.add(s00, f32x4.mul(x0, b0));
        s01 = f32x4.add(s01, f32x4.mul(x0, b1));
        s10 = f32x4.add(s10, f32x4.mul(x1, b0));
        s11 = f32x4.add(s11, f32x4.mul(x1, b1));
        s20 = f32x4.add(s20, f32x4.mul(x2, b0));
        s21 = f32x4.add(s21, f32x4.mul(x2, b1));
        s30 = f32x4.add(s30, f32x4.mul(x3, b0));
        s31 = f32x4.add(s31, f32x4.mul(x3, b1));
        bp += bRow;
        ak += aCol;
      }
      const cp = c0 + ((<usize>j) << 2);
      v128.store(cp, s00);
      v128.store(cp, s01, 16);
      if (rows > 1) {
        v128.store(cp + bRow, s10);
        v128.store(cp + bRow, s11, 16);
      }
      if (rows > 2) {
        v128.store(cp + 2 * bRow, s20);
        v128.store(cp + 2 * bRow, s21, 16);
      }
      if (rows > 3) {
        v128.store(cp + 3 * bRow, s30);
        v128.store(cp + 3 * bRow, s31, 16);
      }
    }
    for (; j < N4; j += 4) {
      let s0 = f32x4.splat(0);
      let s1 = s0;
      let s2 = s0;
      let s3 = s0;
      let bp = b + ((<usize>j) << 2);
      let ak: usize = 0;
      for (let k = 0; k < K; k++) {
        const b0 = v128.load(bp);
        s0 = f32x4.add(s0, f32x4.mul(f32x4.splat(load<f32>(a0 + ak)), b0));
        s1 = f32x4.add(s1, f32x4.mul(f32x4.splat(load<f32>(a1 + ak)), b0));
        s2 = f32x4.add(s2, f32x4.mul(f32x4.splat(load<f32>(a2 + ak)), b0));
        s3 = f32x4.add(s3, f32x4.mul(f32x4.splat(load<f32>(a3 + ak)), b0));
        bp += bRow;
        ak += aCol;
      }
      const cp = c0 + ((<usize>j) << 2);
      v128.store(cp, s0);
      if (rows > 1) v128.store(cp + bRow, s1);
      if (rows > 2) v128.store(cp + 2 * bRow, s2);
      if (rows > 3) v128.store(cp + 3 * bRow, s3);
    }
    for (; j < N; j++) {
      for (let r = 0; r < rows; r++) {
        const ar = a + ((<usize>((i + r) * ars)) << 2);
        let s: f32 = 0;
        for (let k = 0; k < K; k++) s += load<f32>(ar + (<usize>k) * aCol) * load<f32>(b + ((<usize>(k * N + j)) << 2));
        store<f32>(c + ((<usize>((i + r) * N + j)) << 2), s);
      }
    }
  }
}

/**
 * C[M×N] = A·Bᵀ with A row-major [M×K] and B row-major [N×K]: each C[i, j] a dot product of two
 * contiguous rows. Blocks of 4 rows of A × 2 rows of B, eight vector accumulators over k.
 */
export function gemmNT(a: usize, b: usize, c: usize, M: i32, K: i32, N: i32): void {
  const K4 = K & ~3;
  const row = (<usize>K) << 2;
  for (let i = 0; i < M; i += 4) {
    const rows = imin(4, M - i);
    const a0 = a + (<usize>i) * row;
    const a1 = a + (<usize>imin(i + 1, M - 1)) * row;
    const a2 = a + (<usize>imin(i + 2, M - 1)) * row;
    const a3 = a + (<usize>imin(i + 3, M - 1)) * row;
    for (let j = 0; j < N; j += 2) {
      const cols = imin(2, N - j);
      const b0 = b + (<usize>j) * row;
      const b1 = b + (<usize>imin(j + 1, N - 1)) * row;
      let s00 = f32x4.splat(0);
      let s01 = s00;
      let s10 = s00;
      let s11 = s00;
      let s20 = s00;
      let s21 = s00;
      let s30 = s00;
      let s31 = s00;
      let k = 0;
      for (; k < K4; k += 4) {
        const o = (<usize>k) << 2;
        const y0 = v128.load(b0 + o);
        const y1 = v128.load(b1 + o);
        const x0 = v128.load(a0 + o);
        const x1 = v128.load(a1 + o);
        const x2 = v128.load(a2 + o);
        const x3 = v128.load(a3 + o);
        s00 = f32x4.add(s00, f32x4.mul(x0, y0));
        s01 = f32x4.add(s01, f32x4.mul(x0, y1));
        s10 = f32x4.add(s10, f32x4.mul(x1, y0));
        s11 = f32x4.add(s11, f32x4.mul(x1, y1));
        s20 = f32x4.add(s20, f32x4.mul(x2, y0));
        s21 = f32x4.add(s21, f32x4.mul(x2, y1));
        s30 = f32x4.add(s30, f32x4.mul(x3, y0));
        s31 = f32x4.add(s31, f32x4.mul(x3, y1));
      }
      let t00 = hsum(s00);
      let t01 = hsum(s01);
      let t10 = hsum(s10);
      let t11 = hsum(s11);
      let t20 = hsum(s20);
      let t21 = hsum(s21);
      let t30 = hsum(s30);
      let t31 = hsum(s31);
      for (; k < K; k++) {
        const o = (<usize>k) << 2;
        const y0 = load<f32>(b0 + o);
        const y1 = load<f32>(b1 + o);
        const x0 = load<f32>(a0 + o);
        const x1 = load<f32>(a1 + o);
        const x2 = load<f32>(a2 + o);
        const x3 = load<f32>(a3 + o);
        t00 += x0 * y0;
        t01 += x0 * y1;
        t10 += x1 * y0;
        t11 += x1 * y1;
        t20 += x2 * y0;
        t21 += x2 * y1;
        t30 += x3 * y0;
        t31 += x3 * y1;
      }
      const cp = c + ((<usize>(i * N + j)) << 2);
      const cr = (<usize>N) << 2;
      store<f32>(cp, t00);
      if (cols > 1) store<f32>(cp, t01, 4);
      if (rows > 1) {
        store<f32>(cp + cr, t10);
        if (cols > 1) store<f32>(cp + cr, t11, 4);
      }
      if (rows > 2) {
        store<f32>(cp + 2 * cr, t20);
        if (cols > 1) store<f32>(cp + 2 * cr, t21, 4);
      }
      if (rows > 3) {
        store<f32>(cp + 3 * cr, t30);
        if (cols > 1) store<f32>(cp + 3 * cr, t31, 4);
      }
    }
  }
}

/**
 * Nearest-neighbour upsampling by whole factors (upSampling2d): out[n, oy, ox, c] = x[n, oy / fy, ox / fx, c].
 * Each source pixel's C floats stored fx times along the first row of a block, which is then copied
 * to the block's other fy − 1 rows.
 */
export function upsampleNearest(x: usize, out: usize, N: i32, H: i32, W: i32, C: i32, fy: i32, fx: i32): void {
  const px = (<usize>C) << 2;
  const outRow = (<usize>(W * fx)) * px;
  const C4 = C & ~3;
  let src = x;
  let dst = out;
  for (let n = 0; n < N; n++) {
    for (let iy = 0; iy < H; iy++) {
      const rowStart = dst;
      for (let ix = 0; ix < W; ix++) {
        for (let r = 0; r < fx; r++) {
          let c = 0;
          for (; c < C4; c += 4) v128.store(dst + ((<usize>c) << 2), v128.load(src + ((<usize>c) << 2)));
          for (; c < C; c++) store<f32>(dst + ((<usize>c) << 2), load<f32>(src + ((<usize>c) << 2)));
          dst += px;
        }
        src += px;
      }
      for (let r = 1; r < fy; r++) {
        memory.copy(dst, rowStart, outRow);
        dst += outRow;
      }
    }
  }
}

/**
 * ln x, four float32 lanes at a time, with no table (AssemblyScript's Mathf.log needs a data segment,
 * and this module must own nothing in tfjs' memory): x = 2^e·m with m in [√½, √2), then
 * ln m = 2·atanh(s), s = (m − 1)/(m + 1), |s| ≤ 0.172, by its series to s⁹ (truncation < 1e-9, so the
 * float32 arithmetic's rounding, ~1-2 ulp, dominates). For normal x > 0 (the callers clip to ≥ 1e-7);
 * NaN lanes stay NaN.
 */
@inline function ln4(x: v128): v128 {
  const bits = x;
  const e = i32x4.sub(i32x4.shr_u(bits, 23), i32x4.splat(127));
  let m = v128.or(v128.and(bits, i32x4.splat(0x7fffff)), i32x4.splat(0x3f800000));
  const big = f32x4.gt(m, f32x4.splat(1.4142135));
  m = v128.bitselect(f32x4.mul(m, f32x4.splat(0.5)), m, big);
  const ef = f32x4.convert_i32x4_s(i32x4.sub(e, big)); // big lanes are −1: e + 1
  const one = f32x4.splat(1);
  const sv = f32x4.div(f32x4.sub(m, one), f32x4.add(m, one));
  const s2 = f32x4.mul(sv, sv);
  let poly = f32x4.add(f32x4.splat(1.0 / 7), f32x4.mul(s2, f32x4.splat(1.0 / 9)));
  poly = f32x4.add(f32x4.splat(1.0 / 5), f32x4.mul(s2, poly));
  poly = f32x4.add(f32x4.splat(1.0 / 3), f32x4.mul(s2, poly));
  poly = f32x4.add(one, f32x4.mul(s2, poly));
  const r = f32x4.add(f32x4.mul(ef, f32x4.splat(0.6931472)), f32x4.mul(f32x4.add(sv, sv), poly));
  return v128.bitselect(x, r, f32x4.ne(x, x));
}

/** ln of one float32 through ln4 (the scalar tails use the same arithmetic as the vector body). */
@inline function ln1(x: f32): f32 {
  return f32x4.extract_lane(ln4(f32x4.splat(x)), 0);
}

/**
 * Binary cross-entropy of n outputs against targets, as training.ts' lossFn computes it on every
 * backend: p = clip(o, ε, 1 − ε), returns −Σ [t·ln p + (1 − t)·ln(1 − p)] (the caller divides by n).
 * Four at a time; partial sums in float32 for 64 vectors, then added in float64.
 */
export function bceSum(t: usize, o: usize, n: i32, eps: f32): f64 {
  const lo = f32x4.splat(eps);
  const hi = f32x4.splat(1 - eps);
  const one = f32x4.splat(1);
  let total: f64 = 0;
  let i = 0;
  while (i + 4 <= n) {
    let acc = f32x4.splat(0);
    const end = imin(n & ~3, i + 256);
    for (; i < end; i += 4) {
      const q = (<usize>i) << 2;
      const tv = v128.load(t + q);
      const ov = v128.load(o + q);
      // clip as tfjs does (NaN passes through: min/max with NaN give NaN)
      const p = f32x4.min(f32x4.max(ov, lo), hi);
      const term = f32x4.add(f32x4.mul(tv, ln4(p)), f32x4.mul(f32x4.sub(one, tv), ln4(f32x4.sub(one, p))));
      acc = f32x4.add(acc, term);
    }
    total += <f64>f32x4.extract_lane(acc, 0) + <f64>f32x4.extract_lane(acc, 1) + <f64>f32x4.extract_lane(acc, 2) + <f64>f32x4.extract_lane(acc, 3);
  }
  const e1: f32 = 1 - eps;
  for (; i < n; i++) {
    const q = (<usize>i) << 2;
    const tv = load<f32>(t + q);
    const ov = load<f32>(o + q);
    const p = ov != ov ? ov : ov < eps ? eps : ov > e1 ? e1 : ov;
    total += <f64>(tv * ln1(p) + (1 - tv) * ln1(1 - p));
  }
  return -total;
}

/**
 * The gradients of bceSum·scale (scale = upstream gradient / n): with respect to the outputs
 * −scale·(t/p − (1 − t)/(1 − p)) where ε ≤ o ≤ 1 − ε (the clip passes the gradient there, inclusive, as
 * tfjs' clipByValue does) and 0 elsewhere (NaN outputs included); with respect to the targets −scale·(ln p − ln(1 − p)).
 */
export function bceGrad(t: usize, o: usize, dOut: usize, dTarget: usize, n: i32, eps: f32, scale: f32): void {
  const lo = f32x4.splat(eps);
  const hi = f32x4.splat(1 - eps);
  const one = f32x4.splat(1);
  const ns = f32x4.splat(-scale);
  const zero = f32x4.splat(0);
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    const q = (<usize>i) << 2;
    const tv = v128.load(t + q);
    const ov = v128.load(o + q);
    const p = f32x4.min(f32x4.max(ov, lo), hi);
    const q1 = f32x4.sub(one, p);
    // inside the clip, bounds included, as tfjs' clipByValue gradient (a NaN output is not inside: 0)
    const inside = v128.and(f32x4.ge(ov, lo), f32x4.le(ov, hi));
    const g = f32x4.mul(ns, f32x4.sub(f32x4.div(tv, p), f32x4.div(f32x4.sub(one, tv), q1)));
    v128.store(dOut + q, v128.bitselect(g, zero, inside));
    v128.store(dTarget + q, f32x4.mul(ns, f32x4.sub(ln4(p), ln4(q1))));
  }
  const e1: f32 = 1 - eps;
  for (; i < n; i++) {
    const q = (<usize>i) << 2;
    const tv = load<f32>(t + q);
    const ov = load<f32>(o + q);
    const p = ov != ov ? ov : ov < eps ? eps : ov > e1 ? e1 : ov;
    const q1: f32 = 1 - p;
    store<f32>(dOut + q, ov >= eps && ov <= e1 ? -scale * (tv / p - (1 - tv) / q1) : 0);
    store<f32>(dTarget + q, -scale * (ln1(p) - ln1(q1)));
  }
}
