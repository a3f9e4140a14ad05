import type { Message, UserFromGetMe } from 'grammy/types';
import { describe, expect, it } from 'vitest';
import { redactToken } from '../../src/adapters/telegram/errors.ts';
import { conversationIdFor, replyPlaceFor, routeMessage } from '../../src/adapters/telegram/routing.ts';

const me = { id: 123, is_bot: true, first_name: 'Poquan', username: 'PoquanBot' } as UserFromGetMe;
const ada = { id: 42, is_bot: false, first_name: 'Ada', language_code: 'en' };
const privateChat = { id: 42, type: 'private', first_name: 'Ada' } as const;
const group = { id: -100, type: 'supergroup', title: 'AI watchers' } as const;

function message(fields: Partial<Message> & { text: string }): Message {
  return { message_id: 5, date: 0, chat: group, from: ada, ...fields } as Message;
}

describe('Telegram message routing', () => {
  it('treats any private text as a question', () => {
    expect(routeMessage(message({ chat: privateChat, text: ' Who founded DeepSeek? ' }), me)).toEqual({
      kind: 'plain',
      text: 'Who founded DeepSeek?',
    });
  });

  it('reads /command and /command@ThisBot, and ignores commands for other bots', () => {
    const ask = message({
      text: '/ask@poquanbot What is Qwen?',
      entities: [{ type: 'bot_command', offset: 0, length: 14 }],
    });
    expect(routeMessage(ask, me)).toMatchObject({ kind: 'command', name: 'ask', rest: 'What is Qwen?' });
    const other = message({
      text: '/ask@OtherBot hi',
      entities: [{ type: 'bot_command', offset: 0, length: 13 }],
    });
    expect(routeMessage(other, me)).toEqual({ kind: 'ignore', reason: 'command for another bot' });
  });

  it('answers a group message only when it mentions the bot or replies to it, without the mention', () => {
    expect(routeMessage(message({ text: 'lunch anyone?' }), me)).toMatchObject({ kind: 'ignore' });
    const mention = message({
      text: 'hey @PoquanBot who founded Moonshot?',
      entities: [{ type: 'mention', offset: 4, length: 10 }],
    });
    expect(routeMessage(mention, me)).toEqual({ kind: 'plain', text: 'hey who founded Moonshot?' });
    const textMention = message({
      text: 'Poquan, and Zhipu?',
      entities: [{ type: 'text_mention', offset: 0, length: 6, user: me }],
    });
    expect(routeMessage(textMention, me)).toEqual({ kind: 'plain', text: ', and Zhipu?' });
    const reply = message({
      text: 'and Kimi?',
      reply_to_message: message({ text: 'answer', from: me }) as never,
    });
    expect(routeMessage(reply, me)).toEqual({ kind: 'plain', text: 'and Kimi?' });
  });

  it('does not take a forum topic message for a reply to the bot that opened the topic', () => {
    const topicStart = message({
      text: '',
      from: me,
      forum_topic_created: { name: 't', icon_color: 1 },
    } as never);
    const inTopic = message({
      text: 'chatter',
      reply_to_message: topicStart as never,
      is_topic_message: true,
    });
    expect(routeMessage(inTopic, me)).toMatchObject({ kind: 'ignore' });
  });

  it('never answers another bot', () => {
    expect(
      routeMessage(message({ chat: privateChat, text: 'hi', from: { ...ada, is_bot: true } }), me),
    ).toMatchObject({
      kind: 'ignore',
    });
  });

  it('answers an anonymous group admin, whose messages come from @GroupAnonymousBot as the group', () => {
    const anonymousBot = { id: 1087968824, is_bot: true, first_name: 'Group', username: 'GroupAnonymousBot' };
    const fromAdmin = message({
      text: '@PoquanBot Who founded DeepSeek?',
      entities: [{ type: 'mention', offset: 0, length: 10 }],
      from: anonymousBot,
      sender_chat: group,
    });
    expect(routeMessage(fromAdmin, me)).toEqual({ kind: 'plain', text: 'Who founded DeepSeek?' });
    const fromOtherBot = { ...fromAdmin, sender_chat: undefined } as Message;
    expect(routeMessage(fromOtherBot, me)).toEqual({ kind: 'ignore', reason: 'from a bot' });
  });

  it('keeps a conversation per chat and per forum topic, and replies in the same topic', () => {
    expect(conversationIdFor(message({ text: 'q' }))).toBe('telegram:-100');
    const topic = message({ text: 'q', message_thread_id: 7, is_topic_message: true });
    expect(conversationIdFor(topic)).toBe('telegram:-100:7');
    expect(replyPlaceFor(topic)).toEqual({ chatId: -100, chatType: 'supergroup', threadId: 7, replyTo: 5 });
    expect(replyPlaceFor(message({ chat: privateChat, text: 'q' }))).toEqual({
      chatId: 42,
      chatType: 'private',
    });
  });
});

describe('Telegram start-up failures', () => {
  it('never quote the bot token, configured or not', () => {
    const token = '123456:ABC-def_ghi';
    expect(redactToken(`request to http://127.0.0.1:1/bot${token}/getMe failed`, token)).toBe(
      'request to http://127.0.0.1:1/bot[redacted]/getMe failed',
    );
    expect(redactToken('see bot999:XYZ/sendMessage', 'other')).toBe('see bot[redacted]/sendMessage');
  });
});
