import { useEffect, useMemo, useState } from 'react';
import {
  ILLUSTRATION_LIMITS,
  illustrate,
  outputCoverage,
  type Cell,
  type Illustration,
  type IllustrationFrame,
  type IllustrationMode,
  type IllustrationSettings,
} from '../model/convIllustration';
import { PADDINGS, type Padding } from '../model/spec';

const PLAY_MS = 700;
const MODE_LABEL: Record<IllustrationMode, string> = { conv: 'Convolution', transposed: 'Transposed convolution' };

export interface IllustrationSource {
  /** "Decoder layer 1 (Conv2D transpose)". */
  name: string;
  /** The layer's output height × width in the layer table, e.g. "14×14". */
  output: string;
  /** Whether the fields are exactly the layer's (its input fits the grid). */
  exact: boolean;
}

function prefersReducedMotion(): boolean {
  return typeof window !== 'undefined' && typeof window.matchMedia === 'function' && window.matchMedia('(prefers-reduced-motion: reduce)').matches;
}

/** One cell size for both grids (so the output's size against the input's shows), fitting both side by side in ~480 px. */
const cellSize = (inCells: number, outCells: number): number => Math.max(16, Math.min(40, Math.floor(480 / Math.max(1, inCells + outCells))));

interface GridProps {
  label: string;
  testId: string;
  /** Real cells 0..size-1; extra cells before/after (padding or cropped) drawn dashed. */
  size: number;
  before: number;
  after: number;
  extraKind: 'padding' | 'cropped';
  px: number;
  highlight: Set<string>;
  active: Cell | null;
  /** Per real cell (row-major): a number to show (stamp counts) or 0/1 filled flags. */
  values: number[] | null;
  showCounts: boolean;
}

const key = (r: number, c: number): string => `${r},${c}`;

function Grid({ label, testId, size, before, after, extraKind, px, highlight, active, values, showCounts }: GridProps) {
  const shown = size + before + after;
  const cells = [];
  for (let r = -before; r < size + after; r++) {
    for (let c = -before; c < size + after; c++) {
      const real = r >= 0 && r < size && c >= 0 && c < size;
      const hit = highlight.has(key(r, c));
      const isActive = active !== null && active.row === r && active.col === c;
      const v = real && values ? values[r * size + c] : 0;
      const cls = ['illus-cell', real ? 'real' : extraKind, hit ? 'hit' : '', isActive ? 'active' : '', v > 0 ? 'filled' : ''].filter(Boolean).join(' ');
      cells.push(
        <div key={key(r, c)} className={cls} data-testid={real ? `${testId}-cell` : undefined} data-filled={real && v > 0 ? 'true' : undefined}>
          {!real && extraKind === 'padding' ? '0' : real && showCounts && v > 0 ? v : ''}
        </div>,
      );
    }
  }
  return (
    <div
      className="illus-grid"
      data-testid={testId}
      role="img"
      aria-label={label}
      style={{ gridTemplateColumns: `repeat(${shown}, ${px}px)`, gridAutoRows: `${px}px`, fontSize: `${Math.max(12, Math.round(px * 0.5))}px` }}
    >
      {cells}
    </div>
  );
}

const range = (cells: Cell[], axis: 'row' | 'col'): string => {
  const v = cells.map((c) => c[axis]);
  return `${Math.min(...v)}–${Math.max(...v)}`;
};

function describeFrame(ill: Illustration, f: IllustrationFrame): string {
  if (ill.settings.mode === 'conv') {
    const pad = f.window.some((w) => w.row < 0 || w.col < 0 || w.row >= ill.inSize || w.col >= ill.inSize);
    return `Output row ${f.active.row}, column ${f.active.col} = the sum of input rows ${range(f.window, 'row')}, columns ${range(f.window, 'col')}, each times its kernel weight${pad ? ' (cells outside the input are zero padding)' : ''}.`;
  }
  const cropped = f.window.some((w) => w.row < 0 || w.col < 0 || w.row >= ill.outSize || w.col >= ill.outSize);
  return `Input row ${f.active.row}, column ${f.active.col} times the kernel is added onto output rows ${range(f.window, 'row')}, columns ${range(f.window, 'col')}${cropped ? ' (the dashed cells are cropped away by same padding)' : ''}.`;
}

