import { useMemo, useState, type ReactNode } from 'react';
import { DATASET_INFO, datasetInfo, datasetLabel, trainCount } from '../data/catalogue';
import { DATASETS, isBuiltinDataset, type DatasetId } from '../model/spec';
import { datasetOptionLabel } from '../model/settings';
import { ownSetInfo } from '../storage/imagesDb';
import { useOwnData } from '../state/ownData';
import { OwnImages } from './OwnImages';
import { downloadDatasetNpz } from './downloadData';
import { PRESETS, findPreset, presetOfSpec } from '../model/presets';
import { SETTINGS, SETTING_LIST, settingApplies, type NumberSettingDef, type SelectSettingDef, type SettingDef } from '../model/settings';
import type { VariantId } from '../model/spec';
import { useAppStore } from '../state/store';
import { useExperimentCheck } from './useExperimentCheck';

/** A number setting: its label, range and step from the settings table, its error from checkExperiment. */
function NumberField({ def }: { def: NumberSettingDef }) {
  const value = useAppStore((s) => s.spec[def.key]);
  const setSpec = useAppStore((s) => s.setSpec);
  const error = useExperimentCheck().settingErrors[def.key];
  const id = `setting-${def.key}`;
  return (
    <div className="setting">
      <label htmlFor={id} title={def.help}>
        {def.label}
      </label>
      <input
        id={id}
        type="number"
        step={def.step}
        min={def.min}
        max={def.max}
        value={Number.isNaN(value) ? '' : value}
        aria-invalid={error ? true : undefined}
        aria-describedby={error ? `${id}-error` : undefined}
        onChange={(e) => setSpec({ [def.key]: e.target.value === '' ? Number.NaN : Number(e.target.value) })}
      />
      {error && (
        <span className="field-error" id={`${id}-error`} role="alert">
          {error}
        </span>
      )}
    </div>
  );
}

/** A setting with options: the option labels from the settings table. */
function SelectField({ def, children }: { def: SelectSettingDef; children?: ReactNode }) {
  const value = useAppStore((s) => s.spec[def.key]);
  const setSpec = useAppStore((s) => s.setSpec);
  const error = useExperimentCheck().settingErrors[def.key];
  const id = `setting-${def.key}`;
  const choose = (raw: string): void => {
    // Only a value the table lists reaches the spec.
    const option = def.options.find((o) => o.value === raw);
    if (option) setSpec({ [def.key]: option.value });
  };
  return (
    <div className="setting">
      <label htmlFor={id} title={def.help}>
        {def.label}
      </label>
      <select
        id={id}
        value={value}
        aria-invalid={error ? true : undefined}
        aria-describedby={error ? `${id}-error` : undefined}
        onChange={(e) => choose(e.target.value)}
      >
        {def.options.map((o) => (
          <option key={o.value} value={o.value}>
            {o.label}
          </option>
        ))}
      </select>
      {error && (
        <span className="field-error" id={`${id}-error`} role="alert">
          {error}
        </span>
      )}
      {children}
    </div>
  );
}

function SettingField({ def }: { def: SettingDef }) {
  return def.type === 'select' ? <SelectField def={def} /> : <NumberField def={def} />;
}

/**
 * The "Preset" field: loads a preset, then names the preset the experiment is (also when a link or the
 * stored design equals one) with its "what to look for"; once edited, it says so.
 */
function PresetField() {
  const spec = useAppStore((s) => s.spec);
  const loadPreset = useAppStore((s) => s.loadPreset);
  const [lastLoaded, setLastLoaded] = useState<string | null>(null);
  const current = useMemo(() => presetOfSpec(spec), [spec]);
  const modified = current ? null : lastLoaded ? findPreset(lastLoaded) : undefined;
  return (
    <div className="setting preset-setting">
      <label htmlFor="setting-preset">Preset</label>
      <select
        id="setting-preset"
        value={current?.id ?? ''}
        aria-describedby={current || modified ? 'preset-note' : undefined}
        onChange={(e) => {
          if (!e.target.value) return;
          setLastLoaded(e.target.value);
          loadPreset(e.target.value);
        }}
      >
        <option value="">{modified ? `${modified.label} (modified)` : 'Load a preset…'}</option>
        {PRESETS.map((p) => (
          <option key={p.id} value={p.id} title={p.description}>
            {p.label}
          </option>
        ))}
      </select>
      {current && (
        <div className="preset-note" id="preset-note" data-testid="preset-note">
          <strong>{current.label}</strong>
          <span className="preset-desc">{current.description}</span>
          <span className="preset-look">
            <strong>What to look for:</strong> {current.lookFor}
          </span>
        </div>
      )}
      {modified && (
        <p className="preset-note modified" id="preset-note" data-testid="preset-note">
          <strong>{modified.label}</strong>: modified since loading (load it again to go back).
        </p>
      )}
    </div>
  );
}

