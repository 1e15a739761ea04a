import { useEffect, useLayoutEffect, useRef } from 'react';

// useLayoutEffect warns during server rendering; there is nothing to update there anyway.
const useIsomorphicLayoutEffect = typeof window === 'undefined' ? useEffect : useLayoutEffect;

/** A ref that always holds the latest value, so subscriptions need not restart on every render. */
export function useLatest<T>(value: T): { readonly current: T } {
  const ref = useRef(value);
  useIsomorphicLayoutEffect(() => {
    ref.current = value;
  });
  return ref;
}
