/**
 * The page's services, started once with the app (main.tsx), not by a panel: recording finished
 * runs in the runs database, and keeping the address bar and local storage in step with the
 * experiment. Whatever panels are mounted, both run.
 */
import { startRunRecorder } from './runs';
import { startShareSync } from './shareSync';
import { useOwnData } from './ownData';

let stopAll: (() => void) | null = null;

/** Starts the services; a second call while they run does nothing. Returns the function that stops them. */
export function startApp(): () => void {
  if (stopAll) return stopAll;
  const stops = [startShareSync(), startRunRecorder()];
  // The own image sets of this browser, registered before any view needs them (a link may name one).
  void useOwnData.getState().load();
  let stopped = false;
  const stop = (): void => {
    if (stopped) return;
    stopped = true;
    for (const s of stops) s();
    if (stopAll === stop) stopAll = null;
  };
  stopAll = stop;
  return stop;
}
