import { type ButtonInteraction, MessageFlags } from 'discord.js';
import { userKeyOf } from '../../core/access.ts';
import { catalogFor } from '../../core/catalog/catalog.ts';
import { describeVoteOutcome, shouldHandOff, type VoteOutcome } from '../../core/feedback.ts';
import { interfaceLanguage } from '../../core/interface-language.ts';
import { detectLanguage, languageOfLocale } from '../../core/question.ts';
import { decodeVoteButton } from '../shared/vote-button.ts';
import { discordHandoff } from './answer-footer.ts';
import { reportError } from './errors.ts';
import type { HandlerOptions } from './handler-options.ts';

/**
 * Handles a press on a vote button: claims the interaction (one instance answers), records the vote under a
 * hash of the user id and acknowledges with an ephemeral reply in the user's language — the answer message
 * itself is never edited. A new 👎 in a guild brings a public follow-up mentioning `HANDOFF_DISCORD_ROLE_ID`,
 * once per answer. Votes on expired answers are told so; other buttons are not ours and are left alone.
 * @see https://discord.com/developers/docs/interactions/receiving-and-responding#interaction-response-object-interaction-callback-type
 */
export async function handleFeedbackButton(
  interaction: ButtonInteraction,
  options: HandlerOptions,
): Promise<void> {
  const action = decodeVoteButton(interaction.customId);
  if (!action || !(await options.claim(`interaction:${interaction.id}`))) return;
  const { services, log } = options;
  const language = interfaceLanguage(services.config.defaultLanguage, languageOfLocale(interaction.locale));
  const allowed = services.access.mayUse({
    platform: 'discord',
    placeId: interaction.guildId ?? undefined,
    isPrivate: !interaction.inGuild(),
    userKey: userKeyOf('discord', interaction.user.id),
  });
  if (!allowed) {
    // The same rule as for questions: outside DISCORD_ALLOWED_GUILD_IDS nothing is recorded or posted.
    await interaction.reply({
      content: catalogFor(language).discord.notAllowedHere,
      flags: MessageFlags.Ephemeral,
    });
    return;
  }
  let outcome: VoteOutcome | 'failed';
  try {
    outcome = await services.feedback.vote({
      answerId: action.answerId,
      voterId: `discord:${interaction.user.id}`,
      vote: action.vote,
    });
  } catch (error) {
    reportError(log, error, 'could not record a vote');
    outcome = 'failed';
  }
  await interaction.reply({ content: describeVoteOutcome(outcome, language), flags: MessageFlags.Ephemeral });
  if (outcome === 'failed') return;
  log.info({ answerId: action.answerId, vote: action.vote, status: outcome.status }, 'feedback');
  if (!shouldHandOff(outcome)) return;
  const handoff = discordHandoff(services, interaction.guildId, detectLanguage(outcome.record.question));
  if (!handoff || !(await services.feedback.claimHandoff(action.answerId))) return;
  const ephemeral = interaction.message.flags.has(MessageFlags.Ephemeral);
  await interaction.followUp({
    content: handoff.line,
    allowedMentions: handoff.allowedMentions,
    ...(ephemeral ? { flags: MessageFlags.Ephemeral } : {}),
  });
}
