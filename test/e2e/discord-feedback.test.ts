import type { APIMessage, APIUser } from 'discord.js';
import { describe, expect } from 'vitest';
import type { Poquan } from '../../src/composition-root.ts';
import type { FakeDiscord, RecordedRequest } from '../fakes/fake-discord.ts';
import { fakeUser, type Place } from '../fakes/fake-discord-fixtures.ts';
import type { FakeLlm } from '../fakes/fake-llm.ts';
import { it } from '../fixtures/it.ts';
import { type Cleanups, expectedVote, recentVotes, startDiscordHarness } from './harness.ts';

const roleId = '987654321098765432';
const asker = fakeUser({ username: 'asker' });
const other = fakeUser({ username: 'other' });

interface Harness {
  discord: FakeDiscord;
  llm: FakeLlm;
  poquan: Poquan;
  /** Asks with /ask and resolves with the final answer message (the one with the buttons) once delivered. */
  ask(question: string, place?: Place): Promise<APIMessage>;
  /** Presses a vote button on `message` and resolves with the interaction callback the bot answered with. */
  press(
    user: APIUser,
    message: APIMessage,
    vote: 'up' | 'down',
  ): Promise<{ callback: RecordedRequest; token: string }>;
}

async function start(cleanups: Cleanups, env: Record<string, string> = {}): Promise<Harness> {
  const { discord, llm, poquan } = await startDiscordHarness(cleanups, env);
  return {
    discord,
    llm,
    poquan,
    async ask(question, place = discord.channel) {
      const interaction = discord.sendSlashCommand({
        place,
        user: asker,
        name: 'ask',
        options: { question },
      });
      const final = await discord.waitForRequest(
        (r) => r.path.includes(interaction.token) && r.method !== 'GET' && hasButtons(r),
      );
      return final.response as APIMessage;
    },
    async press(user, message, vote) {
      const customId = buttonsOf(message).find((id) => id.endsWith(`:${vote}`)) as string;
      const click = discord.clickButton({ place: discord.channel, user, message, customId });
      const callback = await discord.waitForRequest(
        (r) => r.path === `/interactions/${click.id}/${click.token}/callback`,
      );
      return { callback, token: click.token };
    },
  };
}

const hasButtons = (r: RecordedRequest) => Array.isArray(r.body?.components) && r.body.components.length > 0;

/** The custom ids of a message's buttons. */
function buttonsOf(message: APIMessage | undefined): string[] {
  return (message?.components ?? []).flatMap((row) =>
    'components' in row ? row.components.map((c) => ('custom_id' in c ? c.custom_id : '')) : [],
  );
}

/** Message writes (create or edit), i.e. everything that could ping someone. */
const messageWrites = (discord: FakeDiscord) =>
  discord.requests.filter(
    (r) =>
      (r.method === 'POST' || r.method === 'PATCH') &&
      (/^\/webhooks\//.test(r.path) ||
        /^\/channels\/\d+\/messages/.test(r.path) ||
        r.path.endsWith('/callback')),
  );

