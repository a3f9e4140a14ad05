import { type APIApplicationCommand, DiscordAPIError, REST, Routes } from 'discord.js';
import type { Config } from '../../core/config.ts';
import { ConfigError } from '../../core/errors.ts';
import type { Logger } from '../../core/logger.ts';
import type { Topic } from '../../core/topic.ts';
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

/** Names the setting Discord refused: 401 is the token, 403 an application the token doesn't belong to. */
function refusal(error: unknown, applicationId: string): unknown {
  if (!(error instanceof DiscordAPIError)) return error;
  if (error.status === 401) {
    return new ConfigError(
      'Discord rejected DISCORD_TOKEN (401 Unauthorized). Check the bot token in the Developer Portal (your application → Bot → Reset Token).',
    );
  }
  if (error.status === 403) {
    return new ConfigError(
      `Discord refused the commands of application ${applicationId} (403 ${error.message}): DISCORD_APPLICATION_ID must be the application DISCORD_TOKEN belongs to (services doctor shows which).`,
    );
  }
  return error;
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
  let current: APIApplicationCommand[];
  try {
    current = (await rest.get(route)) as APIApplicationCommand[];
  } catch (error) {
    throw refusal(error, applicationId);
  }
  const changes = diffCommands(current, desired);
  const changed = changes.added.length + changes.updated.length + changes.removed.length > 0;
  if (changed) await rest.put(route, { body: desired });
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
