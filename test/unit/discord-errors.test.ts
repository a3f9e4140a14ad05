import { DiscordAPIError } from 'discord.js';
import { describe, expect, it } from 'vitest';
import { safeErrorFields } from '../../src/adapters/discord/errors.ts';
import { LlmError } from '../../src/core/errors.ts';

describe('Discord error log fields', () => {
  it("keep Discord's code and status but not the URL or body, which hold the interaction token and user text", () => {
    const error = new DiscordAPIError(
      { message: 'Invalid Webhook Token', code: 50027 },
      50027,
      401,
      'PATCH',
      'http://127.0.0.1:9/api/v10/webhooks/1000/secret-interaction-token/messages/@original',
      { body: { content: 'private answer' } },
    );
    const fields = safeErrorFields(error);
    expect(fields).toEqual({
      name: 'DiscordAPIError',
      code: 50027,
      status: 401,
      method: 'PATCH',
      message: 'Invalid Webhook Token',
    });
    expect(JSON.stringify(fields)).not.toMatch(/secret-interaction-token|private answer/);
  });

  it('redact tokens from the paths other errors mention', () => {
    const error = new Error('request to http://127.0.0.1/api/v10/interactions/42/tok-abc/callback failed');
    expect(safeErrorFields(error).message).toBe(
      'request to http://127.0.0.1/api/v10/interactions/42/[token]/callback failed',
    );
  });

  it('describe model failures by kind', () => {
    expect(safeErrorFields(new LlmError('rate_limit', 'x', { status: 429 }))).toEqual({
      name: 'LlmError',
      kind: 'rate_limit',
      status: 429,
    });
  });
});
