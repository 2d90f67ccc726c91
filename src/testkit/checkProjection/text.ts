/** Values as short, safe text for a report. */

export const errorMessage = (e: unknown): string => (e instanceof Error ? e.message : String(e));

export function safeJson(v: unknown): string {
  try {
    return (
      JSON.stringify(v, (_, x) =>
        typeof x === 'bigint' ? x.toString() : x instanceof Uint8Array ? `<${x.length} bytes>` : x,
      ) ?? String(v)
    );
  } catch {
    return String(v);
  }
}

export const truncate = (text: string, max: number): string =>
  text.length > max ? `${text.slice(0, max - 3)}...` : text;

export const value = (v: unknown): string =>
  v === undefined ? 'nothing' : truncate(v instanceof Uint8Array ? `<${v.length} bytes>` : safeJson(v), 100);

export const preview = (row: Record<string, unknown>): string => truncate(safeJson(row), 160);
