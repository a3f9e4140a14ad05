import type { APIMessage } from 'discord.js';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { discordErrors, type FakeDiscord, rateLimited, startFakeDiscord } from './fake-discord.ts';
import { type FakeChannel, type FakeGuild, fakeGuild, fakeUser } from './fake-discord-fixtures.ts';

let fake: FakeDiscord;
const auth = { authorization: 'Bot fake-token', 'content-type': 'application/json' };

beforeEach(async () => {
  fake = await startFakeDiscord();
});
afterEach(async () => {
  await fake.close();
});

function rest(
  method: string,
  path: string,
  body?: unknown,
  headers: Record<string, string> = auth,
  server: FakeDiscord = fake,
) {
  return fetch(`${server.apiBase}/v10${path}`, {
    method,
    headers,
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
}

/** A gateway payload as the fake sends it. */
type Payload = { op: number; t: string | null; d: unknown };

/** A raw gateway connection; see `connectGateway`. */
type Gateway = Awaited<ReturnType<typeof connectGateway>>;

/** Opens a raw gateway connection and collects every payload it receives. */
async function connectGateway(server: FakeDiscord = fake) {
  const gateway = (await (await rest('GET', '/gateway/bot', undefined, auth, server)).json()) as {
    url: string;
  };
  const ws = new WebSocket(`${gateway.url}?v=10&encoding=json`);
  const received: Payload[] = [];
  const waiters: Array<() => void> = [];
  ws.on('message', (data) => {
    received.push(JSON.parse(String(data)));
    for (const wake of waiters.splice(0)) wake();
  });
  const next = async (predicate: (p: (typeof received)[number]) => boolean) => {
    for (;;) {
      const found = received.find(predicate);
      if (found) return found;
      await new Promise<void>((resolve) => waiters.push(resolve));
    }
  };
  return { ws, next, received };
}

describe('fake Discord REST', () => {
  it('serves the gateway URL only to an authorised bot and records requests without the token', async () => {
    expect((await rest('GET', '/gateway/bot', undefined, {})).status).toBe(401);
    const response = await rest('GET', '/gateway/bot');
    expect(await response.json()).toMatchObject({
      url: `ws://127.0.0.1:${new URL(fake.url).port}/gateway`,
      shards: 1,
      session_start_limit: { max_concurrency: 1 },
    });
    expect(JSON.stringify(fake.requests)).not.toContain('fake-token');
    expect(fake.requests.map((r) => r.authorized)).toEqual([false, true]);
  });

  it("tells the token's bot user and application, and answers a wrong token with Discord's 401", async () => {
    expect(await (await rest('GET', '/users/@me')).json()).toMatchObject({ id: '1000', bot: true });
    expect(await (await rest('GET', '/applications/@me')).json()).toMatchObject({
      id: '1000',
      bot: { id: '1000' },
    });
    const wrong = await rest('GET', '/applications/@me', undefined, { authorization: 'Bot wrong' });
    expect(wrong.status).toBe(401);
    expect(await wrong.json()).toEqual({ message: '401: Unauthorized', code: 0 });
  });

  it('acknowledges a deferral with 204 and no content type, then edits @original into a real message', async () => {
    const user = fakeUser();
    const interaction = fake.sendSlashCommand({ place: fake.channel, user, name: 'ask' });
    const callback = await rest('POST', `/interactions/${interaction.id}/${interaction.token}/callback`, {
      type: 5,
      data: { flags: 64 },
    });
    expect(callback.status).toBe(204);
    expect(callback.headers.get('content-type')).toBeNull();
    expect(fake.originalMessage(interaction.token)?.flags).toBe(64 | 128);

    const again = await rest('POST', `/interactions/${interaction.id}/${interaction.token}/callback`, {
      type: 5,
    });
    expect(await again.json()).toEqual({
      message: 'Interaction has already been acknowledged.',
      code: 40060,
    });

    const edit = await rest('PATCH', `/webhooks/1000/${interaction.token}/messages/%40original`, {
      content: 'Hi',
    });
    const message = (await edit.json()) as APIMessage;
    expect(message).toMatchObject({ content: 'Hi', flags: 64, author: { id: '1000', bot: true }, type: 20 });
    expect(message.id).toMatch(/^\d{17,20}$/);
    expect(fake.requests.at(-1)?.path).toBe(`/webhooks/1000/${interaction.token}/messages/@original`);
  });

  it('turns the first follow-up after a deferral into an edit, and later ones into new messages', async () => {
    const interaction = fake.sendSlashCommand({ place: fake.channel, user: fakeUser(), name: 'ask' });
    await rest('POST', `/interactions/${interaction.id}/${interaction.token}/callback`, { type: 5 });
    const followUp = async (content: string) =>
      (await (
        await rest('POST', `/webhooks/1000/${interaction.token}?wait=true`, { content })
      ).json()) as APIMessage;
    const first = await followUp('a');
    const second = await followUp('b');
    expect(first.id).toBe(fake.originalMessage(interaction.token)?.id);
    expect(second.id).not.toBe(first.id);
  });

  it("answers with Discord's error shapes: content over 2000, unknown message, stale token", async () => {
    const interaction = fake.sendSlashCommand({ place: fake.channel, user: fakeUser(), name: 'ask' });
    await rest('POST', `/interactions/${interaction.id}/${interaction.token}/callback`, { type: 5 });
    const tooLong = await rest('PATCH', `/webhooks/1000/${interaction.token}/messages/@original`, {
      content: 'x'.repeat(2001),
    });
    expect(tooLong.status).toBe(400);
    expect(await tooLong.json()).toMatchObject({ code: 50035, errors: { content: { _errors: [{}] } } });

    const channelId = 'channel' in fake.channel ? fake.channel.channel.id : '';
    const unknown = await rest('PATCH', `/channels/${channelId}/messages/123456789012345678`, {
      content: 'x',
    });
    expect([unknown.status, await unknown.json()]).toEqual([
      404,
      { message: 'Unknown Message', code: 10008 },
    ]);

    fake.expireInteraction(interaction.token);
    const stale = await rest('PATCH', `/webhooks/1000/${interaction.token}/messages/@original`, {
      content: 'x',
    });
    expect([stale.status, await stale.json()]).toEqual([
      401,
      { message: 'Invalid Webhook Token', code: 50027 },
    ]);
  });

  it('expires an interaction token 15 minutes after the interaction was created', async () => {
    const user = fakeUser();
    const created = Date.now() - 14 * 60_000;
    const fresh = fake.sendSlashCommand({ place: fake.channel, user, name: 'ask', createdAt: created });
    const old = fake.sendSlashCommand({
      place: fake.channel,
      user,
      name: 'ask',
      createdAt: created - 60_000,
    });
    for (const { id, token } of [fresh, old]) {
      await rest('POST', `/interactions/${id}/${token}/callback`, { type: 5 });
    }
    const edit = (token: string) =>
      rest('PATCH', `/webhooks/1000/${token}/messages/@original`, { content: 'late' });
    expect((await edit(fresh.token)).status).toBe(200);
    const stale = await edit(old.token);
    expect([stale.status, await stale.json()]).toEqual([
      401,
      { message: 'Invalid Webhook Token', code: 50027 },
    ]);
    const unknown = await rest('PATCH', '/webhooks/1000/itk-never-issued/messages/@original', {
      content: 'x',
    });
    expect([unknown.status, await unknown.json()]).toEqual([
      404,
      { message: 'Unknown Webhook', code: 10015 },
    ]);
  });

  it('lets the bot edit its public interaction reply as a channel message, but not an ephemeral one', async () => {
    const channelId = 'channel' in fake.channel ? fake.channel.channel.id : '';
    const deferred = async (flags: number) => {
      const { id, token } = fake.sendSlashCommand({ place: fake.channel, user: fakeUser(), name: 'ask' });
      await rest('POST', `/interactions/${id}/${token}/callback`, { type: 5, data: { flags } });
      return fake.originalMessage(token) as APIMessage;
    };
    const editInChannel = (message: APIMessage) =>
      rest('PATCH', `/channels/${channelId}/messages/${message.id}`, { content: 'edited' });
    const shown = await deferred(0);
    expect((await editInChannel(shown)).status).toBe(200);
    expect(fake.messages.get(shown.id)?.content).toBe('edited');
    const refused = await editInChannel(await deferred(64));
    expect([refused.status, await refused.json()]).toEqual([
      404,
      { message: 'Unknown Message', code: 10008 },
    ]);
  });

  it('fails the next calls to a route as scripted, with 429 headers, then recovers', async () => {
    fake.failNext('POST /channels/*/messages', 1, rateLimited(0.4));
    fake.failNext('POST /channels/*/typing', 1, discordErrors.missingPermissions());
    const channelId = 'channel' in fake.channel ? fake.channel.channel.id : '';
    const limited = await rest('POST', `/channels/${channelId}/messages`, { content: 'hi' });
    expect(limited.status).toBe(429);
    expect(limited.headers.get('retry-after')).toBe('1');
    expect(limited.headers.get('x-ratelimit-remaining')).toBe('0');
    expect(await limited.json()).toEqual({
      message: 'You are being rate limited.',
      retry_after: 0.4,
      global: false,
    });
    expect((await rest('POST', `/channels/${channelId}/typing`)).status).toBe(403);
    const sent = await rest('POST', `/channels/${channelId}/messages`, { content: 'hi' });
    expect(sent.status).toBe(200);
  });

  it('carries out a held call at once but answers it only when released', async () => {
    const release = fake.holdNext('POST /channels/*/messages');
    const channelId = 'channel' in fake.channel ? fake.channel.channel.id : '';
    let answered = false;
    const held = rest('POST', `/channels/${channelId}/messages`, { content: 'held' }).then((response) => {
      answered = true;
      return response;
    });
    const posted = () => [...fake.messages.values()].filter((m) => m.content === 'held');
    for (let tries = 0; posted().length === 0 && tries < 100; tries++) {
      await new Promise((done) => setTimeout(done, 20));
    }
    expect(posted()).toHaveLength(1);
    expect(answered).toBe(false);
    release();
    expect(((await (await held).json()) as APIMessage).id).toBe(posted()[0]?.id);
    // Only the next matching call is held.
    expect((await rest('POST', `/channels/${channelId}/messages`, { content: 'next' })).status).toBe(200);
  });

  it('keeps replies linked to the message they answer', async () => {
    const question = fake.sendUserMessage({ place: fake.channel, author: fakeUser(), content: 'q' });
    const reply = await (
      await rest('POST', `/channels/${question.channel_id}/messages`, {
        content: 'a',
        message_reference: { message_id: question.id },
      })
    ).json();
    expect(reply).toMatchObject({ type: 19, message_reference: { message_id: question.id } });
    const dangling = await rest('POST', `/channels/${question.channel_id}/messages`, {
      content: 'a',
      message_reference: { message_id: '42' },
    });
    expect(dangling.status).toBe(400);
  });

  it('stores registered commands, keeps ids across updates and rejects invalid ones', async () => {
    const command = { name: 'ask', type: 1, description: 'Ask' };
    const put = async () =>
      (await (await rest('PUT', '/applications/1000/commands', [command])).json()) as Array<{ id: string }>;
    const first = await put();
    const second = await put();
    expect(second[0]?.id).toBe(first[0]?.id);
    expect(await (await rest('GET', '/applications/1000/commands')).json()).toHaveLength(1);
    const invalid = await rest('PUT', '/applications/1000/commands', [
      { name: 'Ask Me', type: 1, description: '' },
    ]);
    expect(invalid.status).toBe(400);
  });
});

describe('fake Discord gateway', () => {
  it('says HELLO, acknowledges heartbeats, and answers IDENTIFY with READY then GUILD_CREATE', async () => {
    const { ws, next } = await connectGateway();
    expect((await next((p) => p.op === 10)).d).toEqual({ heartbeat_interval: 41_250 });
    ws.send(JSON.stringify({ op: 1, d: null }));
    await next((p) => p.op === 11);
    ws.send(JSON.stringify({ op: 2, d: { token: 'fake-token', intents: 33281, properties: {} } }));
    const ready = await next((p) => p.t === 'READY');
    expect(ready.d).toMatchObject({ v: 10, user: { id: '1000', bot: true }, application: { id: '1000' } });
    expect((await next((p) => p.t === 'GUILD_CREATE')).d).toMatchObject({ id: fake.guild.id });
    expect(fake.identifies).toEqual([{ intents: 33281, token: '[correct]', shard: [0, 1] }]);

    fake.sendUserMessage({ place: fake.channel, author: fakeUser(), content: 'hello' });
    expect((await next((p) => p.t === 'MESSAGE_CREATE')).d).toMatchObject({ content: 'hello' });
    ws.close();
  });

  it('closes the connection with 4004 on a wrong token', async () => {
    const { ws, next } = await connectGateway();
    await next((p) => p.op === 10);
    const closed = new Promise<number>((resolve) => ws.on('close', (code) => resolve(code)));
    ws.send(JSON.stringify({ op: 2, d: { token: 'wrong', intents: 0, properties: {} } }));
    expect(await closed).toBe(4004);
  });

  it("shards like Discord: a guild's events go to shard (guild_id >> 22) % count, DMs to shard 0", async () => {
    const [even, odd] = [fakeGuild('Even', [0, 2]), fakeGuild('Odd', [1, 2])];
    const sharded = await startFakeDiscord({ guilds: [even, odd] });
    try {
      const identify = async (shard: number, guild: FakeGuild) => {
        const gateway = await connectGateway(sharded);
        await gateway.next((p) => p.op === 10);
        const d = { token: 'fake-token', intents: 0, properties: {}, shard: [shard, 2] };
        gateway.ws.send(JSON.stringify({ op: 2, d }));
        const ready = await gateway.next((p) => p.t === 'READY');
        expect(ready.d).toMatchObject({ shard: [shard, 2], guilds: [{ id: guild.id }] });
        expect((await gateway.next((p) => p.t === 'GUILD_CREATE')).d).toMatchObject({ id: guild.id });
        return gateway;
      };
      const sessions = [await identify(0, even), await identify(1, odd)];
      const author = fakeUser();
      const say = (guild: FakeGuild, content: string) =>
        sharded.sendUserMessage({
          place: { guild, channel: guild.channels[0] as FakeChannel },
          author,
          content,
        });
      say(even, 'even');
      say(odd, 'odd');
      sharded.sendUserMessage({ place: sharded.dmWith(author), author, content: 'direct' });
      say(odd, 'odd again');

      /** The contents of the messages a session received, once `last` has arrived (events arrive in order). */
      const contents = async ({ next, received }: Gateway, last: string) => {
        const content = (p: Payload) => (p.d as { content: string }).content;
        await next((p) => p.t === 'MESSAGE_CREATE' && content(p) === last);
        return received.filter((p) => p.t === 'MESSAGE_CREATE').map(content);
      };
      expect(await contents(sessions[0] as Gateway, 'direct')).toEqual(['even', 'direct']);
      expect(await contents(sessions[1] as Gateway, 'odd again')).toEqual(['odd', 'odd again']);
      for (const { ws } of sessions) ws.close();
    } finally {
      await sharded.close();
    }
  });

  it('closes the connection with 4010 on a shard id outside the shard count', async () => {
    const { ws, next } = await connectGateway();
    await next((p) => p.op === 10);
    const closed = new Promise<number>((resolve) => ws.on('close', (code) => resolve(code)));
    ws.send(JSON.stringify({ op: 2, d: { token: 'fake-token', intents: 0, properties: {}, shard: [2, 2] } }));
    expect(await closed).toBe(4010);
  });
});
