import { useState } from 'react';
import { LAYER_KIND_LIST, LAYER_KINDS, layerDef, type FieldDef } from '../model/catalogue';
import { bottleneckSummary, type LayerInfo, type ShapeReport, type Stack } from '../model/inferShapes';
import { formatShape, shapeSize, type LayerKind, type LayerSpec } from '../model/spec';
import { useAppStore } from '../state/store';
import { useExperimentCheck } from './useExperimentCheck';
import { formatBytes } from '../model/memory';

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

function LayerRow({ info, count }: { info: LayerInfo; count: number }) {
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
      {info.error && (
        <p className="layer-error" id={errorId} role="alert">
          {info.error}
        </p>
      )}
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

function StackView({ stack, report }: { stack: Stack; report: ShapeReport }) {
  const rows = report.layers.filter((l) => l.stack === stack);
  return (
    <section className="stack" aria-label={STACK_LABEL[stack]}>
      <h3>
        {STACK_LABEL[stack]} <span className="muted">({rows.length} layers)</span>
      </h3>
      <ol className="layer-list">
        {rows.map((info) => (
          <LayerRow key={`${stack}-${info.index}-${info.layer.kind}`} info={info} count={rows.length} />
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

export function ArchitectureEditor() {
  const { report, memory } = useExperimentCheck();
  return (
    <div className="architecture">
      <div className="io-row">
        <span>Input</span>
        <span className="layer-shape">{formatShape(report.inputShape)}</span>
      </div>
      <StackView stack="encoder" report={report} />
      <BottleneckCard report={report} />
      <StackView stack="decoder" report={report} />
      <div className="io-row">
        <span>Output</span>
        <span className="layer-shape">{report.outputShape ? formatShape(report.outputShape) : '—'}</span>
        <span className="muted">
          {report.totalParams.toLocaleString('en-US')} parameters · ~{formatBytes(memory.totalBytes)} to train
        </span>
      </div>
    </div>
  );
}