describe('Discord feedback', () => {
  it('ends every answer with a 👍 / 👎 action row on its last message only', async ({ cleanups }) => {
    const { discord, llm, ask } = await start(cleanups);
    const answer = await ask('Who founded DeepSeek?');
    expect(answer.content).toContain('-# Sources');
    expect(answer.components).toEqual([
      {
        type: 1,
        components: [
          { type: 2, style: 2, emoji: { name: '👍' }, custom_id: expect.stringMatching(/^fb:[\w-]{16}:up$/) },
          {
            type: 2,
            style: 2,
            emoji: { name: '👎' },
            custom_id: expect.stringMatching(/^fb:[\w-]{16}:down$/),
          },
        ],
      },
    ]);
    for (const id of buttonsOf(answer)) expect(id.length).toBeLessThanOrEqual(100);

    const paragraphs = Array.from({ length: 30 }, (_, i) =>
      `Part ${i}: Liang Wenfeng founded DeepSeek [1]. `.repeat(2),
    );
    llm.enqueue({ content: paragraphs.join('\n\n'), chunkChars: 400 });
    const interaction = discord.sendSlashCommand({
      place: discord.channel,
      user: asker,
      name: 'ask',
      options: { question: 'Who founded DeepSeek, in detail?' },
    });
    const last = await discord.waitForRequest(
      (r) => r.method === 'POST' && r.path === `/webhooks/1000/${interaction.token}` && hasButtons(r),
    );
    const writes = discord.requests.filter((r) => r.path.includes(interaction.token) && r.method !== 'GET');
    expect(writes.filter(hasButtons)).toEqual([last]);
    expect(last.body.content).toContain('-# Sources');
  });

  it('records a vote with every field and answers it privately, leaving the answer as it was', async ({
    cleanups,
  }) => {
    const { discord, poquan, ask, press } = await start(cleanups);
    const answer = await ask('Who founded DeepSeek?');
    const writesBefore = messageWrites(discord).length;

    const { callback } = await press(asker, answer, 'up');
    expect(callback.status).toBe(204);
    expect(callback.body).toMatchObject({
      type: 4,
      data: {
        content: 'Thanks for the feedback! 👍',
        flags: 64,
        allowed_mentions: { parse: [], replied_user: false },
      },
    });

    const [vote, ...more] = await recentVotes(poquan);
    expect(more).toEqual([]);
    expect(vote).toEqual(
      expectedVote({
        answerId: buttonsOf(answer)[0]?.split(':')[1],
        platform: 'discord',
        conversationId: `discord:channel:${answer.channel_id}:user:${asker.id}`,
        question: 'Who founded DeepSeek?',
        knowledgeVersion: poquan.knowledge().version,
        vote: 'up',
      }),
    );
    expect(JSON.stringify(vote)).not.toContain(`"${asker.id}"`);
    expect(vote?.userHash).not.toContain(asker.id);
    // Only the ephemeral acknowledgement was written; the answer keeps its text and buttons.
    expect(messageWrites(discord).slice(writesBefore)).toEqual([callback]);
    expect(discord.messages.get(answer.id)).toMatchObject({
      content: answer.content,
      components: answer.components,
    });
  });

  it('changes the vote, and a 👎 brings one hand-off follow-up whose only allowed mention is the role', async ({
    cleanups,
  }) => {
    const { discord, poquan, ask, press } = await start(cleanups, { HANDOFF_DISCORD_ROLE_ID: roleId });
    const answer = await ask('Who founded DeepSeek?');
    expect(answer.content).not.toContain(roleId);

    await press(asker, answer, 'up');
    const changed = await press(asker, answer, 'down');
    expect(changed.callback.body.data.content).toBe('Vote changed. Thanks! 👎');
    const handoff = await discord.waitForRequest(
      (r) => r.method === 'POST' && r.path === `/webhooks/1000/${changed.token}`,
    );
    expect(handoff.body.content).toBe(`Not what you needed? Ask <@&${roleId}> — a person can help.`);
    expect(handoff.body.allowed_mentions).toEqual({ parse: [], roles: [roleId] });
    expect(handoff.body.flags).toBeUndefined();
    expect(handoff.status).toBe(200);

    const second = await press(other, answer, 'down');
    expect(second.callback.body.data.content).toBe('Thanks for the feedback! 👎');
    await new Promise((resolve) => setTimeout(resolve, 150));
    const withRole = messageWrites(discord).filter((r) => r.body?.allowed_mentions?.roles !== undefined);
    expect(withRole).toEqual([handoff]);
    for (const write of messageWrites(discord)) {
      const body = write.body.type === undefined ? write.body : write.body.data;
      if (body?.content) expect(body.allowed_mentions).toMatchObject({ parse: [] });
    }
    expect((await recentVotes(poquan)).map((v) => v.vote)).toEqual(['down', 'down']);
    expect(discord.messages.get(answer.id)?.content).toBe(answer.content);
  });

  it('invites the role in a "not covered" answer, allowing that mention on that message alone', async ({
    cleanups,
  }) => {
    const { discord, ask, press } = await start(cleanups, { HANDOFF_DISCORD_ROLE_ID: roleId });
    const answer = await ask('What is the weather in Paris tomorrow?');
    expect(answer.content).toMatch(/^The knowledge file doesn't cover that\./);
    expect(answer.content).toMatch(
      new RegExp(`\\nNot what you needed\\? Ask <@&${roleId}> — a person can help\\.$`),
    );
    expect(buttonsOf(answer)).toHaveLength(2);
    const withRole = messageWrites(discord).filter((r) => r.body?.allowed_mentions?.roles !== undefined);
    expect(withRole).toHaveLength(1);
    expect(withRole[0]?.response.id).toBe(answer.id);
    expect(withRole[0]?.body.allowed_mentions).toEqual({ parse: [], roles: [roleId] });

    // It already offers a human: a 👎 does not post the line again.
    const { token } = await press(asker, answer, 'down');
    await new Promise((resolve) => setTimeout(resolve, 150));
    expect(discord.requests.some((r) => r.path === `/webhooks/1000/${token}`)).toBe(false);
  });

  it('never pings a role in a DM, where there are none', async ({ cleanups }) => {
    const { discord, ask } = await start(cleanups, { HANDOFF_DISCORD_ROLE_ID: roleId });
    const answer = await ask('What is the weather in Paris tomorrow?', discord.dmWith(asker));
    expect(answer.content).not.toContain(roleId);
    expect(buttonsOf(answer)).toHaveLength(2);
    expect(messageWrites(discord).every((r) => r.body?.allowed_mentions?.roles === undefined)).toBe(true);
  });

  it('puts the buttons on an answer to a mention too', async ({ cleanups }) => {
    const { discord } = await start(cleanups);
    const question = discord.sendUserMessage({
      place: discord.channel,
      author: asker,
      content: `<@${discord.botUser.id}> Who founded DeepSeek?`,
      mentions: [discord.botUser],
    });
    const reply = await discord.waitForRequest(
      (r) => r.method === 'POST' && r.body?.message_reference?.message_id === question.id,
    );
    const final = await discord.waitForRequest(
      (r) =>
        r.method === 'PATCH' &&
        r.path === `/channels/${question.channel_id}/messages/${reply.response.id}` &&
        hasButtons(r),
    );
    expect(final.body.content).toContain('-# Sources');
    expect(buttonsOf(final.response)).toHaveLength(2);
  });

  it('records nothing and pings no one for a press in a guild outside DISCORD_ALLOWED_GUILD_IDS', async ({
    cleanups,
  }) => {
    const { discord, poquan, ask } = await start(cleanups, {
      DISCORD_ALLOWED_GUILD_IDS: '1',
      DISCORD_ADMIN_IDS: asker.id,
      HANDOFF_DISCORD_ROLE_ID: roleId,
    });
    // An admin may ask privately anywhere; the answer's buttons then get pressed in a guild that isn't allowed.
    const answer = await ask('Who founded DeepSeek?', discord.dmWith(asker));
    const customId = buttonsOf(answer).find((id) => id.endsWith(':down')) as string;
    const click = discord.clickButton({ place: discord.channel, user: other, message: answer, customId });
    const callback = await discord.waitForRequest(
      (r) => r.path === `/interactions/${click.id}/${click.token}/callback`,
    );
    expect(callback.body.data).toMatchObject({
      content: expect.stringContaining("isn't enabled here"),
      flags: 64,
    });
    expect(await recentVotes(poquan)).toEqual([]);
    expect(JSON.stringify(messageWrites(discord))).not.toContain(roleId);
  });

  it('tells the voter when the answer is too old to rate', async ({ cleanups }) => {
    const { poquan, ask, press } = await start(cleanups);
    const answer = await ask('Who founded DeepSeek?');
    const answerId = buttonsOf(answer)[0]?.split(':')[1];
    // What FEEDBACK_RETENTION_DAYS does to an old answer.
    await poquan.store.delete(`feedback:answer:${answerId}`);
    const { callback } = await press(asker, answer, 'down');
    expect(callback.body.data).toMatchObject({ content: 'This answer is too old to rate.', flags: 64 });
    expect(await recentVotes(poquan)).toEqual([]);
  });

  it('shows the knowledge version of the last answer in /sources', async ({ cleanups }) => {
    const { discord, poquan, ask } = await start(cleanups);
    await ask('Who founded DeepSeek?');
    const sources = discord.sendSlashCommand({ place: discord.channel, user: asker, name: 'sources' });
    const reply = await discord.waitForRequest(
      (r) =>
        r.method === 'PATCH' &&
        r.path.includes(sources.token) &&
        String(r.body?.content).includes('Knowledge'),
    );
    expect(reply.body.content).toContain(`Knowledge version ${poquan.knowledge().version}`);
    expect(reply.body.components).toBeUndefined();
  });
});
