/**
 * Live data: `load` runs now and every `everyMs` while the page is visible; the last good value stays on
 * screen while the next is fetched (no flicker), and an error is shown beside it rather than instead of it.
 */
import { useCallback, useEffect, useRef, useState } from 'react';

export interface Polled<T> {
  readonly data: T | undefined;
  readonly error: Error | undefined;
  /** Fetch again now (after an action). */
  readonly refresh: () => void;
}

export function usePoll<T>(load: () => Promise<T>, deps: readonly unknown[], everyMs = 2000): Polled<T> {
  const [data, setData] = useState<T | undefined>(undefined);
  const [error, setError] = useState<Error | undefined>(undefined);
  const [tick, setTick] = useState(0);
  const loadRef = useRef(load);
  loadRef.current = load;
  const refresh = useCallback(() => setTick((n) => n + 1), []);

  useEffect(() => {
    setData(undefined);
    setError(undefined);
  }, deps);

  useEffect(() => {
    let alive = true;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const run = async () => {
      if (document.visibilityState !== 'hidden') {
        try {
          const value = await loadRef.current();
          if (!alive) return;
          setData(value);
          setError(undefined);
        } catch (err) {
          if (!alive) return;
          setError(err instanceof Error ? err : new Error(String(err)));
        }
      }
      if (alive && everyMs > 0) timer = setTimeout(run, everyMs);
    };
    void run();
    return () => {
      alive = false;
      if (timer) clearTimeout(timer);
    };
  }, [...deps, tick, everyMs]);

  return { data, error, refresh };
}
