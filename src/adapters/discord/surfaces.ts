import { type APIChannel, type APIMessage, type REST, Routes } from 'discord.js';
import { type AnswerSurface, type MessageExtras, serializeSurface } from './deliver.ts';

/**
 * What answering an interaction needs from it: its webhook (application id and token, valid 15 minutes after
 * the interaction was created), where it was used and by whom. Plain data, so a restarted process can rebuild
 * the surface from the store after the discord.js interaction object is gone.
 */
export interface InteractionTarget {
  applicationId: string;
  token: string;
  /** Null when Discord sent none; the fallback then goes to the asker by DM. */
  channelId: string | null;
  userId: string;
  /** Asked with `private:true` (or a command that answers only the asker): every message is ephemeral. */
  ephemeral: boolean;
}

/** What answering a message needs from it: where it is, and the bot's reply once it exists. */
export interface ReplyTarget {
  channelId: string;
  /** The message being answered; the reply refers to it. */
  messageId: string;
  /** The bot's reply (the live preview, then the answer), if one was already posted. */
  answerId?: string;
}

/**
 * Called once with the id of the answer's main message, as soon as it is known; awaited before the surface
 * goes on, so what it records is in place before the answer can end.
 */
export type MainMessageListener = (messageId: string) => Promise<void>;

/** discord.js's own default for its senders, spelled out because these bodies bypass its message builder. */
const noPings = { parse: [] as [], replied_user: false };

/**
 * Posts straight to the channel through REST: the fallback when the interaction token no longer works.
 * `allowed_mentions` is spelled out because the Client's default only applies to discord.js's own senders.
 */
export async function postToChannel(
  rest: REST,
  channelId: string,
  content: string,
  extras: MessageExtras = {},
): Promise<string> {
  const body = {
    content,
    allowed_mentions: extras.allowedMentions ?? { parse: [] },
    ...(extras.components ? { components: extras.components } : {}),
  };
  return ((await rest.post(Routes.channelMessages(channelId), { body })) as APIMessage).id;
}

/** Sends a direct message to `userId` (opening the DM channel first, as `User#send` does). */
async function sendDirect(rest: REST, userId: string, content: string, extras: MessageExtras = {}) {
  const channel = (await rest.post(Routes.userChannels(), { body: { recipient_id: userId } })) as APIChannel;
  return postToChannel(rest, channel.id, content, extras);
}

const bodyOf = (content: string, extras: MessageExtras = {}) => ({
  content,
  allowed_mentions: extras.allowedMentions ?? noPings,
  ...(extras.components ? { components: extras.components } : {}),
});

/**
 * The answer to an interaction: the deferred reply (`@original`), edited while streaming, with follow-ups for
 * the rest, all through the interaction's webhook. If the token has expired (15 minutes) or the reply is gone,
 * a public answer falls back to a channel message and a private one to a DM, so the asker is never left with
 * "thinking…". Works the same for a live interaction and for one resumed by a restarted process.
 * @see https://discord.com/developers/docs/interactions/receiving-and-responding#followup-messages
 */
export function interactionSurface(
  rest: REST,
  previewRest: REST,
  target: InteractionTarget,
  onMainMessage?: MainMessageListener,
): AnswerSurface {
  const original = Routes.webhookMessage(target.applicationId, target.token);
  let known = false;
  const noteMain = async (id: string) => {
    if (known) return;
    known = true;
    await onMainMessage?.(id);
  };
  return serializeSurface({
    async show(content, extras) {
      const message = (await rest.patch(original, {
        body: bodyOf(content, extras),
        auth: false,
      })) as APIMessage;
      await noteMain(message.id);
      return message.id;
    },
    async preview(content) {
      const message = (await previewRest.patch(original, {
        body: { content, allowed_mentions: { parse: [] } },
        auth: false,
      })) as APIMessage;
      await noteMain(message.id);
    },
    append: async (content, extras) =>
      (
        (await rest.post(Routes.webhook(target.applicationId, target.token), {
          body: { ...bodyOf(content, extras), ...(target.ephemeral ? { flags: 64 } : {}) },
          query: new URLSearchParams({ wait: 'true' }),
          auth: false,
        })) as APIMessage
      ).id,
    fallback: (content, extras) =>
      target.ephemeral || !target.channelId
        ? sendDirect(rest, target.userId, content, extras)
        : postToChannel(rest, target.channelId, content, extras),
  });
}

/**
 * The answer to an interaction Discord refused to have acknowledged (it arrived too late: the 3-second window
 * had passed, or the token was already dead): Discord shows the asker that the application did not respond, and
 * its webhook takes nothing. Everything goes where `surface`'s fallback goes (the channel, or the asker's DMs
 * for a private answer), with no live preview, so the asker still sees the answer.
 */
export function unacknowledgedSurface(surface: AnswerSurface): AnswerSurface {
  return {
    show: surface.fallback,
    append: surface.fallback,
    fallback: surface.fallback,
    preview: async () => undefined,
  };
}

/**
 * The answer to a message: a reply to it, edited while streaming, with follow-ups for the rest. Given the
 * `answerId` of a reply posted earlier (by a process that was killed), it edits that one instead of posting
 * another; if that reply is gone, the answer goes out as a new message.
 */
export function replySurface(
  rest: REST,
  previewRest: REST,
  target: ReplyTarget,
  onMainMessage?: MainMessageListener,
): AnswerSurface {
  let answerId = target.answerId;
  const post = async (via: REST, body: object) => {
    const reply = (await via.post(Routes.channelMessages(target.channelId), {
      body: { ...body, message_reference: { message_id: target.messageId, fail_if_not_exists: false } },
    })) as APIMessage;
    answerId = reply.id;
    await onMainMessage?.(reply.id);
    return reply.id;
  };
  return serializeSurface({
    async show(content, extras) {
      if (!answerId) return post(rest, bodyOf(content, extras));
      const route = Routes.channelMessage(target.channelId, answerId);
      return ((await rest.patch(route, { body: bodyOf(content, extras) })) as APIMessage).id;
    },
    async preview(content) {
      const body = { content, allowed_mentions: noPings };
      if (answerId) await previewRest.patch(Routes.channelMessage(target.channelId, answerId), { body });
      else await post(previewRest, body);
    },
    append: (content, extras) => postToChannel(rest, target.channelId, content, extras),
    fallback: (content, extras) => postToChannel(rest, target.channelId, content, extras),
  });
}
