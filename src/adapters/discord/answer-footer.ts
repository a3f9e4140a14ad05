import {
  ActionRowBuilder,
  type APIActionRowComponent,
  type APIButtonComponent,
  ButtonBuilder,
  ButtonStyle,
} from 'discord.js';
import { describeHandoff } from '../../core/feedback.ts';
import type { ReplyLanguage } from '../../core/question.ts';
import { encodeVoteButton } from '../shared/vote-button.ts';
import type { DiscordServices } from './services.ts';

/**
 * The action row with 👍 / 👎 under a finished answer; each button's `custom_id` is `fb:<answerId>:up|down`
 * (the builder checks Discord's 100-character limit).
 * @see https://discord.com/developers/docs/components/reference#button
 */
export function feedbackRow(answerId: string): APIActionRowComponent<APIButtonComponent> {
  const button = (vote: 'up' | 'down', emoji: string) =>
    new ButtonBuilder()
      .setCustomId(encodeVoteButton(answerId, vote))
      .setEmoji({ name: emoji })
      .setStyle(ButtonStyle.Secondary);
  return new ActionRowBuilder<ButtonBuilder>()
    .addComponents(button('up', '👍'), button('down', '👎'))
    .toJSON() as APIActionRowComponent<APIButtonComponent>;
}

/** The hand-off line and the `allowed_mentions` that let exactly the configured role be pinged. */
export interface DiscordHandoff {
  line: string;
  allowedMentions: { parse: []; roles: string[] };
}

/**
 * The hand-off for a place, or undefined when `HANDOFF_DISCORD_ROLE_ID` is unset or there is no role to ping:
 * roles exist only in guilds, and a guild's own id is its @everyone role, which the bot never pings.
 */
export function discordHandoff(
  services: DiscordServices,
  guildId: string | null | undefined,
  language: ReplyLanguage,
): DiscordHandoff | undefined {
  const roleId = services.config.handoff.discordRoleId;
  if (!roleId || !guildId || roleId === guildId) return undefined;
  return {
    line: describeHandoff(`<@&${roleId}>`, language),
    allowedMentions: { parse: [], roles: [roleId] },
  };
}
