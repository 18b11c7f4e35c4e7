import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { App } from './ui/App';
import { ErrorBoundary } from './ui/ErrorBoundary';
import './ui/styles.css';
import { startApp } from './state/startApp';
import { installTestHooks } from './installTestHooks';

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
