import { stripAnsi } from './colors';

/** Lays rows out in aligned columns under a header; the last column is never padded. */
export function formatTable(header: string[], rows: string[][]): string {
  const widths = header.map((title, column) =>
    Math.max(stripAnsi(title).length, ...rows.map((row) => stripAnsi(row[column] ?? '').length)),
  );
  const line = (cells: string[]): string =>
    cells
      .map((cell, column) =>
        column === cells.length - 1
          ? cell
          : cell + ' '.repeat((widths[column] ?? 0) - stripAnsi(cell).length),
      )
      .join('  ')
      .trimEnd();
  return [line(header), ...rows.map(line)].join('\n') + '\n';
}

/** Label/value lines with the values aligned. */
export function formatFields(fields: Array<[string, string]>): string {
  const width = Math.max(0, ...fields.map(([label]) => label.length));
  return (
    fields.map(([label, value]) => `${`${label}:`.padEnd(width + 2)}${value}`).join('\n') + '\n'
  );
}

/** Shortens text to `max` characters with an ellipsis. */
export function truncate(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, Math.max(0, max - 1))}…`;
}
