import { describe, expect, it } from 'vitest';
import { buildDiscordCommands } from '../../src/adapters/discord/application-commands.ts';
import { diffCommands } from '../../src/adapters/discord/deploy.ts';
import { loadConfig } from '../../src/core/config.ts';

const config = loadConfig({ MAX_QUESTION_CHARS: '1000' });

describe('Discord application commands', () => {
  it('declares every Discord command from commands/ plus the "Ask Poquan" message command', () => {
    const commands = buildDiscordCommands(config, 'global');
    expect(commands.map((c) => [c.type, c.name])).toEqual([
      [1, 'ask'],
      [1, 'sources'],
      [1, 'reset'],
      [1, 'about'],
      [1, 'help'],
      [1, 'usage'],
      [1, 'reload'],
      [1, 'stats'],
      [3, 'Ask Poquan'],
    ]);
    for (const command of commands) {
      expect(command.contexts).toEqual([0, 1]);
      expect(command.integration_types).toEqual([0]);
    }
    expect(commands.at(-1)).toEqual({
      type: 3,
      name: 'Ask Poquan',
      name_localizations: { 'zh-CN': '问破圈' },
      contexts: [0, 1],
      integration_types: [0],
    });
  });

  it('gives /ask a required question limited to MAX_QUESTION_CHARS and an optional private flag, in two languages', () => {
    const ask = buildDiscordCommands(config, 'global')[0];
    expect(ask).toMatchObject({
      description: "Ask a question about China's AI race; the answer cites its sources",
      description_localizations: { 'zh-CN': '提问关于中国人工智能竞赛的问题，回答附带出处' },
      options: [
        {
          type: 3,
          name: 'question',
          required: true,
          max_length: 1000,
          description: 'Your question, in English or Chinese',
          description_localizations: { 'zh-CN': '你的问题（中文或英文）' },
        },
        { type: 5, name: 'private', required: false, description_localizations: { 'zh-CN': '仅自己可见' } },
      ],
    });
  });

  it('shows the operator commands to administrators only, and every other command to everyone', () => {
    for (const scope of ['global', 'guild'] as const) {
      const permissions = buildDiscordCommands(config, scope).map((c) => [
        c.name,
        c.default_member_permissions,
      ]);
      expect(permissions).toEqual([
        ['ask', undefined],
        ['sources', undefined],
        ['reset', undefined],
        ['about', undefined],
        ['help', undefined],
        ['usage', undefined],
        ['reload', '0'],
        ['stats', '0'],
        ['Ask Poquan', undefined],
      ]);
    }
  });

  it('stays within Discord limits and leaves installation contexts out of guild registrations', () => {
    for (const command of buildDiscordCommands(config, 'guild')) {
      expect(command).not.toHaveProperty('contexts');
      expect(command).not.toHaveProperty('integration_types');
      if (command.type === 1) {
        expect(command.name).toMatch(/^[a-z0-9_]{1,32}$/);
        expect(command.description.length).toBeLessThanOrEqual(100);
      }
    }
  });
});

describe('command diff', () => {
  it("compares with what Discord returns, ignoring ids, versions and Discord's defaults", () => {
    const desired = buildDiscordCommands(config, 'global');
    const registered = desired.map((command) => ({
      ...command,
      id: '1',
      application_id: '1000',
      version: '2',
      default_member_permissions: command.default_member_permissions ?? null,
      nsfw: false,
      ...('options' in command && command.options
        ? {
            options: command.options.map(({ required, ...option }) =>
              required ? { ...option, required } : option,
            ),
          }
        : {}),
    }));
    const stale = registered.filter((command) => command.name !== 'help');
    const changed = stale.map((command) =>
      command.name === 'about' ? { ...command, description: 'Old text' } : command,
    );
    changed.push({ ...changed[0], name: 'old_command' } as (typeof changed)[number]);
    const visibleToAll = registered.map((command) => ({ ...command, default_member_permissions: null }));

    expect(diffCommands(registered, desired)).toEqual({
      added: [],
      updated: [],
      removed: [],
      unchanged: [
        '/ask',
        '/sources',
        '/reset',
        '/about',
        '/help',
        '/usage',
        '/reload',
        '/stats',
        '"Ask Poquan" (message menu)',
      ],
    });
    expect(diffCommands(changed, desired)).toEqual({
      added: ['/help'],
      updated: ['/about'],
      removed: ['/old_command'],
      unchanged: ['/ask', '/sources', '/reset', '/usage', '/reload', '/stats', '"Ask Poquan" (message menu)'],
    });
    expect(diffCommands(visibleToAll, desired).updated).toEqual(['/reload', '/stats']);
  });
});
