/**
 * A read-only map from term to term number held in one string and two typed arrays, so it crosses from a
 * worker thread by transfer and copy, with no per-term objects to rebuild on the thread that answers.
 */
export interface TermTableData {
  /** Every term, concatenated in term-number order. */
  text: string;
  /** Term n is `text.slice(starts[n], starts[n + 1])`. */
  starts: Int32Array;
  /** Open addressing with linear probing: term number + 1, or 0 for an empty slot; length a power of two. */
  slots: Int32Array;
}

/** FNV-1a over UTF-16 code units: the same number on every thread and Node version. */
function hashOf(term: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < term.length; i++) hash = Math.imul(hash ^ term.charCodeAt(i), 0x01000193);
  return hash >>> 0;
}

/** Builds the table for `terms`, which must be distinct; term n is `terms[n]`. */
export function buildTermTable(terms: readonly string[]): TermTableData {
  const starts = new Int32Array(terms.length + 1);
  terms.forEach((term, n) => {
    starts[n + 1] = (starts[n] as number) + term.length;
  });
  // At most half full, so a miss ends after a probe or two.
  let size = 2;
  while (size < terms.length * 2) size *= 2;
  const slots = new Int32Array(size);
  const mask = size - 1;
  terms.forEach((term, n) => {
    let slot = hashOf(term) & mask;
    while (slots[slot] !== 0) slot = (slot + 1) & mask;
    slots[slot] = n + 1;
  });
  return { text: terms.join(''), starts, slots };
}

/** Returns a lookup giving a term's number, or -1 when the table lacks it. */
export function openTermTable({ text, starts, slots }: TermTableData): (term: string) => number {
  const mask = slots.length - 1;
  return (term) => {
    for (let slot = hashOf(term) & mask; ; slot = (slot + 1) & mask) {
      const entry = slots[slot] as number;
      if (entry === 0) return -1;
      const start = starts[entry - 1] as number;
      if ((starts[entry] as number) - start === term.length && text.startsWith(term, start)) return entry - 1;
    }
  };
}
