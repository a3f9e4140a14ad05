import { describe, expect } from 'vitest';
import type { FakeChat } from '../fakes/fake-telegram.ts';
import { it } from '../fixtures/it.ts';
import { foundersQuestion, startTelegramHarness } from './harness.ts';

/**
 * `DEFAULT_LANGUAGE` picks the language of interface texts when a message has no words to go by (a bare
 * command); `auto` follows the user's app language. Replies to a question follow the question's language.
 */

const mei = { id: 44, is_bot: false, first_name: 'Mei', language_code: 'zh-hans' };
const meiChat: FakeChat = { id: 44, type: 'private', first_name: 'Mei' };

describe('DEFAULT_LANGUAGE', () => {
  it('auto follows each user’s Telegram language for a bare command', async ({ cleanups }) => {
    const bot = await startTelegramHarness(cleanups);
    expect((await bot.ask('/usage'))[0]).toContain('Your usage today');
    expect((await bot.ask('/usage', meiChat, mei))[0]).toContain('你今天的用量');
  });

  it('zh words bare commands in Chinese for everyone, while a refusal to an English question stays English', async ({
    cleanups,
  }) => {
    const bot = await startTelegramHarness(cleanups, {
      DEFAULT_LANGUAGE: 'zh',
      BUDGET_USER_DAILY_TOKENS: '10',
    });
    expect((await bot.ask('/usage'))[0]).toContain('你今天的用量');
    await bot.ask(foundersQuestion);
    expect((await bot.ask(foundersQuestion))[0]).toMatch(/^You have used up your token budget/);
  });

  it('en words bare commands in English even for a user whose app is in Chinese', async ({ cleanups }) => {
    const bot = await startTelegramHarness(cleanups, { DEFAULT_LANGUAGE: 'en' });
    expect((await bot.ask('/usage', meiChat, mei))[0]).toContain('Your usage today');
  });
});
