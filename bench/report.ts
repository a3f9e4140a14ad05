/** One printed table: what a section measured, as the terminal, the JSON and BENCHMARKS.md show it. */
export interface Table {
  title: string;
  columns: string[];
  rows: string[][];
  /** How to read the table: what was measured and how; printed under it. */
  notes?: string[];
}

/** A goal from issue 6 and whether this run met it; `cause` explains a miss from the measurements. */
export interface Goal {
  goal: string;
  measured: string;
  met: boolean;
  cause?: string;
}

/** What every section returns: tables for people, goals for the verdict, raw numbers for the JSON file. */
export interface SectionResult {
  tables: Table[];
  goals: Goal[];
  data: unknown;
}

/** Options every section receives from `bench/run.ts`. */
export interface SectionOptions {
  /** The small version: fewer repeats and sizes, for CI and a quick look. */
  quick: boolean;
  /** Progress lines (stderr), so a long section shows it is alive without mixing into the tables. */
  progress(line: string): void;
}

/** Measures one section; every section module exports one. */
export type MeasureSection = (options: SectionOptions) => Promise<SectionResult>;

/**
 * A benchmark section as `bench/run.ts` lists it: `name` is its JSON file name; `load` imports its module
 * only in the process that runs it.
 */
export interface Section {
  name: string;
  title: string;
  load(): Promise<MeasureSection>;
}

/** Milliseconds with a precision that suits the magnitude (µs below 1 ms). */
export function formatMs(ms: number): string {
  if (!Number.isFinite(ms)) return 'n/a';
  if (ms < 1) return `${(ms * 1000).toFixed(0)} µs`;
  if (ms < 100) return `${ms.toFixed(1)} ms`;
  return `${ms.toFixed(0)} ms`;
}

/** A share as a percentage with one decimal. */
export function formatPercent(share: number): string {
  return Number.isFinite(share) ? `${(share * 100).toFixed(1)}%` : 'n/a';
}

/** Bytes as MiB with one decimal. */
export function formatMiB(bytes: number): string {
  return `${(bytes / 1024 / 1024).toFixed(1)} MiB`;
}

/** A whole number with thousands separators. */
export function formatCount(value: number): string {
  return Math.round(value).toLocaleString('en-US');
}

function widthOf(text: string): number {
  // CJK characters take two terminal columns.
  let width = 0;
  for (const char of text)
    width += /[\u1100-\u115f\u2e80-\ua4cf\uac00-\ud7a3\uf900-\ufaff\uff00-\uff60]/u.test(char) ? 2 : 1;
  return width;
}

/** The table as aligned plain text for the terminal. */
export function renderText(table: Table): string {
  const widths = table.columns.map((column, index) =>
    Math.max(widthOf(column), ...table.rows.map((row) => widthOf(row[index] ?? ''))),
  );
  const line = (cells: string[]) =>
    cells
      .map((cell, index) => cell + ' '.repeat((widths[index] ?? 0) - widthOf(cell)))
      .join('  ')
      .trimEnd();
  return [
    table.title,
    `  ${line(table.columns)}`,
    `  ${widths.map((width) => '-'.repeat(width)).join('  ')}`,
    ...table.rows.map((row) => `  ${line(row)}`),
    ...(table.notes ?? []).map((note) => `  * ${note}`),
  ].join('\n');
}

/** The table as GitHub Markdown, for pasting into BENCHMARKS.md. */
export function renderMarkdown(table: Table): string {
  const escapeCell = (cell: string) => cell.replace(/\|/g, '\\|');
  return [
    `**${table.title}**`,
    '',
    `| ${table.columns.map(escapeCell).join(' | ')} |`,
    `| ${table.columns.map(() => '---').join(' | ')} |`,
    ...table.rows.map((row) => `| ${row.map(escapeCell).join(' | ')} |`),
    ...(table.notes?.length ? ['', ...table.notes.map((note) => `- ${note}`)] : []),
  ].join('\n');
}

/** Goals as a table, so the verdict prints like every other result. */
export function goalsTable(title: string, goals: Goal[]): Table {
  return {
    title,
    columns: ['goal', 'measured', 'verdict'],
    rows: goals.map((goal) => [
      goal.goal,
      goal.measured,
      goal.met ? 'met' : `MISSED${goal.cause ? `: ${goal.cause}` : ''}`,
    ]),
  };
}