function NumberInput({ label, value, min, max, onChange }: { label: string; value: number; min: number; max: number; onChange: (v: number) => void }) {
  return (
    <label className="illus-field">
      <span>{label}</span>
      <input
        type="number"
        aria-label={`Illustration ${label.toLowerCase()}`}
        min={min}
        max={max}
        step={1}
        value={Number.isNaN(value) ? '' : value}
        onChange={(e) => onChange(e.target.value === '' ? Number.NaN : Number(e.target.value))}
      />
    </label>
  );
}

/**
 * The convolution illustration (issue #15): the kernel moving over a small input, step by step or
 * animated, and the output grid filling; for a transposed convolution, each input cell stamping the
 * kernel onto the output. The output size comes from the same rules as the layer table.
 */
export function ConvIllustration({ initial, source }: { initial: IllustrationSettings; source: IllustrationSource | null }) {
  const [settings, setSettings] = useState<IllustrationSettings>(initial);
  const [step, setStep] = useState(0);
  const [playing, setPlaying] = useState(false);
  const [edited, setEdited] = useState(false);
  const result = useMemo(() => illustrate(settings), [settings]);
  const ill = result.ok ? result.illustration : null;
  const total = ill ? ill.frames.length : 0;

  // Playing stops by itself at the last position.
  const running = playing && step < total;
  useEffect(() => {
    if (!running) return;
    const t = setTimeout(() => setStep((s) => Math.min(total, s + 1)), prefersReducedMotion() ? PLAY_MS * 2 : PLAY_MS);
    return () => clearTimeout(t);
  }, [running, step, total]);

  const change = (patch: Partial<IllustrationSettings>): void => {
    setSettings((s) => ({ ...s, ...patch }));
    setStep(0);
    setPlaying(false);
    setEdited(true);
  };
  const go = (s: number): void => {
    setPlaying(false);
    setStep(Math.max(0, Math.min(total, s)));
  };

  const frame = ill && step > 0 ? ill.frames[step - 1] : null;
  const highlight = useMemo(() => new Set(frame ? frame.window.map((c) => key(c.row, c.col)) : []), [frame]);
  const coverage = useMemo(() => (ill ? outputCoverage(ill, step) : null), [ill, step]);
  const conv = settings.mode === 'conv';
  const px = ill ? cellSize(ill.inSize + (conv ? ill.axis.before + ill.axis.after : 0), ill.outSize + (conv ? 0 : ill.axis.before + ill.axis.after)) : 40;

  return (
    <section className="conv-illus" data-testid="conv-illustration" aria-label="Convolution illustration">
      <p className="illus-source">
        {source && !edited ? (
          <>
            Settings of <strong>{source.name}</strong>
            {source.exact ? '' : `: its input is too large to draw, so the same kernel, stride and padding are shown on a ${settings.size}×${settings.size} input`}.
          </>
        ) : (
          'Set the fields by hand, or press Show on a Conv2D or Conv2D transpose row.'
        )}
      </p>
      <div className="illus-fields">
        <label className="illus-field">
          <span>Mode</span>
          <select aria-label="Illustration mode" value={settings.mode} onChange={(e) => change({ mode: e.target.value === 'transposed' ? 'transposed' : 'conv' })}>
            <option value="conv">{MODE_LABEL.conv}</option>
            <option value="transposed">{MODE_LABEL.transposed}</option>
          </select>
        </label>
        <NumberInput label="Input size" value={settings.size} min={ILLUSTRATION_LIMITS.size.min} max={ILLUSTRATION_LIMITS.size.max} onChange={(v) => change({ size: v })} />
        <NumberInput label="Kernel size" value={settings.kernel} min={ILLUSTRATION_LIMITS.kernel.min} max={ILLUSTRATION_LIMITS.kernel.max} onChange={(v) => change({ kernel: v })} />
        <NumberInput label="Stride" value={settings.stride} min={ILLUSTRATION_LIMITS.stride.min} max={ILLUSTRATION_LIMITS.stride.max} onChange={(v) => change({ stride: v })} />
        <label className="illus-field">
          <span>Padding</span>
          <select aria-label="Illustration padding" value={settings.padding} onChange={(e) => change({ padding: PADDINGS.find((p) => p === e.target.value) ?? ('same' satisfies Padding) })}>
            {PADDINGS.map((p) => (
              <option key={p} value={p}>
                {p}
              </option>
            ))}
          </select>
        </label>
      </div>
      {!ill && (
        <p className="field-error" aria-live="polite">
          {result.ok ? '' : `Cannot draw this: ${result.error}.`}
        </p>
      )}
      {ill && (
        <>
          <p className="illus-rule">
            Output size: <span className="illus-formula">{ill.formula}</span> →{' '}
            <strong data-testid="illus-out-size">
              {ill.outSize}×{ill.outSize}
            </strong>
            {source && !edited && source.exact && <span className="muted"> (the layer table says {source.output})</span>}
          </p>
          <div className="illus-controls">
            <button type="button" onClick={() => go(0)} disabled={step === 0}>
              First
            </button>
            <button type="button" onClick={() => go(step - 1)} disabled={step === 0}>
              Prev
            </button>
            <button
              type="button"
              onClick={() => {
                if (running) setPlaying(false);
                else {
                  if (step >= total) setStep(0);
                  setPlaying(true);
                }
              }}
            >
              {running ? 'Stop' : 'Play'}
            </button>
            <button type="button" onClick={() => go(step + 1)} disabled={step >= total}>
              Next
            </button>
            <button type="button" onClick={() => go(total)} disabled={step >= total}>
              Last
            </button>
            <span className="illus-count" data-testid="illus-position">
              {step} / {total}
            </span>
          </div>
          <p className="illus-explain" aria-live={running ? 'off' : 'polite'}>
            {frame
              ? describeFrame(ill, frame)
              : conv
                ? `A ${settings.kernel}×${settings.kernel} kernel will visit ${total} positions, stride ${settings.stride} apart: press Next or Play.`
                : `Each of the ${total} input cells will stamp the ${settings.kernel}×${settings.kernel} kernel onto the output, stride ${settings.stride} apart: press Next or Play.`}
          </p>
          <div className="illus-grids">
            <figure>
              <figcaption>
                Input {ill.inSize}×{ill.inSize}
                {conv && ill.axis.before + ill.axis.after > 0 ? ` + zero padding (${ill.axis.before} before, ${ill.axis.after} after)` : ''}
              </figcaption>
              <Grid
                label={`Input grid ${ill.inSize} by ${ill.inSize}${frame ? (conv ? `; the kernel covers rows ${range(frame.window, 'row')}, columns ${range(frame.window, 'col')}` : `; stamping row ${frame.active.row}, column ${frame.active.col}`) : ''}`}
                testId="illus-in"
                size={ill.inSize}
                before={conv ? ill.axis.before : 0}
                after={conv ? ill.axis.after : 0}
                extraKind="padding"
                px={px}
                highlight={conv ? highlight : new Set(frame ? [key(frame.active.row, frame.active.col)] : [])}
                active={null}
                values={null}
                showCounts={false}
              />
            </figure>
            <figure>
              <figcaption>
                Output {ill.outSize}×{ill.outSize}
                {!conv && ill.axis.before + ill.axis.after > 0 ? ` (dashed: cropped by same padding)` : ''}
                {!conv ? ': numbers count the stamps that overlap' : ''}
              </figcaption>
              <Grid
                label={`Output grid ${ill.outSize} by ${ill.outSize}, ${coverage ? coverage.filter((v) => v > 0).length : 0} cells filled`}
                testId="illus-out"
                size={ill.outSize}
                before={conv ? 0 : ill.axis.before}
                after={conv ? 0 : ill.axis.after}
                extraKind="cropped"
                px={px}
                highlight={conv ? new Set<string>() : highlight}
                active={conv && frame ? frame.active : null}
                values={coverage}
                showCounts={!conv}
              />
            </figure>
          </div>
        </>
      )}
    </section>
  );
}
