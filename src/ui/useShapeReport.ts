import { useMemo } from 'react';
import { DATASET_INFO } from '../data/catalogue';
import { checkSettings, inferShapes, type ShapeReport } from '../model/inferShapes';
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
