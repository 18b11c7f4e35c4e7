import { useCallback, useState } from 'react';
import { useAppStore } from '../state/store';
import { AnalysisPanel } from './AnalysisPanel';
import { ArchitectureEditor } from './ArchitectureEditor';
import { CodeView } from './CodeView';
import { GeneratePanel } from './FamilyViews';
import { Diagnostics } from './Diagnostics';
import { ExportCode } from './ExportCode';
import { FeatureMaps } from './FeatureMaps';
import { LatentExplorer } from './LatentExplorer';
import { LossChart } from './LossChart';
import { ModelTransfer } from './ModelTransfer';
import { ShortcutsDialog, ViewControls } from './PresenterControls';
import { PresenterView } from './PresenterView';
import { ReconstructionGrid } from './ReconstructionGrid';
import { RunsPanel } from './RunsPanel';
import { SettingsPanel } from './SettingsPanel';
import { ShareBar } from './ShareBar';
import { TrainingPanel } from './TrainingPanel';
import { useShortcuts } from './useShortcuts';

export function App() {
  const presenter = useAppStore((s) => s.presenter);
  const [helpOpen, setHelpOpen] = useState(false);
  const openHelp = useCallback(() => setHelpOpen(true), []);
  const closeHelp = useCallback(() => setHelpOpen(false), []);
  useShortcuts(openHelp);
  const dialog = <ShortcutsDialog open={helpOpen} onClose={closeHelp} />;
  if (presenter) {
    return (
      <div className="app presenter" data-testid="presenter">
        <PresenterView openHelp={openHelp} />
        {dialog}
      </div>
    );
  }
  return (
    <div className="app">
      <header className="app-header">
        <h1>
          Autoencoder <span>Playground</span>
        </h1>
        <p className="tagline">Design an encoder and a decoder, train them in your browser, watch the code form.</p>
        <ShareBar />
        <ModelTransfer />
        <ExportCode />
        <ViewControls openHelp={openHelp} />
      </header>
      <main className="layout">
        <section className="panel arch-panel" aria-label="Architecture">
          <h2>Architecture</h2>
          <ArchitectureEditor />
        </section>
        <div className="right">
          <div className="top-row">
            <SettingsPanel />
            <TrainingPanel />
          </div>
          <LossChart />
          <ReconstructionGrid />
          <CodeView />
          <GeneratePanel />
          <LatentExplorer />
          <FeatureMaps />
          <AnalysisPanel />
          <RunsPanel />
          <Diagnostics />
        </div>
      </main>
      {dialog}
    </div>
  );
}
