import { experimentCheckOf, type ExperimentCheck } from '../model/checkExperiment';
import { useAppStore } from '../state/store';

/** checkExperiment on the spec on screen (computed once per spec object): what the store's train() will decide. */
export function useExperimentCheck(): ExperimentCheck {
  return experimentCheckOf(useAppStore((s) => s.spec));
}
