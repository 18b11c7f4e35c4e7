import { useRef, useState } from 'react';
import { LAYER_KIND_LIST, LAYER_KINDS, layerDef, type FieldDef } from '../model/catalogue';
import { bottleneckSummary, type LayerInfo, type ShapeReport, type Stack } from '../model/inferShapes';
import { formatShape, shapeSize, type LayerKind, type LayerSpec } from '../model/spec';
import { useAppStore } from '../state/store';
import { useExperimentCheck } from './useExperimentCheck';
import { formatBytes } from '../model/memory';
import { settingsFromLayer, type IllustrationSettings } from '../model/convIllustration';
import { LayerHelpPanel } from './LayerHelp';
import { ConvIllustration, type IllustrationSource } from './ConvIllustration';

/** Opens the convolution illustration with a conv or transposed-conv row's settings. */
type Illustrate = (info: LayerInfo) => void;

const STACK_LABEL: Record<Stack, string> = { encoder: 'Encoder', decoder: 'Decoder' };

function parseShape(text: string): number[] {
  return text
    .split(/[×x*,\s]+/)
    .filter((t) => t.length > 0)
    .map((t) => (/^\d+$/.test(t) ? Number(t) : Number.NaN));
}

function ShapeInput({ value, label, onChange }: { value: number[]; label: string; onChange: (v: number[]) => void }) {
  const [text, setText] = useState(formatShape(value));
  // Follow outside changes (a preset, a link) without clobbering what is being typed.
  if (formatShape(parseShape(text)) !== formatShape(value) && !parseShape(text).some(Number.isNaN)) {
    setText(formatShape(value));
  }
  return (
    <input
      className="field-input shape-input"
      aria-label={label}
      value={text}
      spellCheck={false}
      onChange={(e) => {
        setText(e.target.value);
        onChange(parseShape(e.target.value));
      }}
    />
  );
}

function FieldControl({ field, layer, prefix, onChange }: { field: FieldDef; layer: LayerSpec; prefix: string; onChange: (l: LayerSpec) => void }) {
  const record = layer as unknown as Record<string, unknown>;
  const value = record[field.key];
  const label = `${prefix} ${field.label.toLowerCase()}`;
  const update = (v: unknown): void => onChange({ ...layer, [field.key]: v } as LayerSpec);
  if (field.type === 'select') {
    return (
      <label className="field">
        <span className="field-label">{field.label}</span>
        <select className="field-input" aria-label={label} value={String(value)} onChange={(e) => update(e.target.value)}>
          {field.options.map((o) => (
            <option key={o} value={o}>
              {o}
            </option>
          ))}
        </select>
      </label>
    );
  }
  if (field.type === 'shape') {
    return (
      <label className="field">
        <span className="field-label">{field.label}</span>
        <ShapeInput value={Array.isArray(value) ? (value as number[]) : []} label={label} onChange={update} />
      </label>
    );
  }
  const num = typeof value === 'number' ? value : Number.NaN;
  return (
    <label className="field">
      <span className="field-label">{field.label}</span>
      <input
        className="field-input num"
        type="number"
        aria-label={label}
        min={field.min}
        max={field.max}
        step={field.type === 'float' ? field.step : 1}
        value={Number.isNaN(num) ? '' : num}
        onChange={(e) => update(e.target.value === '' ? Number.NaN : Number(e.target.value))}
      />
    </label>
  );
}

