// Each phase of drawing a lineage view leaves a performance measure ("lineage fetch",
// "lineage cluster", "lineage layout", "lineage draw"): bench/web.py reports them, and
// so does the browser's performance panel.
export function timed<T>(name: string, work: () => T): T {
  const start = performance.now();
  const result = work();
  performance.measure(name, { start, end: performance.now() });
  return result;
}

export async function timedAsync<T>(name: string, work: () => Promise<T>): Promise<T> {
  const start = performance.now();
  const result = await work();
  performance.measure(name, { start, end: performance.now() });
  return result;
}
