import type { TypedDocumentNode } from '@graphql-typed-document-node/core';
import { useCallback, useEffect, useRef, useState } from 'react';

import { useSession } from './session';

export interface QueryState<T> {
  data: T | null;
  error: unknown;
  loading: boolean;
  reload: () => void;
}

/** Runs a query when `variables` change (compared as JSON), and again on `reload` (live pages reload when an
 * event says their data changed: nothing polls). */
export function useQuery<TResult, TVariables>(
  document: TypedDocumentNode<TResult, TVariables>,
  variables: TVariables,
  options: { skip?: boolean } = {},
): QueryState<TResult> {
  const { call } = useSession();
  const [data, setData] = useState<TResult | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [loading, setLoading] = useState(!options.skip);
  const [tick, setTick] = useState(0);
  const key = JSON.stringify(variables);
  const latest = useRef(0);

  useEffect(() => {
    if (options.skip) return;
    const id = ++latest.current;
    setLoading(true);
    call(document, JSON.parse(key) as TVariables).then(
      (result) => {
        if (id !== latest.current) return;
        setData(result);
        setError(null);
        setLoading(false);
      },
      (failure: unknown) => {
        if (id !== latest.current) return;
        setError(failure);
        setLoading(false);
      },
    );
  }, [call, document, key, tick, options.skip]);

  const reload = useCallback(() => setTick((n) => n + 1), []);
  return { data, error, loading, reload };
}

/** A mutation with its pending flag and last error; `run` resolves to the data, or null after an error. */
export function useMutation<TResult, TVariables>(document: TypedDocumentNode<TResult, TVariables>) {
  const { call } = useSession();
  const [pending, setPending] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const busy = useRef(false);
  const run = useCallback(
    async (variables: TVariables): Promise<TResult | null> => {
      if (busy.current) return null; // a second click while the first is on its way does nothing
      busy.current = true;
      setPending(true);
      setError(null);
      try {
        return await call(document, variables);
      } catch (failure) {
        setError(failure);
        return null;
      } finally {
        busy.current = false;
        setPending(false);
      }
    },
    [call, document],
  );
  return { run, pending, error, setError };
}
