import { useEffect, useRef, useState } from 'react';

/**
 * The value, updated at most once per `ms`: for views that are costly to redraw (the SVG loss chart)
 * while training sends updates several times a second. The last value always arrives.
 */
export function useThrottled<T>(value: T, ms: number): T {
  const [shown, setShown] = useState(value);
  const last = useRef(0);
  useEffect(() => {
    const wait = Math.max(0, last.current + ms - performance.now());
    const timer = setTimeout(() => {
      last.current = performance.now();
      setShown(value);
    }, wait);
    return () => clearTimeout(timer);
  }, [value, ms]);
  return shown;
}