function LayerRow({ info, count, onIllustrate }: { info: LayerInfo; count: number; onIllustrate: Illustrate }) {
  const [helpOpen, setHelpOpen] = useState(false);
  const helpButton = useRef<HTMLButtonElement>(null);
  const closeHelp = (): void => {
    setHelpOpen(false);
    helpButton.current?.focus();
  };
  const isConv = info.layer.kind === 'conv2d' || info.layer.kind === 'conv2dTranspose';
  const helpId = `help-${info.stack}-${info.index}`;
  const updateLayer = useAppStore((s) => s.updateLayer);
  const removeLayer = useAppStore((s) => s.removeLayer);
  const moveLayer = useAppStore((s) => s.moveLayer);
  const def = layerDef(info.layer.kind);
  const prefix = `${STACK_LABEL[info.stack]} layer ${info.index + 1}`;
  const errorId = `err-${info.stack}-${info.index}`;
  return (
    <li className={`layer-row${info.error ? ' has-error' : ''}`} data-testid="layer-row" aria-label={`${prefix}: ${def.label}`}>
      <div className="layer-head">
        <span className="layer-index">{info.index + 1}</span>
        <span className="layer-kind" title={def.doc}>
          {def.label}
        </span>
        <span className="layer-shape" data-testid="layer-shape" aria-label={`${prefix} output shape`}>
          {info.outputShape ? formatShape(info.outputShape) : '—'}
        </span>
        <span className="layer-params" data-testid="layer-params" aria-label={`${prefix} parameters`}>
          {info.params}
        </span>
        <span className="layer-actions">
          <button
            type="button"
            ref={helpButton}
            className="help-button"
            aria-label={`Help for ${prefix} (${info.layer.kind})`}
            aria-expanded={helpOpen}
            aria-controls={helpOpen ? helpId : undefined}
            onClick={() => (helpOpen ? closeHelp() : setHelpOpen(true))}
          >
            ?
          </button>
          {isConv && (
            <button type="button" aria-label={`Show ${prefix} in the convolution illustration`} onClick={() => onIllustrate(info)}>
              Show
            </button>
          )}
          <button type="button" aria-label={`Move ${prefix} up`} disabled={info.index === 0} onClick={() => moveLayer(info.stack, info.index, -1)}>
            ↑
          </button>
          <button type="button" aria-label={`Move ${prefix} down`} disabled={info.index === count - 1} onClick={() => moveLayer(info.stack, info.index, 1)}>
            ↓
          </button>
          <button type="button" className="danger" aria-label={`Remove ${prefix}`} onClick={() => removeLayer(info.stack, info.index)}>
            ✕
          </button>
        </span>
      </div>
      {def.fields.length > 0 && (
        <div className="layer-fields">
          {def.fields
            .filter((f) => !(info.layer.kind === 'activation' && f.key === 'alpha' && info.layer.activation !== 'leakyRelu'))
            .map((f) => (
              <FieldControl key={f.key} field={f} layer={info.layer} prefix={prefix} onChange={(l) => updateLayer(info.stack, info.index, l)} />
            ))}
        </div>
      )}
      {helpOpen && <LayerHelpPanel id={helpId} info={info} prefix={prefix} onClose={closeHelp} onIllustrate={isConv ? () => onIllustrate(info) : undefined} />}
      {info.error && (
        <p className="layer-error" id={errorId} role="alert">
          {info.error}
        </p>
      )}
      {info.note && !info.error && <p className="layer-note">{info.note}</p>}
    </li>
  );
}

function AddLayer({ stack }: { stack: Stack }) {
  const addLayer = useAppStore((s) => s.addLayer);
  const [kind, setKind] = useState<LayerKind>(stack === 'encoder' ? 'conv2d' : 'upSampling2d');
  return (
    <div className="add-layer">
      <select aria-label={`${STACK_LABEL[stack]} new layer kind`} value={kind} onChange={(e) => setKind(e.target.value as LayerKind)}>
        {LAYER_KIND_LIST.map((k) => (
          <option key={k} value={k}>
            {LAYER_KINDS[k].label}
          </option>
        ))}
      </select>
      <button type="button" onClick={() => addLayer(stack, kind)}>
        Add to {STACK_LABEL[stack].toLowerCase()}
      </button>
    </div>
  );
}

function StackView({ stack, report, onIllustrate }: { stack: Stack; report: ShapeReport; onIllustrate: Illustrate }) {
  const rows = report.layers.filter((l) => l.stack === stack);
  return (
    <section className="stack" aria-label={STACK_LABEL[stack]}>
      <h3>
        {STACK_LABEL[stack]} <span className="muted">({rows.length} layers)</span>
      </h3>
      <ol className="layer-list">
        {rows.map((info) => (
          <LayerRow key={`${stack}-${info.index}-${info.layer.kind}`} info={info} count={rows.length} onIllustrate={onIllustrate} />
        ))}
      </ol>
      <AddLayer stack={stack} />
    </section>
  );
}

