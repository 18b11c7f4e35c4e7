import { useEffect, useRef } from 'react';
import type { LayerInfo } from '../model/inferShapes';
import { layerHelp } from '../model/layerHelp';
import { formatShape } from '../model/spec';

interface Props {
  id: string;
  info: LayerInfo;
  /** "Encoder layer 1", as the row names it. */
  prefix: string;
  onClose: () => void;
  /** Conv and transposed-conv rows: open the convolution illustration with this layer's settings. */
  onIllustrate?: () => void;
}

/** The help of one layer row (issue #15): what it computes, its shape rule and its parameter count with its own numbers. */
export function LayerHelpPanel({ id, info, prefix, onClose, onIllustrate }: Props) {
  const ref = useRef<HTMLDivElement>(null);
  useEffect(() => {
    ref.current?.focus();
  }, []);
  const h = layerHelp(info.layer, info.inputShape);
  const titleId = `${id}-title`;
  return (
    <div
      ref={ref}
      id={id}
      className="layer-help"
      data-testid="layer-help"
      role="dialog"
      aria-labelledby={titleId}
      tabIndex={-1}
      onKeyDown={(e) => {
        if (e.key === 'Escape') {
          e.stopPropagation();
          e.preventDefault();
          onClose();
        }
      }}
    >
      <div className="layer-help-head">
        <h4 id={titleId}>
          {prefix}: {h.title}
        </h4>
        <button type="button" aria-label="Close help" onClick={onClose}>
          ✕
        </button>
      </div>
      <p className="layer-help-what">{h.what}</p>
      <h5>Output shape</h5>
      <p className="layer-help-rule">{h.shapeRule}</p>
      {h.shapeWorked.length > 0 ? (
        <ul className="layer-help-worked" data-testid="help-shape">
          {h.shapeWorked.map((line) => (
            <li key={line}>{line}</li>
          ))}
        </ul>
      ) : (
        <p className="muted">This layer&apos;s numbers appear once its input shape is known (fix the layers above it).</p>
      )}
      {info.inputShape && (
        <p className="layer-help-io">
          {formatShape(info.inputShape)} → <strong>{h.outputShape ? formatShape(h.outputShape) : 'does not fit'}</strong>
        </p>
      )}
      <h5>Parameters</h5>
      <p className="layer-help-rule">{h.paramRule}</p>
      {h.paramWorked !== null && (
        <p className="layer-help-worked" data-testid="help-params">
          {h.paramWorked}
        </p>
      )}
      {onIllustrate && (
        <button type="button" onClick={onIllustrate}>
          Show this layer in the convolution illustration
        </button>
      )}
      <p className="hint">Escape closes this help.</p>
    </div>
  );
}
