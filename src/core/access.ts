/**
 * Whether a chat or guild may use the bot: an empty allowlist admits everyone, otherwise only listed ids.
 * Adapters call this before any work, so a refused chat costs nothing.
 */
export function isAllowed(allowlist: readonly string[], id: string | number | undefined): boolean {
  return allowlist.length === 0 || (id !== undefined && allowlist.includes(String(id)));
}
