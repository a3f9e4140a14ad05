const isHighSurrogate = (code: number) => code >= 0xd800 && code <= 0xdbff;
const isLowSurrogate = (code: number) => code >= 0xdc00 && code <= 0xdfff;

/**
 * The first `maxUnits` UTF-16 units of `text`, one fewer when the cut would split a surrogate pair. Half an
 * emoji is not valid Unicode: Telegram refuses the whole message ("strings must be encoded in UTF-8").
 */
export function headUnits(text: string, maxUnits: number): string {
  if (text.length <= maxUnits) return text;
  const end = Math.max(0, maxUnits);
  return text.slice(0, end > 0 && isHighSurrogate(text.charCodeAt(end - 1)) ? end - 1 : end);
}

/** The last `maxUnits` UTF-16 units of `text`, one fewer when the cut would start inside a surrogate pair. */
export function tailUnits(text: string, maxUnits: number): string {
  if (text.length <= maxUnits) return text;
  const start = text.length - Math.max(0, maxUnits);
  return text.slice(isLowSurrogate(text.charCodeAt(start)) ? start + 1 : start);
}
