import { describe, expect } from 'vitest';
import { discordErrors, startFakeDiscord } from '../fakes/fake-discord.ts';
import { it } from '../fixtures/it.ts';
import { freePort } from '../servers/free-port.ts';
import { cleanCwd } from '../servers/poquan-env.ts';
import { runPoquan } from '../servers/poquan-process.ts';

/**
 * `poquan deploy-commands` as a self-hoster runs it: whatever stops the registration, Discord out of reach, the
 * token rejected or the application refused, is one line naming the setting to check, exit code 1, and the
 * token is never printed.
 */

const token = 'MTAwMA.deploy-commands-token.0123456789abcdef';

async function deploy(settings: Record<string, string>) {
  const run = await runPoquan(
    ['deploy-commands'],
    {
      NO_COLOR: '1',
      STORE_URL: 'memory://',
      DISCORD_TOKEN: token,
      DISCORD_APPLICATION_ID: '1000',
      ...settings,
    },
    cleanCwd(),
  );
  expect(run.stdout + run.stderr).not.toContain(token);
  expect(run.stdout + run.stderr).not.toMatch(/"level"|"msg"|"stack"|^ {4}at /m);
  return run;
}

describe('poquan deploy-commands', () => {
  it('says Discord could not be reached at DISCORD_API_BASE when nothing listens there', async () => {
    const port = await freePort();
    const run = await deploy({ DISCORD_API_BASE: `http://127.0.0.1:${port}/api` });
    expect(run.code).toBe(1);
    expect(run.stderr).toBe(
      `poquan: Could not reach Discord's API at DISCORD_API_BASE (http://127.0.0.1:${port}/api): connection refused (ECONNREFUSED). Check the URL and the network; \`poquan doctor\` checks every setting.\n`,
    );
  });

  it('names DISCORD_TOKEN when Discord rejects it (401)', async ({ cleanups }) => {
    const discord = await startFakeDiscord();
    cleanups.push(() => discord.close());
    const run = await deploy({ DISCORD_API_BASE: discord.apiBase });
    expect(run.code).toBe(1);
    expect(discord.requests.map((request) => request.status)).toEqual([401]);
    expect(run.stderr).toBe(
      'poquan: Discord rejected DISCORD_TOKEN (401 Unauthorized). Check the bot token in the Developer Portal (your application → Bot → Reset Token).\n',
    );
  });

  it('names the guild, the applications.commands scope and the application when Discord refuses the registration (403)', async ({
    cleanups,
  }) => {
    const discord = await startFakeDiscord({ token });
    cleanups.push(() => discord.close());
    discord.failNext('PUT /applications/*/guilds/*/commands', 1, discordErrors.missingAccess());
    const guild = discord.guild.id;
    const run = await deploy({ DISCORD_API_BASE: discord.apiBase, DISCORD_GUILD_ID: guild });
    expect(run.code).toBe(1);
    expect(run.stderr).toBe(
      `poquan: Discord refused the commands of application 1000 in guild ${guild} (403 Missing Access): the bot must be in the DISCORD_GUILD_ID server, invited with the applications.commands scope, and DISCORD_APPLICATION_ID must be the application DISCORD_TOKEN belongs to (\`poquan doctor\` shows which).\n`,
    );
  });

  it('names DISCORD_API_BASE and the status when Discord keeps failing (5xx)', async ({ cleanups }) => {
    const discord = await startFakeDiscord({ token });
    cleanups.push(() => discord.close());
    discord.failNext('GET /applications/*/commands', 4, discordErrors.serverError());
    const run = await deploy({ DISCORD_API_BASE: discord.apiBase });
    expect(run.code).toBe(1);
    expect(run.stderr).toBe(
      `poquan: Discord's API at DISCORD_API_BASE (${discord.apiBase}) answered the command registration with HTTP 500 (Internal Server Error).\n`,
    );
  });
});
