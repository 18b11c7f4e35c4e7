/** Detects a reconstruction that collapsed to (nearly) one constant image. Pure: no tfjs. */

export interface CollapseStats {
  mean: number;
  /** Standard deviation of all output values across images and pixels. */
  std: number;
}

export function outputStats(pixels: ArrayLike<number>): CollapseStats {
  let sum = 0;
  let sq = 0;
  const n = pixels.length;
  for (let i = 0; i < n; i++) {
    sum += pixels[i];
    sq += pixels[i] * pixels[i];
  }
  const mean = n > 0 ? sum / n : 0;
  return { mean, std: Math.sqrt(Math.max(0, sq / Math.max(1, n) - mean * mean)) };
}

/**
 * Returns a message for the user when the outputs are (almost) constant, null otherwise.
 * Real digit reconstructions have a pixel standard deviation around 0.3; a collapsed model's is ~0.
 */
export function detectCollapse(pixels: ArrayLike<number>, threshold = 0.02): string | null {
  const { mean, std } = outputStats(pixels);
  if (std >= threshold) return null;
  const tone = mean < 0.1 ? 'all black' : mean > 0.9 ? 'all white' : `a flat grey (${mean.toFixed(2)})`;
  return (
    `The output has collapsed to a constant (${tone}, spread ${std.toFixed(3)}): the model ignores its input. ` +
    'Try a lower learning rate, leakyReLU instead of ReLU, binary cross-entropy loss, batch norm, or another seed.'
  );
}
