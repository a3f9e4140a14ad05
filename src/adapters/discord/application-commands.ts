import {
  type APIApplicationCommandOption,
  ApplicationCommandOptionType,
  ApplicationCommandType,
  ApplicationIntegrationType,
  InteractionContextType,
  type RESTPostAPIApplicationCommandsJSONBody,
} from 'discord.js';
import { describeCommand, describeOptions } from '../../../commands/command.ts';
import { commandsFor } from '../../../commands/index.ts';
import { catalogFor } from '../../core/catalog/catalog.ts';
import type { Config } from '../../core/config.ts';
import { resolveTopic, type Topic } from '../../core/topic.ts';

/** The message context-menu command that asks about the selected message's text. */

/** Discord's own ceiling for a string option's `max_length`. */
const discordMaxOptionLength = 6000;

/**
 * Where commands can be used: servers that installed the bot, and DMs with it. User installs are not
 * offered: answers that outlive a 15-minute token fall back to a channel message, which needs the bot user.
 */
const availability = {
  contexts: [InteractionContextType.Guild, InteractionContextType.BotDM],
  integration_types: [ApplicationIntegrationType.GuildInstall],
};

/**
 * Operator commands are shown only to members with Administrator (`"0"` grants the command to nobody but
 * admins by default; server managers can widen it under Integrations). Discord applies this in the client
 * only, so the handlers still refuse everyone not in `DISCORD_ADMIN_IDS`.
 * @see https://discord.com/developers/docs/interactions/application-commands#permissions
 */
const adminsOnly = { default_member_permissions: '0' };

/**
 * The application commands, generated from the platform-neutral specs in `commands/` (names, English
 * descriptions with `zh-CN` localizations, options, admins-only visibility for operator commands) plus the
 * "Ask Poquan" message command; descriptions name `topic` (the knowledge's, see `resolveTopic`). Guild
 * registrations leave out `contexts`/`integration_types`, which Discord only accepts on global commands.
 * A question's `max_length` is the configured question limit, so Discord stops an over-long one client-side.
 * @see https://discord.com/developers/docs/interactions/application-commands#application-command-object
 */
export function buildDiscordCommands(
  config: Config,
  scope: 'global' | 'guild',
  topic: Topic = resolveTopic(config.topic, undefined),
): RESTPostAPIApplicationCommandsJSONBody[] {
  const extra = scope === 'global' ? availability : {};
  const slashCommands = commandsFor('discord').map((spec): RESTPostAPIApplicationCommandsJSONBody => {
    const options = describeOptions(spec).map(
      (option): APIApplicationCommandOption =>
        option.type === 'boolean'
          ? {
              type: ApplicationCommandOptionType.Boolean,
              name: option.name,
              description: option.description.en,
              description_localizations: { 'zh-CN': option.description.zh },
              required: option.required,
            }
          : {
              type: ApplicationCommandOptionType.String,
              name: option.name,
              description: option.description.en,
              description_localizations: { 'zh-CN': option.description.zh },
              required: option.required,
              max_length: Math.min(
                option.maxLength ?? discordMaxOptionLength,
                config.maxQuestionChars,
                discordMaxOptionLength,
              ),
            },
    );
    const description = describeCommand(spec, topic);
    return {
      type: ApplicationCommandType.ChatInput,
      name: spec.name,
      description: description.en,
      description_localizations: { 'zh-CN': description.zh },
      ...(options.length > 0 ? { options } : {}),
      ...(spec.operatorOnly ? adminsOnly : {}),
      ...extra,
    };
  });
  const askMenu: RESTPostAPIApplicationCommandsJSONBody = {
    type: ApplicationCommandType.Message,
    name: catalogFor('en').discord.askMenu,
    name_localizations: { 'zh-CN': catalogFor('zh').discord.askMenu },
    ...extra,
  };
  return [...slashCommands, askMenu];
}
