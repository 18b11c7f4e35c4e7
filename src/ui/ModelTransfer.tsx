import { useState } from 'react';
import { hashFor } from '../share/codec';
import { isActive, useAppStore } from '../state/store';
import { MODEL_JSON_NAME, modelJsonText, readModelFiles, WEIGHTS_NAME, type TrainedInfo } from '../train/modelFile';

/** The most a chosen file may weigh (the playground's largest models are far smaller). */
const MAX_IMPORT_BYTES = 512 * 1024 * 1024;

function download(blob: Blob, name: string): void {
  const a = document.createElement('a');
  a.href = URL.createObjectURL(blob);
  a.download = name;
  a.click();
  setTimeout(() => URL.revokeObjectURL(a.href), 1000);
}

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}

/**
 * "Export model" and "Import model" (#18): the trained model in the TensorFlow.js layers format
 * (model.json + model.weights.bin), which any tfjs program loads with tf.loadLayersModel, and back.
 */
export function ModelTransfer() {
  const phase = useAppStore((s) => s.phase);
  const importing = useAppStore((s) => s.importingRun !== null);
  const notice = useAppStore((s) => s.modelNotice);
  const setNotice = useAppStore((s) => s.setModelNotice);
  const exportModel = useAppStore((s) => s.exportModel);
  const importModel = useAppStore((s) => s.importModel);
  const [exporting, setExporting] = useState(false);
  const canExport = (phase === 'paused' || phase === 'done') && !exporting && !importing;
  const canImport = !isActive(phase) && !importing;

  const doExport = async (): Promise<void> => {
    setExporting(true);
    try {
      const model = await exportModel();
      const s = useAppStore.getState();
      const trained: TrainedInfo = s.imported ?? { steps: s.progress?.step ?? 0, epochs: s.testLoss.length, backend: s.backend?.name ?? null };
      const link = `${window.location.origin}${window.location.pathname}${hashFor(model.spec)}`;
      const json = modelJsonText(model, { link, trained, exportedAt: new Date().toISOString() });
      download(new Blob([json], { type: 'application/json' }), MODEL_JSON_NAME);
      download(new Blob([model.weightData], { type: 'application/octet-stream' }), WEIGHTS_NAME);
      setNotice({
        kind: 'info',
        text: `Exported ${MODEL_JSON_NAME} and ${WEIGHTS_NAME} (${plural(model.weightData.byteLength, 'byte')} of weights, trained ${plural(trained.steps, 'step')}): they load in any TensorFlow.js program with tf.loadLayersModel, and here with Import model.`,
      });
    } catch (e) {
      setNotice({ kind: 'error', text: `Export failed: ${e instanceof Error ? e.message : String(e)}` });
    } finally {
      setExporting(false);
    }
  };

  const doImport = async (list: File[]): Promise<void> => {
    const total = list.reduce((a, f) => a + f.size, 0);
    if (total > MAX_IMPORT_BYTES) {
      setNotice({ kind: 'error', text: `These files are too big to be a playground model (${plural(total, 'byte')}). Nothing was changed.` });
      return;
    }
    let files: { name: string; bytes: ArrayBuffer }[];
    try {
      files = await Promise.all(list.map(async (f) => ({ name: f.name, bytes: await f.arrayBuffer() })));
    } catch {
      setNotice({ kind: 'error', text: 'The chosen files could not be read. Nothing was changed.' });
      return;
    }
    const r = readModelFiles(files);
    if (!r.ok) {
      setNotice({ kind: 'error', text: `${r.error}. Nothing was changed.` });
      return;
    }
    importModel(r.model);
    if (r.warnings.length) setNotice({ kind: 'warning', text: `The model's experiment was repaired: ${r.warnings.join('; ')}` });
  };

  return (
    <div className="model-transfer">
      <button type="button" onClick={() => void doExport()} disabled={!canExport} title="The trained model in the TensorFlow.js layers format (model.json + model.weights.bin)">
        {exporting ? 'Exporting…' : 'Export model'}
      </button>
      <label className={`file-button${canImport ? '' : ' disabled'}`} title={`Choose ${MODEL_JSON_NAME} and ${WEIGHTS_NAME} together`}>
        {importing ? 'Importing…' : 'Import model'}
        <input
          className="sr-only"
          type="file"
          multiple
          accept=".json,.bin,application/json,application/octet-stream"
          aria-label="Import model"
          disabled={!canImport}
          onChange={(e) => {
            const list = Array.from(e.target.files ?? []);
            e.target.value = '';
            if (list.length) void doImport(list);
          }}
        />
      </label>
      {notice && (
        <div className={notice.kind === 'error' ? 'alert' : notice.kind === 'warning' ? 'warning' : 'info'} role={notice.kind === 'info' ? 'status' : 'alert'}>
          <span>{notice.text}</span>
          <button type="button" aria-label="Dismiss model notice" onClick={() => setNotice(null)}>
            ✕
          </button>
        </div>
      )}
    </div>
  );
}
