import { useEffect, useRef, useState } from 'react';

/**
 * The value, updated at most once per `ms`: for views that are costly to redraw (the SVG loss chart)
 * while training sends updates several times a second. The last value always arrives — unless
 * `frozen`: then the shown value changes only when `flushKey` does (live views off: once an epoch).
 */
export function useThrottled<T>(value: T, ms: number, frozen = false, flushKey: unknown = null): T {
  const [shown, setShown] = useState(value);
  const last = useRef(0);
  const flushed = useRef(flushKey);
  useEffect(() => {
    if (frozen && flushKey === flushed.current) return;
    flushed.current = flushKey;
    const wait = Math.max(0, last.current + ms - performance.now());
    const timer = setTimeout(() => {
      last.current = performance.now();
      setShown(value);
    }, wait);
    return () => clearTimeout(timer);
  }, [value, ms, frozen, flushKey]);
  return shown;
}
