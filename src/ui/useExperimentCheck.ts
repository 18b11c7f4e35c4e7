import { checkExperiment, type ExperimentCheck } from '../model/checkExperiment';
import type { ExperimentSpec } from '../model/spec';
import { useAppStore } from '../state/store';

/** One verdict per spec object, shared by every component that shows it (the store replaces the spec on each edit). */
const verdicts = new WeakMap<ExperimentSpec, ExperimentCheck>();

/** checkExperiment on the spec on screen: what the store's train() will decide. */
export function useExperimentCheck(): ExperimentCheck {
  const spec = useAppStore((s) => s.spec);
  let check = verdicts.get(spec);
  if (!check) {
    check = checkExperiment(spec);
    verdicts.set(spec, check);
  }
  return check;
}
