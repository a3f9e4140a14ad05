import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseTelegramHtml } from '../fakes/fake-telegram.ts';
import {
  type Cleanups,
  type DiscordHarness,
  messageWrites,
  runCleanups,
  startDiscordHarness,
  startTelegramHarness,
  type TelegramHarness,
} from './harness.ts';

/**
 * Whatever a user types — nothing, blanks, a wall of emoji, broken UTF-16, markup meant to break the platform's
 * parser — the bot answers it normally or with one short, clear sentence. It never throws, and never sends a
 * request the platform would refuse: the fakes parse Telegram HTML as Telegram does, check lengths and empty
 * texts, and Discord's 2000-character limit, so any malformed request shows up as a failed call.
 */

const answered = /\[1\][\s\S]*(Sources|-# Sources)/;

interface HostileCase {
  name: string;
  /** What the user sends; Telegram gets `telegram` instead when set (Telegram can't deliver an empty text). */
  text: string;
  telegram?: string;
  expect: RegExp;
}

const hostileMarkup =
  '<b>Who</b> founded </i>High-Flyer? ``` **[x](javascript:alert(1)) <tg-spoiler> &amp; </blockquote> ||spoiler|| ~~ > # _';

const cases: HostileCase[] = [
  {
    name: 'an empty question',
    text: '',
    telegram: '/ask',
    expect: /^Please add a question after the command/,
  },
  { name: 'only whitespace', text: ' \n\t  \n ', expect: /^Please add a question after the command/ },
  {
    name: 'a question over MAX_QUESTION_CHARS',
    text: 'Who founded DeepSeek? '.repeat(60),
    expect: /^Your question is 1319 characters long; the limit is 1000\. Please shorten it\.$/,
  },
  {
    name: 'control characters',
    text: 'Who\u0000 founded\u0007 High-Flyer?\u001b[31m\u007f',
    expect: answered,
  },
  { name: 'invalid UTF-16 surrogates', text: '\udfffWho founded \ud800High-Flyer?\ud83d', expect: answered },
  {
    name: 'nothing but zero-width characters',
    text: '\u200b\u200c\u200d\u2060\ufeff',
    expect: /^Please ask a question, for example: "Who founded DeepSeek\?"$/,
  },
  {
    name: 'zero-width characters inside words',
    text: 'Who\u200b founded Hi\u200dgh-Flyer?',
    expect: answered,
  },
  {
    name: '10,000 emoji',
    text: '😀'.repeat(10_000),
    expect: /^Your question is 10000 characters long; the limit is 1000\. Please shorten it\.$/,
  },
  { name: 'HTML and Markdown meant to break the markup', text: hostileMarkup, expect: answered },
];

const cleanups: Cleanups = [];
afterAll(() => runCleanups(cleanups));

describe('hostile input through Telegram', () => {
  let bot: TelegramHarness;
  beforeAll(async () => {
    // Reasoning shown: the fake model's reasoning repeats the question, so the question reaches the chat too.
    bot = await startTelegramHarness(cleanups, { SHOW_REASONING: 'collapsed' }, { quietMs: 100 });
  });

  it.each(cases)('answers $name with one clear reply and no rejected call', async (hostile) => {
    const callsBefore = bot.telegram.calls.length;
    const replies = await bot.ask(hostile.telegram ?? hostile.text);
    expect(replies).toHaveLength(1);
    expect(replies[0]).toMatch(hostile.expect);
    if (hostile.expect !== answered) expect((replies[0] as string).length).toBeLessThan(200);
    const calls = bot.telegram.calls.slice(callsBefore);
    expect(calls.filter((call) => !call.ok)).toEqual([]);
    for (const call of calls.filter((c) => typeof c.body?.text === 'string')) {
      expect(call.body.text.isWellFormed()).toBe(true);
    }
    expect(bot.logs.errors()).toEqual([]);
  });

  it('shows the hostile question literally in /sources, as valid markup', async () => {
    await bot.ask(hostileMarkup);
    const [sources] = await bot.ask('/sources');
    expect(sources).toContain('<b>Who</b> founded </i>High-Flyer?');
    const sent = bot.telegram.callsOf('sendMessage').at(-1);
    expect(sent?.ok).toBe(true);
    expect(() => parseTelegramHtml(sent?.body.text)).not.toThrow();
  });
});

describe('hostile input through Discord', () => {
  let bot: DiscordHarness;
  beforeAll(async () => {
    bot = await startDiscordHarness(cleanups, { SHOW_REASONING: 'collapsed' }, { quietMs: 100 });
  });

  it.each(cases)('answers $name in /ask with one clear reply and no rejected call', async (hostile) => {
    const requestsBefore = bot.discord.requests.length;
    const replies = await bot.askSlash(hostile.text);
    expect(replies).toHaveLength(1);
    expect(replies[0]).toMatch(hostile.expect);
    if (hostile.expect !== answered) expect((replies[0] as string).length).toBeLessThan(200);
    const requests = bot.discord.requests.slice(requestsBefore);
    expect(requests.filter((r) => r.status >= 400)).toEqual([]);
    expect(bot.logs.errors()).toEqual([]);
  });

  it.each(cases.filter((c) => c.text.trim()))(
    'answers $name in a mention with one clear reply and no rejected call',
    async (hostile) => {
      const requestsBefore = bot.discord.requests.length;
      const replies = await bot.mention(hostile.text);
      expect(replies).toHaveLength(1);
      expect(replies[0]).toMatch(hostile.expect);
      expect(bot.discord.requests.slice(requestsBefore).filter((r) => r.status >= 400)).toEqual([]);
      expect(bot.logs.errors()).toEqual([]);
    },
  );

  it('keeps every message within 2000 characters with its code fences closed, /sources included', async () => {
    await bot.askSlash(hostileMarkup);
    const [sources] = await bot.command('sources');
    expect(sources).toContain('Who');
    for (const write of messageWrites(bot.discord)) {
      const content = String(write.body?.content ?? write.body?.data?.content ?? '');
      expect(content.length).toBeLessThanOrEqual(2000);
      expect((content.match(/```/g) ?? []).length % 2).toBe(0);
    }
  });
});
