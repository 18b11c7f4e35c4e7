/** How the page writes losses and other small numbers: 4 decimals, exponent notation below 0.001. */
export function formatLoss(v: number | null | undefined, digits = 4): string {
  if (v === null || v === undefined || Number.isNaN(v)) return '—';
  if (!Number.isFinite(v)) return String(v);
  return v !== 0 && Math.abs(v) < 0.001 ? v.toExponential(2) : v.toFixed(digits);
}
