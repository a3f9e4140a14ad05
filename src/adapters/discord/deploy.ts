import { type APIApplicationCommand, DiscordAPIError, HTTPError, REST, Routes } from 'discord.js';
import type { Config } from '../../core/config.ts';
import { ConfigError, PlatformError } from '../../core/errors.ts';
import type { Logger } from '../../core/logger.ts';
import type { Topic } from '../../core/topic.ts';
import { describeConnectionFailure, withoutCredentials } from '../../logging/connection-failure.ts';
import { buildDiscordCommands } from './application-commands.ts';

/** The fields of a command, registered or desired, that the comparison reads. */
interface CommandLike {
  type?: number;
  name: string;
  name_localizations?: unknown;
  description?: string;
  description_localizations?: unknown;
  options?: readonly object[];
  contexts?: unknown;
  integration_types?: unknown;
  default_member_permissions?: string | null;
}

/** How a command is named in the summary: `/ask` for slash commands, `"Ask Poquan" (message menu)` otherwise. */
function label(command: CommandLike): string {
  return (command.type ?? 1) === 1 ? `/${command.name}` : `"${command.name}" (message menu)`;
}

const identity = (command: CommandLike) => `${command.type ?? 1}:${command.name}`;

/**
 * The fields we declare, in one canonical shape, so what Discord returns (with ids, versions, defaults,
 * omitted `required: false` …) compares equal to what we would send when nothing really changed.
 */
function comparable(command: CommandLike): string {
  const options = (command.options ?? []) as Array<Record<string, unknown>>;
  return JSON.stringify({
    type: command.type ?? 1,
    name: command.name,
    name_localizations: command.name_localizations ?? {},
    description: command.description ?? '',
    description_localizations: command.description_localizations ?? {},
    options: options.map((option) => ({
      type: option.type,
      name: option.name,
      description: option.description,
      description_localizations: option.description_localizations ?? {},
      required: option.required ?? false,
      max_length: option.max_length ?? null,
    })),
    contexts: command.contexts ?? null,
    integration_types: command.integration_types ?? null,
    default_member_permissions: command.default_member_permissions ?? null,
  });
}

/** What a deployment changes, by command label. */
export interface CommandChanges {
  added: string[];
  updated: string[];
  removed: string[];
  unchanged: string[];
}

/** Compares the registered commands with the desired ones. */
export function diffCommands(current: CommandLike[], desired: CommandLike[]): CommandChanges {
  const changes: CommandChanges = { added: [], updated: [], removed: [], unchanged: [] };
  const byIdentity = new Map(current.map((command) => [identity(command), command]));
  for (const command of desired) {
    const existing = byIdentity.get(identity(command));
    if (!existing) changes.added.push(label(command));
    else if (comparable(existing) === comparable(command)) changes.unchanged.push(label(command));
    else changes.updated.push(label(command));
    byIdentity.delete(identity(command));
  }
  for (const command of byIdentity.values()) changes.removed.push(label(command));
  return changes;
}

/**
 * One line naming what failed and the setting behind it: no answer from `DISCORD_API_BASE` (by the socket's error
 * code, or the timeout), the token (401), the application or guild (403), or another refusal by its status.
 * Never the token: it travels in a header, and no request URL is quoted.
 */
function deployFailure(error: unknown, config: Config, rest: REST): Error {
  const { applicationId, apiBase, guildId } = config.discord;
  const where = `Discord's API at DISCORD_API_BASE (${withoutCredentials(apiBase)})`;
  const check = 'Check the URL and the network; `poquan doctor` checks every setting.';
  if (error instanceof DiscordAPIError && error.status === 401) {
    return new ConfigError(
      'Discord rejected DISCORD_TOKEN (401 Unauthorized). Check the bot token in the Developer Portal (your application → Bot → Reset Token).',
    );
  }
  if (error instanceof DiscordAPIError && error.status === 403) {
    const owner =
      'DISCORD_APPLICATION_ID must be the application DISCORD_TOKEN belongs to (`poquan doctor` shows which)';
    return new ConfigError(
      guildId
        ? `Discord refused the commands of application ${applicationId} in guild ${guildId} (403 ${error.message}): the bot must be in the DISCORD_GUILD_ID server, invited with the applications.commands scope, and ${owner}.`
        : `Discord refused the commands of application ${applicationId} (403 ${error.message}): ${owner}.`,
    );
  }
  if (error instanceof DiscordAPIError || error instanceof HTTPError) {
    const message = error.message.replaceAll('\n', '; ');
    return new PlatformError(
      `${where} answered the command registration with HTTP ${error.status} (${message}).`,
    );
  }
  if (error instanceof Error && error.name === 'AbortError') {
    const { timeout, retries } = rest.options;
    return new PlatformError(
      `No answer from ${where} within ${timeout / 1000} s (${retries + 1} tries). ${check}`,
    );
  }
  // Whatever else a request throws is the connection's failure (the REST client queues rate limits itself).
  const reason = error instanceof Error ? describeConnectionFailure(error) : 'no connection';
  return new PlatformError(`Could not reach ${where}: ${reason}. ${check}`);
}

/**
 * Registers Poquan's application commands — globally, or in `DISCORD_GUILD_ID` when set (guild commands
 * update instantly, handy while developing) — with one bulk overwrite (PUT), after reading what is
 * registered now; descriptions name `topic` (default: `BOT_TOPIC`, else China's AI race). Skips the PUT when nothing changed. Returns a human summary for `poquan deploy-commands`.
 * @see https://discord.com/developers/docs/interactions/application-commands#bulk-overwrite-global-application-commands
 */
export async function deployDiscordCommands(config: Config, logger: Logger, topic?: Topic): Promise<string> {
  const { token, applicationId, apiBase, guildId } = config.discord;
  if (!token || !applicationId) {
    throw new ConfigError('deploy-commands needs DISCORD_TOKEN and DISCORD_APPLICATION_ID.');
  }
  const rest = new REST({ api: apiBase }).setToken(token);
  const route = guildId
    ? Routes.applicationGuildCommands(applicationId, guildId)
    : Routes.applicationCommands(applicationId);
  const desired = buildDiscordCommands(config, guildId ? 'guild' : 'global', topic);
  const call = <T>(request: Promise<T>) =>
    request.catch((error: unknown) => {
      throw deployFailure(error, config, rest);
    });
  const current = (await call(rest.get(route))) as APIApplicationCommand[];
  const changes = diffCommands(current, desired);
  const changed = changes.added.length + changes.updated.length + changes.removed.length > 0;
  if (changed) await call(rest.put(route, { body: desired }));
  logger.info({ applicationId, guildId, ...changes }, 'discord commands deployed');

  const where = guildId ? `in guild ${guildId}` : 'globally';
  const lines = [
    changed
      ? `Registered ${desired.length} Discord commands ${where} for application ${applicationId}.`
      : `Discord commands ${where} for application ${applicationId} are up to date; nothing sent.`,
  ];
  for (const kind of ['added', 'updated', 'removed', 'unchanged'] as const) {
    if (changes[kind].length > 0) lines.push(`  ${kind}: ${changes[kind].join(', ')}`);
  }
  return lines.join('\n');
}
