import { DATASET_INFO, trainCount } from '../data/catalogue';
import { SETTING_LIMITS } from '../model/inferShapes';
import { PRESETS } from '../model/presets';
import { BACKEND_CHOICES, BACKEND_LABELS, DATASETS, LOSSES, OPTIMIZERS, type ExperimentSpec } from '../model/spec';
import { useAppStore } from '../state/store';
import { useSettingErrors } from './useShapeReport';

const LOSS_LABEL = { mse: 'Mean squared error', bce: 'Binary cross-entropy' } as const;
const OPT_LABEL = { adam: 'Adam', sgd: 'SGD with momentum 0.9', rmsprop: 'RMSprop' } as const;

type NumKey = 'learningRate' | 'batchSize' | 'epochs' | 'seed' | 'trainSize';

function NumberField({ k, label, step }: { k: NumKey; label: string; step: number | 'any' }) {
  const value = useAppStore((s) => s.spec[k]);
  const setSpec = useAppStore((s) => s.setSpec);
  const errors = useSettingErrors();
  const error = errors[k];
  const id = `setting-${k}`;
  return (
    <div className="setting">
      <label htmlFor={id}>{label}</label>
      <input
        id={id}
        type="number"
        step={step}
        min={SETTING_LIMITS[k].min}
        max={SETTING_LIMITS[k].max}
        value={Number.isNaN(value) ? '' : value}
        aria-invalid={error ? true : undefined}
        aria-describedby={error ? `${id}-error` : undefined}
        onChange={(e) => setSpec({ [k]: e.target.value === '' ? Number.NaN : Number(e.target.value) } as Partial<ExperimentSpec>)}
      />
      {error && (
        <span className="field-error" id={`${id}-error`} role="alert">
          {error}
        </span>
      )}
    </div>
  );
}

export function SettingsPanel() {
  const spec = useAppStore((s) => s.spec);
  const setSpec = useAppStore((s) => s.setSpec);
  const loadPreset = useAppStore((s) => s.loadPreset);
  return (
    <section className="panel settings" aria-label="Settings">
      <h2>Experiment</h2>
      <div className="setting">
        <label htmlFor="setting-preset">Preset</label>
        <select id="setting-preset" value="" onChange={(e) => e.target.value && loadPreset(e.target.value)}>
          <option value="">Load a preset…</option>
          {PRESETS.map((p) => (
            <option key={p.id} value={p.id} title={p.description}>
              {p.label}
            </option>
          ))}
        </select>
      </div>
      <div className="setting">
        <label htmlFor="setting-dataset">Data set</label>
        <select id="setting-dataset" value={spec.dataset} onChange={(e) => setSpec({ dataset: e.target.value as ExperimentSpec['dataset'] })}>
          {DATASETS.map((d) => (
            <option key={d} value={d}>
              {DATASET_INFO[d].label} ({DATASET_INFO[d].count.toLocaleString('en-US')})
            </option>
          ))}
        </select>
        <span className="hint">
          {trainCount(spec.dataset).toLocaleString('en-US')} train / {DATASET_INFO[spec.dataset].testCount.toLocaleString('en-US')} test, fixed split
        </span>
      </div>
      {spec.trainSize > trainCount(spec.dataset) && (
        <p className="hint">
          Training images: {spec.dataset === 'mnist' ? 'MNIST' : 'Fashion-MNIST'} has {trainCount(spec.dataset).toLocaleString('en-US')} in its train split; all of them are used.
        </p>
      )}
      <div className="setting-grid">
        <div className="setting">
          <label htmlFor="setting-loss">Loss</label>
          <select id="setting-loss" value={spec.loss} onChange={(e) => setSpec({ loss: e.target.value as ExperimentSpec['loss'] })}>
            {LOSSES.map((l) => (
              <option key={l} value={l}>
                {LOSS_LABEL[l]}
              </option>
            ))}
          </select>
        </div>
        <div className="setting">
          <label htmlFor="setting-optimizer">Optimizer</label>
          <select id="setting-optimizer" value={spec.optimizer} onChange={(e) => setSpec({ optimizer: e.target.value as ExperimentSpec['optimizer'] })}>
            {OPTIMIZERS.map((o) => (
              <option key={o} value={o}>
                {OPT_LABEL[o]}
              </option>
            ))}
          </select>
        </div>
        <NumberField k="learningRate" label="Learning rate" step="any" />
        <NumberField k="batchSize" label="Batch size" step={1} />
        <NumberField k="epochs" label="Epochs" step={1} />
        <NumberField k="seed" label="Seed" step={1} />
        <NumberField k="trainSize" label="Training images" step={1} />
        <div className="setting">
          <label htmlFor="setting-backend">Backend</label>
          <select id="setting-backend" value={spec.backend} onChange={(e) => setSpec({ backend: e.target.value as ExperimentSpec['backend'] })}>
            {BACKEND_CHOICES.map((b) => (
              <option key={b} value={b}>
                {BACKEND_LABELS[b]}
              </option>
            ))}
          </select>
        </div>
      </div>
    </section>
  );
}
