import { useState } from "preact/hooks";

export interface PageInfo {
  hasNextPage: boolean;
  endCursor: string | null;
}

/** Keyset paging: the cursors of the pages seen so far, to go back. */
export function usePager(resetKey: string) {
  const [state, setState] = useState<{ key: string; cursors: (string | null)[] }>({
    key: resetKey,
    cursors: [null],
  });
  const cursors = state.key === resetKey ? state.cursors : [null];
  return {
    after: cursors[cursors.length - 1],
    page: cursors.length,
    next: (cursor: string | null) => setState({ key: resetKey, cursors: [...cursors, cursor] }),
    previous: () => setState({ key: resetKey, cursors: cursors.slice(0, -1) }),
  };
}

export function Pager(props: {
  label: string;
  pager: ReturnType<typeof usePager>;
  pageInfo: PageInfo;
  totalCount: number;
  pageSize: number;
}) {
  const { pager, pageInfo, totalCount, pageSize } = props;
  const first = (pager.page - 1) * pageSize + 1;
  const last = Math.min(totalCount, pager.page * pageSize);
  if (totalCount <= pageSize && pager.page === 1) return null;
  return (
    <nav class="pager" aria-label={`${props.label} pages`}>
      <button type="button" disabled={pager.page === 1} onClick={() => pager.previous()}>
        ← Previous
      </button>
      <span>
        {first}–{last} of {totalCount}
      </span>
      <button
        type="button"
        disabled={!pageInfo.hasNextPage}
        onClick={() => pager.next(pageInfo.endCursor)}
      >
        Next →
      </button>
    </nav>
  );
}
