import { spawn } from 'node:child_process';
import { afterEach, describe, expect, it } from 'vitest';
import { createDiscordClient } from '../../src/adapters/discord/client.ts';
import { loadConfig } from '../../src/core/config.ts';
import { createLogger } from '../../src/core/logger.ts';
import { createPoquan } from '../../src/poquan.ts';
import { startFakeDiscord } from '../fakes/fake-discord.ts';
import { cleanCwd, poquanEnv } from '../servers/poquan-env.ts';

const cleanups: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function clientOptions(shardCount?: string) {
  const poquan = await createPoquan(
    loadConfig({
      KNOWLEDGE_DIR: 'test/fixtures/knowledge-mini',
      STORE_URL: 'memory://',
      DISCORD_TOKEN: 'fake-token',
      ...(shardCount === undefined ? {} : { SHARD_COUNT: shardCount }),
    }),
    createLogger('silent'),
  );
  cleanups.push(() => poquan.close());
  const { client } = createDiscordClient(poquan);
  cleanups.push(() => client.destroy());
  return { shards: client.options.shards, shardCount: client.options.shardCount };
}

describe('Discord sharding (SHARD_COUNT)', () => {
  it("hands the shard count to discord.js's own sharding: unsharded by default, N shards, or auto", async () => {
    expect(await clientOptions()).toEqual({ shards: [0], shardCount: 1 });
    expect(await clientOptions('3')).toEqual({ shards: [0, 1, 2], shardCount: 3 });
    expect((await clientOptions('auto')).shards).toBe('auto');
  });

  it('refuses anything but auto or a positive whole number, naming the setting', () => {
    for (const bad of ['0', '-2', '1.5', 'many']) {
      expect(() => loadConfig({ SHARD_COUNT: bad })).toThrow(/SHARD_COUNT: must be auto or a whole number/);
    }
  });

  it.each([
    ['auto', 'which discord.js would otherwise read itself and reject'],
    ['', 'as unset (1 shard), where discord.js would read zero shards'],
  ])(
    'starts with SHARD_COUNT=%j, %s',
    async (shardCount) => {
      const discord = await startFakeDiscord();
      cleanups.push(() => discord.close());
      const child = spawn(
        process.execPath,
        [new URL('../../bin/poquan.js', import.meta.url).pathname, 'start'],
        {
          cwd: cleanCwd(),
          env: poquanEnv({
            KNOWLEDGE_DIR: 'test/fixtures/knowledge-mini',
            STORE_URL: 'memory://',
            DISCORD_TOKEN: discord.token,
            DISCORD_API_BASE: discord.apiBase,
            SHARD_COUNT: shardCount,
            LOG_LEVEL: 'info',
          }),
          stdio: ['ignore', 'ignore', 'pipe'],
        },
      );
      let stderr = '';
      child.stderr.on('data', (chunk: Buffer) => {
        stderr += chunk.toString();
      });
      const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
      cleanups.push(async () => {
        if (child.exitCode === null) child.kill('SIGKILL');
        await exited;
      });
      await expect.poll(() => stderr, { timeout: 15_000 }).toContain('Poquan started: discord.');
      expect(discord.identifies).toEqual([expect.objectContaining({ token: '[correct]' })]);
      child.kill('SIGTERM');
      expect(await exited).toBe(0);
      expect(stderr).toContain('"msg":"discord adapter stopped"');
    },
    30_000,
  );
});
