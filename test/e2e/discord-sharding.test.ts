import { join } from 'node:path';
import { describe, expect } from 'vitest';
import { createDiscordClient } from '../../src/adapters/discord/client.ts';
import { createPoquan } from '../../src/composition-root.ts';
import { loadConfig } from '../../src/core/config.ts';
import { createLogger } from '../../src/logging/logger.ts';
import { startFakeDiscord } from '../fakes/fake-discord.ts';
import { channelIdOf, fakeGuild, fakeUser, type Place } from '../fakes/fake-discord-fixtures.ts';
import { startFakeLlm } from '../fakes/fake-llm.ts';
import { it } from '../fixtures/it.ts';
import { cleanCwd } from '../servers/poquan-env.ts';
import { type PoquanProcess, startPoquanProcess } from '../servers/poquan-process.ts';
import { startRedisServer, withoutRedis } from '../servers/redis-server.ts';
import { type Cleanups, until } from './harness.ts';

async function clientOptions(cleanups: Cleanups, shardCount?: string, shardIds?: string) {
  const poquan = await createPoquan(
    loadConfig({
      KNOWLEDGE_DIR: 'test/fixtures/knowledge-mini',
      STORE_URL: 'memory://',
      DISCORD_TOKEN: 'fake-token',
      ...(shardCount === undefined ? {} : { SHARD_COUNT: shardCount }),
      ...(shardIds === undefined ? {} : { SHARD_IDS: shardIds }),
    }),
    createLogger('silent'),
  );
  cleanups.push(() => poquan.close());
  const { client } = createDiscordClient(poquan);
  cleanups.push(() => client.destroy());
  return { shards: client.options.shards, shardCount: client.options.shardCount };
}

describe('Discord sharding (SHARD_COUNT)', () => {
  it("hands the shard count to discord.js's own sharding: unsharded by default, N shards, or auto", async ({
    cleanups,
  }) => {
    expect(await clientOptions(cleanups)).toEqual({ shards: [0], shardCount: 1 });
    expect(await clientOptions(cleanups, '3')).toEqual({ shards: [0, 1, 2], shardCount: 3 });
    expect((await clientOptions(cleanups, 'auto')).shards).toBe('auto');
  });

  it('runs only the shards SHARD_IDS names, out of SHARD_COUNT in all', async ({ cleanups }) => {
    expect(await clientOptions(cleanups, '3', '1')).toEqual({ shards: [1], shardCount: 3 });
    expect(await clientOptions(cleanups, '4', '0, 2')).toEqual({ shards: [0, 2], shardCount: 4 });
  });

  it('refuses SHARD_IDS without a numeric SHARD_COUNT, outside it, repeated or not a list, naming the setting', () => {
    expect(() => loadConfig({ SHARD_IDS: '0' })).toThrow(
      /^Invalid configuration: SHARD_IDS: needs SHARD_COUNT set to the total number of shards/,
    );
    expect(() => loadConfig({ SHARD_COUNT: 'auto', SHARD_IDS: '0' })).toThrow(/SHARD_IDS: needs SHARD_COUNT/);
    expect(() => loadConfig({ SHARD_COUNT: '3', SHARD_IDS: '1,3' })).toThrow(
      'Invalid configuration: SHARD_IDS: shard ids run from 0 to 2 with SHARD_COUNT=3, so 3 cannot be run',
    );
    expect(() => loadConfig({ SHARD_COUNT: '3', SHARD_IDS: '1,1' })).toThrow(
      'Invalid configuration: SHARD_IDS: must not name a shard twice',
    );
    for (const bad of ['one', '0;1', '-1', '0,,1']) {
      expect(() => loadConfig({ SHARD_COUNT: '3', SHARD_IDS: bad }), bad).toThrow(
        'Invalid configuration: SHARD_IDS: must be a comma-separated list of shard ids, e.g. 0,1',
      );
    }
  });

  it('refuses anything but auto or a positive whole number, naming the setting', () => {
    for (const bad of ['0', '-2', '1.5', 'many']) {
      expect(() => loadConfig({ SHARD_COUNT: bad })).toThrow(/SHARD_COUNT: must be auto or a whole number/);
    }
  });

  it.for([
    ['auto', 'which discord.js would otherwise read itself and reject'],
    ['', 'as unset (1 shard), where discord.js would read zero shards'],
  ] as const)('starts with SHARD_COUNT=%j, %s', { timeout: 30_000 }, async ([shardCount], { cleanups }) => {
    const discord = await startFakeDiscord();
    cleanups.push(() => discord.close());
    const bot = startPoquanProcess(
      {
        KNOWLEDGE_DIR: 'test/fixtures/knowledge-mini',
        STORE_URL: 'memory://',
        DISCORD_TOKEN: discord.token,
        DISCORD_API_BASE: discord.apiBase,
        SHARD_COUNT: shardCount,
        LOG_LEVEL: 'info',
      },
      cleanCwd(),
    );
    cleanups.push(() => bot.stop('SIGKILL'));
    await bot.waitForLine('Poquan started: discord.');
    expect(discord.identifies).toEqual([expect.objectContaining({ token: '[correct]' })]);
    expect(await bot.stop('SIGTERM')).toBe(0);
    expect(bot.logs().map((entry) => entry.msg)).toContain('discord adapter stopped');
  });
});

/** Starting a process on a busy machine takes a while; four of them at once longer. */
const processTimeoutMs = 60_000;

