import * as tf from '@tensorflow/tfjs';
import { kernelStats } from './kernels';
export interface ConvGeometry { batch: number; inHeight: number; inWidth: number; inChannels: number; outHeight: number; outWidth: number; outChannels: number; filterHeight: number; filterWidth: number; strideHeight: number; strideWidth: number; padTop: number; padLeft: number; }
/** Reusable scratch (a filter-sized accumulator); grows as needed. */
let scratch = new Float32Array(0);

/**
 * dW[ky,kx,ci,co] = Σ_{b,oy,ox} x[b, oy·sh+ky−pt, ox·sw+kx−pl, ci] · dy[b,oy,ox,co], written to `out`
 * (length KH·KW·Ci·Co, layout [KH,KW,Ci,Co]).
 *
 * For each (b, oy, ky) the valid x row segment x[b, iy, ix0..ix1, :] is contiguous, so we form
 * outer products between dy[b,oy,ox,:] (Co values) and the x patch row (up to KW·Ci values) and
 * accumulate them into dW, choosing whichever of the two is longer as the contiguous inner loop:
 *  - "co-inner": dW[ky][kx·Ci+ci][co] += x · dy[co]   (natural layout; good when Co is large)
 *  - "patch-inner": T[ky][co][kx·Ci+ci] += dy[co] · x  (transposed scratch; good when KW·Ci is large)
 * Zeros (common after relu / in dy of relu layers / in MNIST inputs) are skipped.
 */
export function conv2dBackpropFilterNHWC(
  x: ArrayLike<number>,
  dy: ArrayLike<number>,
  g: ConvGeometry,
  out: Float32Array,
): void {
  const { batch, inHeight: H, inWidth: W, inChannels: Ci, outHeight: Ho, outWidth: Wo, outChannels: Co } = g;
  const { filterHeight: KH, filterWidth: KW, strideHeight: sh, strideWidth: sw, padTop: pt, padLeft: pl } = g;
  const rowLen = KW * Ci; // one ky-slice of the filter, as a patch row
  const sliceLen = rowLen * Co; // one ky-slice of dW
  const size = KH * sliceLen;
  const patchInner = rowLen > Co;
  let acc: Float32Array;
  if (patchInner) {
    if (scratch.length < size) scratch = new Float32Array(size);
    acc = scratch;
    acc.fill(0, 0, size);
  } else {
    acc = out;
    acc.fill(0);
  }
  const xImg = H * W * Ci;
  const xRow = W * Ci;
  const dyImg = Ho * Wo * Co;
  const dyRow = Wo * Co;
  for (let b = 0; b < batch; b++) {
    const xB = b * xImg;
    const dyB = b * dyImg;
    for (let oy = 0; oy < Ho; oy++) {
      const iy0 = oy * sh - pt;
      const kyMin = iy0 < 0 ? -iy0 : 0;
      const kyMax = Math.min(KH, H - iy0);
      const dyR = dyB + oy * dyRow;
      for (let ox = 0; ox < Wo; ox++) {
        const ix0 = ox * sw - pl;
        const kxMin = ix0 < 0 ? -ix0 : 0;
        const kxMax = Math.min(KW, W - ix0);
        if (kxMax <= kxMin) continue;
        const dyOff = dyR + ox * Co;
        // patch row covers kx in [kxMin, kxMax): j in [jMin, jMax) of the ky-slice
        const jMin = kxMin * Ci;
        const jMax = kxMax * Ci;
        for (let ky = kyMin; ky < kyMax; ky++) {
          // x index of (kx = 0, ci = 0) for this ky; only [jMin, jMax) of it is in range
          const xBase = xB + (iy0 + ky) * xRow + ix0 * Ci;
          if (patchInner) {
            const tBase = ky * sliceLen;
            for (let co = 0; co < Co; co++) {
              const d = dy[dyOff + co];
              if (d === 0) continue;
              const t = tBase + co * rowLen;
              for (let j = jMin; j < jMax; j++) acc[t + j] += d * x[xBase + j];
            }
          } else {
            const wBase = ky * sliceLen;
            for (let j = jMin; j < jMax; j++) {
              const v = x[xBase + j];
              if (v === 0) continue;
              const w = wBase + j * Co;
              for (let co = 0; co < Co; co++) acc[w + co] += v * dy[dyOff + co];
            }
          }
        }
      }
    }
  }
  if (patchInner) {
    // T[ky][co][j] → dW[ky][j][co]
    for (let ky = 0; ky < KH; ky++) {
      const base = ky * sliceLen;
      for (let co = 0; co < Co; co++) {
        const t = base + co * rowLen;
        for (let j = 0; j < rowLen; j++) out[base + j * Co + co] = acc[t + j];
      }
    }
  }
}


interface WB { typedArrayFromHeap(t: tf.TensorInfo): Float32Array; makeOutput(s: number[], d: string): tf.TensorInfo }
export const loopFilter: tf.KernelFunc = ({ inputs, backend, attrs }) => {
  const t0 = performance.now();
  const b = backend as WB; const x = inputs.x!; const dy = inputs.dy!;
  const fs = attrs!.filterShape as [number, number, number, number];
  const info = tf.backend_util.computeConv2DInfo(x.shape as [number, number, number, number], fs, attrs!.strides as number, 1, attrs!.pad as 'same', undefined, false, 'channelsLast');
  const g: ConvGeometry = { batch: info.batchSize, inHeight: info.inHeight, inWidth: info.inWidth, inChannels: info.inChannels, outHeight: info.outHeight, outWidth: info.outWidth, outChannels: info.outChannels, filterHeight: info.filterHeight, filterWidth: info.filterWidth, strideHeight: info.strideHeight, strideWidth: info.strideWidth, padTop: info.padInfo.top, padLeft: info.padInfo.left };
  const out = b.makeOutput(fs, 'float32');
  conv2dBackpropFilterNHWC(b.typedArrayFromHeap(x), b.typedArrayFromHeap(dy), g, b.typedArrayFromHeap(out));
  kernelStats.Conv2DBackpropFilter.calls++; kernelStats.Conv2DBackpropFilter.ms += performance.now() - t0;
  return out;
};
