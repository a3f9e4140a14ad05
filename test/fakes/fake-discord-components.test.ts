import type { APIMessage } from 'discord.js';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type FakeDiscord, startFakeDiscord } from './fake-discord.ts';
import { channelIdOf, fakeUser } from './fake-discord-fixtures.ts';

let fake: FakeDiscord;
const auth = { authorization: 'Bot fake-token', 'content-type': 'application/json' };
const row = (customId: string) => ({
  type: 1,
  components: [{ type: 2, style: 2, custom_id: customId, emoji: { name: '👍' } }],
});

beforeEach(async () => {
  fake = await startFakeDiscord();
});
afterEach(async () => {
  await fake.close();
});

function rest(method: string, path: string, body?: unknown, headers: Record<string, string> = auth) {
  return fetch(`${fake.apiBase}/v10${path}`, {
    method,
    headers,
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
}

async function botMessageWithButton(customId = 'fb:abc:up'): Promise<APIMessage> {
  const response = await rest('POST', `/channels/${channelIdOf(fake.channel)}/messages`, {
    content: 'answer',
    components: [row(customId)],
  });
  return (await response.json()) as APIMessage;
}

describe('fake Discord message components', () => {
  it('stores buttons on messages and rejects a custom_id over 100 characters', async () => {
    const message = await botMessageWithButton();
    expect(fake.messages.get(message.id)?.components).toEqual([row('fb:abc:up')]);
    const tooLong = await rest('POST', `/channels/${channelIdOf(fake.channel)}/messages`, {
      content: 'x',
      components: [row('x'.repeat(101))],
    });
    expect(tooLong.status).toBe(400);
    expect(await tooLong.json()).toMatchObject({
      code: 50035,
      errors: { components: { 0: { components: {} } } },
    });
  });

  it('dispatches a button press as a MESSAGE_COMPONENT interaction carrying the message', async () => {
    const message = await botMessageWithButton();
    const user = fakeUser();
    const press = fake.clickButton({ place: fake.channel, user, message, customId: 'fb:abc:up' });
    expect(press).toMatchObject({
      type: 3,
      data: { custom_id: 'fb:abc:up', component_type: 2 },
      message: { id: message.id, components: [row('fb:abc:up')] },
      member: { user: { id: user.id } },
    });
    expect(() => fake.clickButton({ place: fake.channel, user, message, customId: 'nope' })).toThrow(
      /no button/,
    );
  });

  it('accepts a deferred update (type 6) for a press, making the pressed message @original, and no second ack', async () => {
    const message = await botMessageWithButton();
    const press = fake.clickButton({ place: fake.channel, user: fakeUser(), message, customId: 'fb:abc:up' });
    const callback = `/interactions/${press.id}/${press.token}/callback`;
    const ack = await rest('POST', callback, { type: 6 }, { 'content-type': 'application/json' });
    expect(ack.status).toBe(204);
    expect(ack.headers.get('content-type')).toBeNull();
    const again = await rest('POST', callback, { type: 6 }, { 'content-type': 'application/json' });
    expect(((await again.json()) as { code: number }).code).toBe(40060);
    const original = await rest('GET', `/webhooks/${fake.applicationId}/${press.token}/messages/@original`);
    expect(((await original.json()) as APIMessage).id).toBe(message.id);
  });

  it('edits the pressed message with an update (type 7), and refuses types 6 and 7 for slash commands', async () => {
    const message = await botMessageWithButton();
    const press = fake.clickButton({ place: fake.channel, user: fakeUser(), message, customId: 'fb:abc:up' });
    const update = await rest(
      'POST',
      `/interactions/${press.id}/${press.token}/callback`,
      { type: 7, data: { components: [] } },
      { 'content-type': 'application/json' },
    );
    expect(update.status).toBe(204);
    expect(fake.messages.get(message.id)).toMatchObject({ content: 'answer', components: [] });

    const command = fake.sendSlashCommand({ place: fake.channel, user: fakeUser(), name: 'ask' });
    const refused = await rest(
      'POST',
      `/interactions/${command.id}/${command.token}/callback`,
      { type: 6 },
      { 'content-type': 'application/json' },
    );
    expect(refused.status).toBe(400);
  });

  it('replies to a press ephemerally (type 4) and takes follow-ups with their allowed_mentions', async () => {
    const message = await botMessageWithButton();
    const press = fake.clickButton({ place: fake.channel, user: fakeUser(), message, customId: 'fb:abc:up' });
    await rest(
      'POST',
      `/interactions/${press.id}/${press.token}/callback`,
      { type: 4, data: { content: 'Thanks', flags: 64 } },
      { 'content-type': 'application/json' },
    );
    expect(fake.originalMessage(press.token)).toMatchObject({ content: 'Thanks', flags: 64, type: 19 });
    const followUp = await rest('POST', `/webhooks/${fake.applicationId}/${press.token}?wait=true`, {
      content: 'Ask <@&5>',
      allowed_mentions: { parse: [], roles: ['5'] },
    });
    expect(((await followUp.json()) as APIMessage).content).toBe('Ask <@&5>');
    expect(fake.requests.at(-1)?.body.allowed_mentions).toEqual({ parse: [], roles: ['5'] });
  });
});