describe('Discord shards split across instances (SHARD_IDS) on one store', () => {
  /**
   * Four `poquan start` processes share one bot token and one store: SHARD_COUNT=3 with SHARD_IDS 0, 1 and 2, and a
   * second instance of shard 1, as during a rolling restart. A mention and an `/ask` in a guild on each shard and in
   * a DM (shard 0) are each answered once: by an instance that runs the shard Discord sends the event to, and by
   * one of them only when two run it.
   */
  async function shareShards(cleanups: Cleanups, storeUrl: string) {
    const shardCount = 3;
    const guilds = [0, 1, 2].map((shard) => fakeGuild(`Shard ${shard}`, [shard, shardCount]));
    const discord = await startFakeDiscord({ guilds });
    cleanups.push(() => discord.close());
    const llm = await startFakeLlm();
    cleanups.push(() => llm.close());
    const start = (shardIds: string): PoquanProcess => {
      const bot = startPoquanProcess(
        {
          DISCORD_TOKEN: discord.token,
          DISCORD_API_BASE: discord.apiBase,
          SHARD_COUNT: String(shardCount),
          SHARD_IDS: shardIds,
          STORE_URL: storeUrl,
          KNOWLEDGE_DIR: 'test/fixtures/knowledge-mini',
          LLM_BASE_URL: llm.url,
          LLM_API_KEY: 'sk-shards',
          LLM_MAX_RETRIES: '0',
          ANSWER_CACHE_TTL_HOURS: '0',
          RATE_LIMIT_PER_MINUTE: '0',
          SHOW_REASONING: 'off',
          LOG_LEVEL: 'info',
        },
        cleanCwd(),
      );
      cleanups.push(() => bot.stop('SIGKILL'));
      return bot;
    };
    const ready = (bot: PoquanProcess) =>
      bot.waitForLog((entry) => entry.msg === 'discord adapter ready', processTimeoutMs);
    // All four start at once, and on a shared store they create its new file together.
    const instances = [
      { shard: 0, bot: start('0') },
      { shard: 1, bot: start('1') },
      { shard: 2, bot: start('2') },
      { shard: 1, bot: start('1') },
    ];
    await Promise.all(instances.map(({ bot }) => ready(bot)));
    expect(discord.identifies.map((identify) => identify.shard).sort()).toEqual([
      [0, 3],
      [1, 3],
      [1, 3],
      [2, 3],
    ]);
    // Each instance was given the guild of its shard, and only that one.
    for (const { shard, bot } of instances) {
      expect(bot.logs().find((entry) => entry.msg === 'discord adapter ready')).toMatchObject({
        guilds: 1,
        shards: [shard],
      });
    }

    const asker = fakeUser({ username: 'asker' });
    const places: Array<{ shard: number; place: Place }> = [
      ...guilds.map((guild, shard) => ({
        shard,
        place: { guild, channel: guild.channels.find((c) => c.type === 0) } as Place,
      })),
      { shard: 0, place: discord.dmWith(asker) },
    ];
    const questions = places.flatMap(({ shard, place }) => {
      const mention = discord.sendUserMessage({
        place,
        author: asker,
        content: `<@${discord.botUser.id}> Who founded DeepSeek?`,
        mentions: [discord.botUser],
      });
      const slash = discord.sendSlashCommand({
        place,
        user: asker,
        name: 'ask',
        options: { question: 'Who founded High-Flyer?' },
      });
      return [
        { shard, place, requestId: mention.id, mention: mention.id },
        { shard, place, requestId: slash.id, token: slash.token },
      ];
    });
    const answered = () =>
      instances.flatMap(({ shard, bot }) =>
        bot
          .logs()
          .filter((entry) => entry.msg === 'answered')
          .map((entry) => ({ shard, requestId: entry.requestId })),
      );
    /** Warnings and errors of every instance, to tell why if an expectation below fails. */
    const warnings = () =>
      instances
        .flatMap(({ shard, bot }) =>
          bot.lines.filter((line) => /"level":[4-6]0/.test(line)).map((l) => `${shard}: ${l}`),
        )
        .join('\n');
    await until(() => answered().length >= questions.length, 'every question answered', processTimeoutMs);
    // A stopped instance has finished what it started: nothing can be answered a second time after this.
    const exits = await Promise.all(instances.map(({ bot }) => bot.stop('SIGTERM')));
    expect(exits, warnings()).toEqual([0, 0, 0, 0]);

    for (const question of questions) {
      expect(
        answered().filter((answer) => answer.requestId === question.requestId),
        `question ${question.requestId} on shard ${question.shard}\n${warnings()}`,
      ).toEqual([{ shard: question.shard, requestId: question.requestId }]);
      if (question.token) {
        expect(discord.requests.filter((r) => r.path.endsWith(`/${question.token}/callback`))).toHaveLength(
          1,
        );
        expect(discord.originalMessage(question.token)?.content).toMatch(/^According to the knowledge file/);
      } else {
        const replies = [...discord.messages.values()].filter(
          (message) =>
            message.channel_id === channelIdOf(question.place) &&
            message.message_reference?.message_id === question.mention,
        );
        expect(replies.map((reply) => reply.content)).toEqual([
          expect.stringMatching(/^According to the knowledge file/),
        ]);
      }
    }
    expect(llm.requests, warnings()).toHaveLength(questions.length);
  }

  it(
    'answers each guild and DM question exactly once with a shared SQLite file',
    async ({ cleanups }) => {
      await shareShards(cleanups, `sqlite://${join(cleanCwd(), 'shards.sqlite')}`);
    },
    4 * processTimeoutMs,
  );

  describe.skipIf(withoutRedis)('with Redis', () => {
    it(
      'answers each guild and DM question exactly once with a shared Redis',
      async ({ cleanups }) => {
        const redis = await startRedisServer();
        cleanups.push(() => redis.stop());
        await shareShards(cleanups, redis.url);
      },
      4 * processTimeoutMs,
    );
  });
});
