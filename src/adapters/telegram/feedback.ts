import type { Context } from 'grammy';
import type { InlineKeyboardMarkup, Message } from 'grammy/types';
import {
  describeHandoff,
  describeVoteOutcome,
  shouldHandOff,
  type VoteOutcome,
} from '../../core/feedback.ts';
import { interfaceLanguage } from '../../core/interface-language.ts';
import type { Logger } from '../../core/logger.ts';
import { detectLanguage, languageOfLocale, type ReplyLanguage } from '../../core/question.ts';
import { decodeVoteButton, encodeVoteButton } from '../shared/vote-button.ts';
import { escapeHtml } from './render.ts';
import { conversationIdFor } from './routing.ts';
import type { TelegramServices } from './services.ts';

/** What handling feedback needs from the bot around it. */
export interface FeedbackDeps {
  services: TelegramServices;
  log: Logger;
}

/**
 * The 👍 / 👎 row under a finished answer. Each button's `callback_data` is `fb:<answerId>:up|down`, well
 * within Telegram's 64 bytes.
 * @see https://core.telegram.org/bots/api#inlinekeyboardmarkup
 */
export function feedbackKeyboard(answerId: string): InlineKeyboardMarkup {
  return {
    inline_keyboard: [
      [
        { text: '👍', callback_data: encodeVoteButton(answerId, 'up') },
        { text: '👎', callback_data: encodeVoteButton(answerId, 'down') },
      ],
    ],
  };
}

/** The line pointing to `HANDOFF_TELEGRAM_USERNAME`, or undefined when no one is configured. */
export function telegramHandoff(services: TelegramServices, language: ReplyLanguage): string | undefined {
  const username = services.config.handoff.telegramUsername;
  return username ? describeHandoff(`@${username}`, language) : undefined;
}

/** Posts the hand-off line as a reply to the rated answer, once per answer however many users vote 👎. */
async function postHandoff(ctx: Context, deps: FeedbackDeps, answerId: string, question: string) {
  const message = ctx.callbackQuery?.message;
  const line = telegramHandoff(deps.services, detectLanguage(question));
  // Telegram sends an inaccessible message (date 0) when the answer is too old or was deleted.
  if (!line || !message || message.date === 0) return;
  if (!(await deps.services.feedback.claimHandoff(answerId))) return;
  const answer = message as Message;
  await ctx.api.sendMessage(answer.chat.id, `<i>${escapeHtml(line)}</i>`, {
    parse_mode: 'HTML',
    link_preview_options: { is_disabled: true },
    reply_parameters: { message_id: answer.message_id, allow_sending_without_reply: true },
    ...(answer.is_topic_message && answer.message_thread_id
      ? { message_thread_id: answer.message_thread_id }
      : {}),
  });
}

/**
 * Handles a press on a vote button: records the vote under a hash of the user id, always answers the callback
 * query (a toast in the user's language, which also stops the button's spinner) and never edits the answer.
 * A new 👎 gets the hand-off line as a reply when `HANDOFF_TELEGRAM_USERNAME` is set. Buttons that are not
 * ours are acknowledged silently; votes on expired answers are told so.
 * @see https://core.telegram.org/bots/api#answercallbackquery
 */
export async function handleFeedbackCallback(ctx: Context, deps: FeedbackDeps): Promise<void> {
  const query = ctx.callbackQuery;
  if (!query) return;
  const action = decodeVoteButton(query.data);
  if (!action) {
    await ctx.answerCallbackQuery();
    return;
  }
  const language = interfaceLanguage(
    deps.services.config.defaultLanguage,
    languageOfLocale(query.from.language_code),
  );
  // Telegram sends an inaccessible message (date 0) when the answer is too old or was deleted.
  const answerMessage = query.message && query.message.date !== 0 ? (query.message as Message) : undefined;
  let outcome: VoteOutcome;
  try {
    outcome = await deps.services.feedback.vote({
      answerId: action.answerId,
      voterId: `telegram:${query.from.id}`,
      vote: action.vote,
      // A vote counts only under the answer itself, in the chat (and topic) it was given in.
      conversationId: answerMessage ? conversationIdFor(answerMessage) : 'telegram:inaccessible',
    });
  } catch (error) {
    deps.log.warn({ err: error, answerId: action.answerId }, 'could not record a vote');
    await ctx.answerCallbackQuery({ text: describeVoteOutcome('failed', language) });
    return;
  }
  await ctx.answerCallbackQuery({ text: describeVoteOutcome(outcome, language) });
  deps.log.info({ answerId: action.answerId, vote: action.vote, status: outcome.status }, 'feedback');
  if (!shouldHandOff(outcome)) return;
  try {
    await postHandoff(ctx, deps, action.answerId, outcome.record.question);
  } catch (error) {
    deps.log.warn({ err: error, answerId: action.answerId }, 'could not post the hand-off line');
  }
}
