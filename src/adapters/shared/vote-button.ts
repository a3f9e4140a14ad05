import type { Vote } from '../../core/feedback.ts';

const payloadPattern = /^fb:([A-Za-z0-9_-]{1,40}):(up|down)$/;

/**
 * The payload of a 👍/👎 button under an answer: `fb:<answerId>:up|down`. Answer ids are at most 40 URL-safe
 * characters (`AnswerDone.answerId` is 16), so a payload is at most 49 bytes: within Telegram's 64-byte
 * `callback_data` and Discord's 100-character `custom_id`.
 * @see https://core.telegram.org/bots/api#inlinekeyboardbutton
 * @see https://discord.com/developers/docs/components/reference#button
 */
export function encodeVoteButton(answerId: string, vote: Vote): string {
  return `fb:${answerId}:${vote}`;
}

/** Reads a button payload back; undefined for anything that is not one of our vote buttons. */
export function decodeVoteButton(data: string | undefined): { answerId: string; vote: Vote } | undefined {
  const match = payloadPattern.exec(data ?? '');
  return match ? { answerId: match[1] as string, vote: match[2] as Vote } : undefined;
}
