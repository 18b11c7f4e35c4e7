import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { App } from './ui/App';
import { ErrorBoundary } from './ui/ErrorBoundary';
import './ui/styles.css';
import { startApp } from './state/startApp';
import { installTestHooks } from './installTestHooks';
import { browserIsolationHost, COI_WORKER_FILE, isolateThroughServiceWorker } from './crossOriginIsolation';

// On a host without COOP/COEP, a service worker adds them and the page reloads once (WASM threads);
// nothing starts before that, so the reload loses nothing (the link is still in the address bar).
const isolation = await isolateThroughServiceWorker(browserIsolationHost(), `${import.meta.env.BASE_URL}${COI_WORKER_FILE}`);
if (isolation !== 'reloading') start();

function start(): void {
  installTestHooks();
  // The link or stored design is applied, and finished runs are recorded, before and whatever the UI renders.
  startApp();

  const root = document.getElementById('root');
  if (root) {
    createRoot(root).render(
      <StrictMode>
        <ErrorBoundary>
          <App />
        </ErrorBoundary>
      </StrictMode>,
    );
  }
}
