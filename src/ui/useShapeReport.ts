import { useMemo } from 'react';
import { DATASET_INFO } from '../data/catalogue';
import { checkSettings, inferShapes, type ShapeReport } from '../model/inferShapes';
import { estimateMemory, type MemoryEstimate } from '../model/memory';
import { useAppStore } from '../state/store';

/** Shape inference of the current spec, recomputed only when the layers or data set change. */
export function useShapeReport(): ShapeReport {
  const encoder = useAppStore((s) => s.spec.encoder);
  const decoder = useAppStore((s) => s.spec.decoder);
  const dataset = useAppStore((s) => s.spec.dataset);
  return useMemo(() => inferShapes({ encoder, decoder }, DATASET_INFO[dataset].shape), [encoder, decoder, dataset]);
}

export function useSettingErrors(): ReturnType<typeof checkSettings> {
  const spec = useAppStore((s) => s.spec);
  return useMemo(() => checkSettings(spec), [spec]);
}

export function useMemoryEstimate(): MemoryEstimate {
  const report = useShapeReport();
  const batchSize = useAppStore((s) => s.spec.batchSize);
  const optimizer = useAppStore((s) => s.spec.optimizer);
  return useMemo(() => estimateMemory(report, batchSize, optimizer), [report, batchSize, optimizer]);
}
