import { cp, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect } from 'vitest';
import { fakeUser } from '../fakes/fake-discord-fixtures.ts';
import type { FakeChat } from '../fakes/fake-telegram.ts';
import { it } from '../fixtures/it.ts';
import { ada, adaChat, type Cleanups, group, startDiscordHarness, startTelegramHarness } from './harness.ts';

/**
 * The bot obeys only its operator: allowlisted chats and guilds may use it, everyone else is ignored (Telegram)
 * or told politely (Discord), and the operator commands `/reload` and `/stats` run only for the admins listed in
 * TELEGRAM_ADMIN_IDS / DISCORD_ADMIN_IDS. The decisions are the core's; the adapters only report who asks where.
 */

const bo = { id: 43, is_bot: false, first_name: 'Bo', language_code: 'en' };
const boChat: FakeChat = { id: 43, type: 'private', first_name: 'Bo' };
const otherGroup: FakeChat = { id: -1009, type: 'supergroup', title: 'Elsewhere' };
const refusal = (command: string) => `Sorry, /${command} is only for this bot's operators.`;

/** A copy of the mini knowledge that `/reload` tests may add files to, removed when the test ends. */
async function knowledgeCopy(cleanups: Cleanups): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'poquan-access-'));
  cleanups.push(() => rm(dir, { recursive: true, force: true }));
  await cp('test/fixtures/knowledge-mini/mini.md', join(dir, 'mini.md'));
  return dir;
}

describe('access on Telegram', () => {
  it('ignores chats off the allowlist, except an admin in a private chat', async ({ cleanups }) => {
    const bot = await startTelegramHarness(cleanups, {
      TELEGRAM_ALLOWED_CHAT_IDS: String(group.id),
      TELEGRAM_ADMIN_IDS: String(ada.id),
    });
    bot.telegram.pushMessage({ chat: boChat, from: bo, text: 'Who founded High-Flyer?' });
    bot.telegram.pushMessage({ chat: otherGroup, from: ada, text: '/ask Who founded High-Flyer?' });
    expect(await bot.ask('/ask Who founded High-Flyer?', group, bo)).toEqual([
      expect.stringMatching(/\[1\]/),
    ]);
    expect(await bot.ask('Who founded High-Flyer?', adaChat, ada)).toEqual([expect.stringMatching(/\[1\]/)]);
    const spokenTo = new Set(bot.telegram.calls.map((call) => Number(call.body?.chat_id)).filter(Boolean));
    expect(spokenTo).toEqual(new Set([group.id, adaChat.id]));
    expect(bot.llm.requests).toHaveLength(2);
  });

  it('runs /stats and /reload for an admin only, and keeps them out of the public menu', async ({
    cleanups,
  }) => {
    const knowledgeDir = await knowledgeCopy(cleanups);
    const bot = await startTelegramHarness(cleanups, {
      KNOWLEDGE_DIR: knowledgeDir,
      TELEGRAM_ADMIN_IDS: String(ada.id),
    });
    expect(bot.telegram.commands.get('')?.map((c) => c.command)).not.toContain('stats');
    expect(bot.telegram.commands.get('zh')?.map((c) => c.command)).not.toContain('reload');
    await bot.ask('/ask Who founded High-Flyer?', group, bo);

    expect(await bot.ask('/stats', group, bo)).toEqual([refusal('stats')]);
    expect(await bot.ask('/reload', boChat, bo)).toEqual([refusal('reload')]);
    const [stats] = await bot.ask('/stats', group, ada);
    expect(stats).toMatch(/^Usage and cost\nToday \(UTC\): answers 1 · tokens \d+/);
    expect(stats).toContain('Usage since start');
    expect(stats).toContain('Questions: 1 (answered 1)');
    expect(stats).toContain('Platforms: telegram 1');
    expect(stats).toMatch(/Model tokens: .*prompt \d+/);

    const before = bot.poquan.knowledge().version;
    expect(await bot.ask('/reload', adaChat, ada)).toEqual([`Knowledge unchanged (version ${before}).`]);
    await writeFile(join(knowledgeDir, 'extra.md'), '# Extra\n\n## Kimi\n\nMoonshot AI makes Kimi.\n');
    const [reloaded] = await bot.ask('/reload', adaChat, ada);
    expect(reloaded).toMatch(/^Knowledge reloaded: version [0-9a-f]{12}, 3 passages\.$/);
    await writeFile(join(knowledgeDir, 'broken.md'), '---\ntitle: Empty\n---\n');
    const [failed] = await bot.ask('/reload', adaChat, ada);
    expect(failed).toMatch(
      /^Reload failed; still on version [0-9a-f]{12}: Knowledge file ".*broken\.md" has no text/,
    );
    expect(bot.logs.entries().filter((e) => e.msg === 'operator command refused: not an admin')).toHaveLength(
      2,
    );
  });
});

describe('access on Discord', () => {
  const admin = fakeUser({ id: '555000000000000001', username: 'operator' });
  const member = fakeUser({ id: '555000000000000002', username: 'member' });

  it('tells other guilds and DMs it is not enabled there, except an admin in a DM', async ({ cleanups }) => {
    const bot = await startDiscordHarness(cleanups, {
      DISCORD_ALLOWED_GUILD_IDS: '123456789012345678',
      DISCORD_ADMIN_IDS: admin.id,
    });
    const notEnabled = /^Poquan isn't enabled here\. The operator can allow this server/;
    expect(await bot.askSlash('Who founded DeepSeek?', member)).toEqual([expect.stringMatching(notEnabled)]);
    expect(await bot.askSlash('Who founded DeepSeek?', admin)).toEqual([expect.stringMatching(notEnabled)]);
    const dm = bot.discord.dmWith(member);
    const interaction = bot.discord.sendSlashCommand({ place: dm, user: member, name: 'stats' });
    const callback = await bot.discord.waitForRequest((r) => r.path.includes(interaction.token));
    expect(callback.body.data.content).toMatch(notEnabled);
    const adminDm = bot.discord.dmWith(admin);
    const stats = bot.discord.sendSlashCommand({ place: adminDm, user: admin, name: 'stats' });
    const shown = await bot.discord.waitForRequest(
      (r) => r.path.includes(stats.token) && /^\*\*Usage and cost\*\*/.test(String(r.body?.content)),
    );
    expect(shown.method).toBe('PATCH');
    expect(bot.llm.requests).toHaveLength(0);
  });

  it('runs /stats and /reload for an admin only', async ({ cleanups }) => {
    const knowledgeDir = await knowledgeCopy(cleanups);
    const bot = await startDiscordHarness(cleanups, {
      KNOWLEDGE_DIR: knowledgeDir,
      DISCORD_ADMIN_IDS: admin.id,
    });
    await bot.askSlash('Who founded DeepSeek?', member);
    expect(await bot.command('stats', {}, member)).toEqual([refusal('stats')]);
    expect(await bot.command('reload', {}, member)).toEqual([refusal('reload')]);
    const [stats] = await bot.command('stats', {}, admin);
    expect(stats).toContain('Questions: 1 (answered 1)');
    expect(stats).toContain('Platforms: discord 1');
    expect(await bot.command('reload', {}, admin)).toEqual([
      `Knowledge unchanged (version ${bot.poquan.knowledge().version}).`,
    ]);
    // Operator replies are ephemeral: only the admin sees them.
    const callbacks = bot.discord.requests.filter((r) => r.path.endsWith('/callback'));
    expect(callbacks.slice(1).every((r) => r.body?.data?.flags === 64)).toBe(true);
  });
});
