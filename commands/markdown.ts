/**
 * User text quoted inside a command's Markdown reply, so it shows literally: one line, and every inline marker
 * (code spans and fences, emphasis, spoilers, links, `<…>` tags and mentions) backslash-escaped. Telegram's
 * renderer (CommonMark) and Discord both read a backslash before ASCII punctuation as "this character, plainly".
 */
export function quoteUserText(text: string): string {
  return text.replace(/\s+/g, ' ').replace(/[\\`*_~|<>[\]]/g, '\\$&');
}