/** What each variant does, in a sentence, under the Variant field. */
const VARIANT_EXPLAINED: Record<VariantId, string> = {
  plain: 'The layers as drawn: the output learns to copy the input through the code.',
  denoising: 'The input is corrupted while the target stays clean: the model must learn what a clean image looks like.',
  sparse: 'The code pays for every non-zero value (L1), and may be dropped or jittered while training: few units stay active per image.',
  vae: 'The encoder gives a mean and a variance per code value; the code is sampled, and a KL term pulls the codes towards N(0, 1), so Generate can decode new samples.',
  rankOrdered: 'The code is clipped to [0, 1] and ranked: training keeps only each image’s r strongest units, so the first few must do most of the work.',
};

/** The autoencoder family (#16): the Variant field and the fields of the chosen variant. */
function VariantSettings() {
  const variant = useAppStore((s) => s.spec.variant);
  return (
    <fieldset className="variant-settings" data-testid="variant-settings">
      <legend>Autoencoder variant</legend>
      <SelectField def={SETTINGS.variant}>
        <span className="hint variant-hint">{VARIANT_EXPLAINED[variant]}</span>
      </SelectField>
      <div className="setting-grid">
        {SETTING_LIST.filter((def) => def.variants !== undefined && settingApplies(def, variant)).map((def) => (
          <SettingField key={def.key} def={def} />
        ))}
      </div>
    </fieldset>
  );
}

/**
 * The "Data set" field (#17): the built-in sets, then the own image sets of this browser; an own set named
 * by a link but not stored here stays selected, with the check's message and buttons for the built-in sets.
 */
function DatasetField() {
  const dataset = useAppStore((s) => s.spec.dataset);
  const setSpec = useAppStore((s) => s.setSpec);
  const ownSets = useOwnData((s) => s.sets);
  const error = useExperimentCheck().settingErrors.dataset;
  const info = datasetInfo(dataset);
  const own = ownSets.map(ownSetInfo);
  const [downloadError, setDownloadError] = useState<string | null>(null);
  const id = 'setting-dataset';
  const choose = (raw: string): void => {
    if (isBuiltinDataset(raw) || own.some((o) => o.id === raw)) setSpec({ dataset: raw as DatasetId });
  };
  return (
    <div className="setting">
      <label htmlFor={id} title={SETTINGS.dataset.help}>
        {SETTINGS.dataset.label}
      </label>
      <select id={id} value={dataset} aria-invalid={error ? true : undefined} aria-describedby={error ? `${id}-error` : undefined} onChange={(e) => choose(e.target.value)}>
        <optgroup label="Built in">
          {SETTINGS.dataset.options.map((o) => (
            <option key={o.value} value={o.value}>
              {o.label}
            </option>
          ))}
        </optgroup>
        {(own.length > 0 || !info) && (
          <optgroup label="Your images (this browser)">
            {own.map((o) => (
              <option key={o.id} value={o.id}>
                {datasetOptionLabel(o)}
              </option>
            ))}
            {!info && <option value={dataset}>{dataset.replace(/^own:/, '')} (not in this browser)</option>}
          </optgroup>
        )}
      </select>
      {error && (
        <span className="field-error" id={`${id}-error`} role="alert" data-testid="dataset-missing">
          {error}
          <span className="missing-choices">
            {DATASETS.map((d) => (
              <button key={d} type="button" className="small" onClick={() => setSpec({ dataset: d })}>
                Use {DATASET_INFO[d].label}
              </button>
            ))}
          </span>
        </span>
      )}
      {info && (
        <span className="hint">
          {trainCount(dataset).toLocaleString('en-US')} train / {info.testCount.toLocaleString('en-US')} test, fixed split
          {info.shape[2] === 3 ? ` · ${info.shape[0]}×${info.shape[1]} RGB` : info.shape[0] !== 28 ? ` · ${info.shape[0]}×${info.shape[1]} grey` : ''}
          {info.kind !== 'asset' && (
            <>
              {' · '}
              <button
                type="button"
                className="link-button"
                title="The train and test images with their labels as NumPy arrays, for the exported PyTorch and Keras scripts (--data FILE.npz)"
                onClick={() => {
                  setDownloadError(null);
                  downloadDatasetNpz(dataset).catch((e: unknown) => setDownloadError(e instanceof Error ? e.message : String(e)));
                }}
              >
                Download images (.npz)
              </button>
            </>
          )}
        </span>
      )}
      {downloadError && (
        <span className="field-error" role="alert">
          Could not save the images: {downloadError}
        </span>
      )}
    </div>
  );
}

export function SettingsPanel() {
  const dataset = useAppStore((s) => s.spec.dataset);
  const trainSize = useAppStore((s) => s.spec.trainSize);
  const available = trainCount(dataset);
  return (
    <section className="panel settings" aria-label="Settings">
      <h2>Experiment</h2>
      <PresetField />
      <DatasetField />
      <OwnImages />
      {available > 0 && trainSize > available && (
        <p className="hint">
          {SETTINGS.trainSize.label}: {datasetLabel(dataset)} has {available.toLocaleString('en-US')} in its train split; all of them are used.
        </p>
      )}
      <div className="setting-grid">
        {SETTING_LIST.filter((def) => def.key !== 'dataset' && def.key !== 'variant' && def.variants === undefined).map((def) => (
          <SettingField key={def.key} def={def} />
        ))}
      </div>
      <VariantSettings />
    </section>
  );
}
