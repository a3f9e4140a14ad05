import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { createAccessPolicy, platformOfUserKey, userKeyOf } from '../../src/core/access.ts';
import { loadConfig } from '../../src/core/config.ts';

const policy = createAccessPolicy(
  loadConfig({
    TELEGRAM_ALLOWED_CHAT_IDS: '-1001',
    TELEGRAM_ADMIN_IDS: '42',
    DISCORD_ALLOWED_GUILD_IDS: '900',
    DISCORD_ADMIN_IDS: '7001',
  }),
);

describe('access policy', () => {
  it('admits allowlisted chats and guilds only', () => {
    const telegram = { platform: 'telegram', isPrivate: false, userKey: 'telegram:43' } as const;
    expect(policy.mayUse({ ...telegram, placeId: -1001 })).toBe(true);
    expect(policy.mayUse({ ...telegram, placeId: -1002 })).toBe(false);
    const discord = { platform: 'discord', isPrivate: false, userKey: 'discord:7002' } as const;
    expect(policy.mayUse({ ...discord, placeId: '900' })).toBe(true);
    expect(policy.mayUse({ ...discord, placeId: '901' })).toBe(false);
    expect(policy.mayUse({ ...discord, placeId: undefined, isPrivate: true })).toBe(false);
  });

  it('lets an admin talk to the bot privately outside the allowlist, but not in other groups', () => {
    expect(
      policy.mayUse({ platform: 'telegram', placeId: 42, isPrivate: true, userKey: 'telegram:42' }),
    ).toBe(true);
    expect(
      policy.mayUse({ platform: 'telegram', placeId: -5, isPrivate: false, userKey: 'telegram:42' }),
    ).toBe(false);
    expect(
      policy.mayUse({ platform: 'discord', placeId: undefined, isPrivate: true, userKey: 'discord:7001' }),
    ).toBe(true);
  });

  it('grants admin rights by listing only, never across platforms, never to an unknown sender', () => {
    expect(policy.isAdmin('telegram:42')).toBe(true);
    expect(policy.isAdmin('discord:7001')).toBe(true);
    expect(policy.isAdmin('discord:42')).toBe(false);
    expect(policy.isAdmin('telegram:7001')).toBe(false);
    expect(policy.isAdmin('telegram:chat:42')).toBe(false);
    expect(policy.isAdmin(undefined)).toBe(false);
    expect(createAccessPolicy(loadConfig({})).isAdmin('telegram:42')).toBe(false);
    expect(
      createAccessPolicy(loadConfig({})).mayUse({
        platform: 'discord',
        placeId: '1',
        isPrivate: false,
        userKey: undefined,
      }),
    ).toBe(true);
  });

  it('names people by platform and id', () => {
    expect(userKeyOf('telegram', 42)).toBe('telegram:42');
    expect(platformOfUserKey('discord:7001')).toBe('discord');
    expect(platformOfUserKey('nonsense')).toBe('unknown');
  });

  it('documents the admin settings in the README configuration table and its security section', async () => {
    const readme = await readFile(new URL('../../README.md', import.meta.url), 'utf8');
    expect(readme).toContain('| `TELEGRAM_ADMIN_IDS`, `DISCORD_ADMIN_IDS` |');
    const security = readme.slice(readme.indexOf('## Security and reliability'));
    for (const setting of ['TELEGRAM_ADMIN_IDS', 'DISCORD_ADMIN_IDS', '/reload', '/stats']) {
      expect(security).toContain(setting);
    }
  });

  it('reads the admin lists as numeric ids and rejects anything else', () => {
    expect(loadConfig({ TELEGRAM_ADMIN_IDS: '42, 43', DISCORD_ADMIN_IDS: '7001' })).toMatchObject({
      telegram: { adminIds: ['42', '43'] },
      discord: { adminIds: ['7001'] },
    });
    expect(() => loadConfig({ TELEGRAM_ADMIN_IDS: '@ada' })).toThrow(/TELEGRAM_ADMIN_IDS/);
  });
});
