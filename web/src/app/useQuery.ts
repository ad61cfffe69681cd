import { useEffect, useState } from "preact/hooks";
import { ApiError, gql } from "./api";

export interface QueryState<T> {
  data: T | null;
  error: ApiError | null;
  loading: boolean;
}

/** Runs a query whenever `key` changes; an answer to an older key is dropped. */
export function useQuery<T>(
  query: string,
  variables: Record<string, unknown>,
  key: string = JSON.stringify(variables),
): QueryState<T> {
  const [state, setState] = useState<QueryState<T>>({ data: null, error: null, loading: true });
  useEffect(() => {
    let current = true;
    setState((old) => ({ ...old, loading: true }));
    gql<T>(query, variables).then(
      (data) => current && setState({ data, error: null, loading: false }),
      (error: unknown) =>
        current &&
        setState({
          data: null,
          error: error instanceof ApiError ? error : new ApiError("INTERNAL", String(error)),
          loading: false,
        }),
    );
    return () => {
      current = false;
    };
  }, [query, key]);
  return state;
}
