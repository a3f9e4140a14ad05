/**
 * Whether a chat or guild is on an allowlist: an empty allowlist admits everyone, otherwise only listed ids.
 * The access policy below builds on it; adapters ask the policy before any work, so a refused chat costs nothing.
 */
export function isAllowed(allowlist: readonly string[], id: string | number | undefined): boolean {
  return allowlist.length === 0 || (id !== undefined && allowlist.includes(String(id)));
}

/** The chat platforms whose users the access rules know by id. */
export type AccessPlatform = 'telegram' | 'discord';

/**
 * How the core names a person: the platform and its user id (`telegram:42`, `discord:80351110224678912`).
 * Rate limits, admin checks and logs all use this one key, so a Telegram id can never pass for a Discord one.
 */
export function userKeyOf(platform: AccessPlatform, userId: string | number): string {
  return `${platform}:${userId}`;
}

/** The one user the terminal is: every CLI question counts against this key's rate limit and budget. */
export const cliUserKey = 'cli';

/** The platform part of a user key (`telegram` for `telegram:42`, `cli` for the CLI), for metrics by platform. */
export function platformOfUserKey(userKey: string): string {
  if (userKey === cliUserKey) return 'cli';
  return userKey.slice(0, Math.max(0, userKey.indexOf(':'))) || 'unknown';
}

/** Where a message or command comes from, as the adapter saw it. */
export interface AccessRequest {
  platform: AccessPlatform;
  /** The Telegram chat, or the Discord guild (absent in a DM). */
  placeId: string | number | undefined;
  /** A private chat with the bot (Telegram) or a DM (Discord): only the asker reads the replies. */
  isPrivate: boolean;
  /** `userKeyOf(platform, id)` of the sender; absent when the platform hides who it is (anonymous admins). */
  userKey: string | undefined;
}

/** Who may use the bot where, and who may run operator commands; decided here, never by an adapter. */
export interface AccessPolicy {
  /**
   * True when the chat or guild is allowlisted (or no allowlist is set). An admin may always talk to the bot
   * privately, so `/stats` and `/reload` work from a DM even when the allowlist names only groups.
   */
  mayUse(request: AccessRequest): boolean;
  /** True only for users listed in TELEGRAM_ADMIN_IDS or DISCORD_ADMIN_IDS; an empty list means nobody. */
  isAdmin(userKey: string | undefined): boolean;
}

/** The settings the access policy reads. */
export interface AccessSettings {
  telegram: { allowedChatIds: readonly string[]; adminIds: readonly string[] };
  discord: { allowedGuildIds: readonly string[]; adminIds: readonly string[] };
}

/**
 * Builds the access policy from the allowlists and the admin lists. Admin rights are granted by listing, never
 * by default: a bot whose operator set no admin ids runs no operator command for anyone.
 */
export function createAccessPolicy(settings: AccessSettings): AccessPolicy {
  const admins = new Set([
    ...settings.telegram.adminIds.map((id) => userKeyOf('telegram', id)),
    ...settings.discord.adminIds.map((id) => userKeyOf('discord', id)),
  ]);
  const allowlists: Record<AccessPlatform, readonly string[]> = {
    telegram: settings.telegram.allowedChatIds,
    discord: settings.discord.allowedGuildIds,
  };
  const isAdmin = (userKey: string | undefined) => userKey !== undefined && admins.has(userKey);
  return {
    isAdmin,
    mayUse(request) {
      if (isAllowed(allowlists[request.platform], request.placeId)) return true;
      return request.isPrivate && isAdmin(request.userKey);
    },
  };
}