export function BottleneckCard({ report }: { report: ShapeReport }) {
  const b = bottleneckSummary(report);
  return (
    <div className="bottleneck-card" aria-label="Bottleneck">
      <div className="bottleneck-title">Bottleneck (code)</div>
      <div className="bottleneck-value" data-testid="bottleneck">
        {b ? `${formatShape(b.shape)} = ${b.values.toLocaleString('en-US')}` : 'not computable'}
      </div>
      {b && (
        <div className="muted">
          {(b.ratio * 100).toFixed(1)}% of the {formatShape(report.inputShape)} input&apos;s {shapeSize(report.inputShape)} values
        </div>
      )}
    </div>
  );
}

const HAND_SETTINGS: IllustrationSettings = { mode: 'conv', size: 7, kernel: 3, stride: 2, padding: 'same' };

/** A collapsible "How convolution works" section under the editor, with the illustration. */
function IllustrationSection({
  open,
  setOpen,
  shown,
}: {
  open: boolean;
  setOpen: (open: boolean) => void;
  shown: { version: number; settings: IllustrationSettings; source: IllustrationSource | null };
}) {
  return (
    <details className="conv-illus-details" open={open} onToggle={(e) => setOpen(e.currentTarget.open)}>
      <summary>How convolution works</summary>
      {open && <ConvIllustration key={shown.version} initial={shown.settings} source={shown.source} />}
    </details>
  );
}

export function ArchitectureEditor() {
  const { report, memory } = useExperimentCheck();
  const [illusOpen, setIllusOpen] = useState(false);
  const [shown, setShown] = useState<{ version: number; settings: IllustrationSettings; source: IllustrationSource | null }>({
    version: 0,
    settings: HAND_SETTINGS,
    source: null,
  });
  const illusRef = useRef<HTMLDivElement>(null);
  const illustrate: Illustrate = (info) => {
    const l = info.layer;
    if (l.kind !== 'conv2d' && l.kind !== 'conv2dTranspose') return;
    const { settings, exact } = settingsFromLayer(l, info.inputShape && info.inputShape.length === 3 ? info.inputShape[0] : null);
    const name = `${STACK_LABEL[info.stack]} layer ${info.index + 1} (${layerDef(l.kind).label})`;
    const output = info.outputShape ? `${info.outputShape[0]}×${info.outputShape[1]}` : '—';
    setShown((s) => ({ version: s.version + 1, settings, source: { name, output, exact } }));
    setIllusOpen(true);
    // After the section has rendered: bring it into view and move focus there (keyboard users land on it).
    requestAnimationFrame(() => {
      const el = illusRef.current?.querySelector<HTMLElement>('summary');
      const reduce = window.matchMedia('(prefers-reduced-motion: reduce)').matches;
      illusRef.current?.scrollIntoView({ behavior: reduce ? 'auto' : 'smooth', block: 'start' });
      el?.focus({ preventScroll: true });
    });
  };
  return (
    <div className="architecture">
      <div className="io-row">
        <span>Input</span>
        <span className="layer-shape">{formatShape(report.inputShape)}</span>
      </div>
      <StackView stack="encoder" report={report} onIllustrate={illustrate} />
      <BottleneckCard report={report} />
      <StackView stack="decoder" report={report} onIllustrate={illustrate} />
      <div className="io-row">
        <span>Output</span>
        <span className="layer-shape">{report.outputShape ? formatShape(report.outputShape) : '—'}</span>
        <span className="muted">
          {report.totalParams.toLocaleString('en-US')} parameters · ~{formatBytes(memory.totalBytes)} to train
        </span>
      </div>
      <div ref={illusRef}>
        <IllustrationSection open={illusOpen} setOpen={setIllusOpen} shown={shown} />
      </div>
    </div>
  );
}
