/**
 * A training-memory estimate from the spec alone, so a model that cannot fit is refused before it runs.
 * Pure: no tfjs. The estimate is deliberately simple and on the high side.
 */
import type { ShapeReport } from './inferShapes';
import { shapeSize, type OptimizerId } from './spec';

export const MiB = 1024 * 1024;
/** Above this total we warn: it may be slow or fail on small GPUs. */
export const WARN_TOTAL_BYTES = 1024 * MiB;
/** Above this total, or a single tensor above MAX_TENSOR_BYTES, we refuse to train. */
export const MAX_TOTAL_BYTES = 4096 * MiB;
export const MAX_TENSOR_BYTES = 1024 * MiB;

const OPTIMIZER_SLOTS: Record<OptimizerId, number> = { adam: 2, rmsprop: 2, sgd: 1 };

export interface MemoryEstimate {
  paramBytes: number;
  activationBytes: number;
  totalBytes: number;
  largestTensorBytes: number;
  level: 'ok' | 'warn' | 'refuse';
  message: string | null;
}

export function formatBytes(bytes: number): string {
  if (bytes >= 1024 * MiB) return `${(bytes / (1024 * MiB)).toFixed(1)} GiB`;
  if (bytes >= MiB) return `${(bytes / MiB).toFixed(1)} MiB`;
  return `${Math.max(1, Math.round(bytes / 1024))} KiB`;
}

export function estimateMemory(report: ShapeReport, batchSize: number, optimizer: OptimizerId): MemoryEstimate {
  const batch = Number.isFinite(batchSize) && batchSize > 0 ? batchSize : 1;
  // weights, their gradients, and the optimizer's slots, in float32
  const paramBytes = report.totalParams * 4 * (2 + OPTIMIZER_SLOTS[optimizer]);
  let activationBytes = shapeSize(report.inputShape) * batch * 4;
  let largest = activationBytes;
  for (const l of report.layers) {
    if (!l.outputShape) continue;
    const bytes = shapeSize(l.outputShape) * batch * 4;
    largest = Math.max(largest, bytes);
    // the forward output is kept for the backward pass, plus its gradient and a temporary
    activationBytes += 3 * bytes;
  }
  const totalBytes = paramBytes + activationBytes;
  let level: MemoryEstimate['level'] = 'ok';
  let message: string | null = null;
  if (largest > MAX_TENSOR_BYTES || totalBytes > MAX_TOTAL_BYTES) {
    level = 'refuse';
    message =
      largest > MAX_TENSOR_BYTES
        ? `one layer's output needs ${formatBytes(largest)} at batch size ${batch} (the most is ${formatBytes(MAX_TENSOR_BYTES)}): use fewer filters or a smaller batch`
        : `training needs about ${formatBytes(totalBytes)} (the most is ${formatBytes(MAX_TOTAL_BYTES)}): use fewer filters or a smaller batch`;
  } else if (totalBytes > WARN_TOTAL_BYTES) {
    level = 'warn';
    message = `training needs about ${formatBytes(totalBytes)}: it may be slow, or fail on a small GPU`;
  }
  return { paramBytes, activationBytes, totalBytes, largestTensorBytes: largest, level, message };
}
