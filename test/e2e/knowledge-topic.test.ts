import { fileURLToPath } from 'node:url';
import { describe, expect } from 'vitest';
import { buildDiscordCommands } from '../../src/adapters/discord/application-commands.ts';
import { it } from '../fixtures/it.ts';
import { cleanCwd } from '../servers/poquan-env.ts';
import { runPoquan } from '../servers/poquan-process.ts';
import { startPoquanOnFakeModel, startTelegramHarness } from './harness.ts';

const faqDir = 'test/fixtures/knowledge-faq';
const faqQa = fileURLToPath(new URL('../fixtures/faq-qa.jsonl', import.meta.url));
const topic = 'Harbour Lane Café — hours, menu and bookings';
const topicZh = '港湾巷咖啡馆的营业时间、菜单和订位';

/** The floor `poquan eval` recommends for the FAQ knowledge and its questions. */
async function recommendedFloor(): Promise<number> {
  const run = await runPoquan(
    ['eval', '--qa', faqQa, '--json'],
    { KNOWLEDGE_DIR: faqDir, STORE_URL: 'memory://' },
    cleanCwd(),
  );
  expect(run.code, run.stderr).toBe(0);
  const report = JSON.parse(run.stdout) as {
    relevanceFloor: { inForce: number; recommended: number; refusedOutOfScope: number; outOfScope: number };
  };
  expect(report.relevanceFloor.inForce).toBe(6);
  expect(report.relevanceFloor.refusedOutOfScope).toBe(report.relevanceFloor.outOfScope);
  return report.relevanceFloor.recommended;
}

describe('a FAQ knowledge with a topic of its own', () => {
  it('answers its own questions and refuses others with its own topic line, at the floor eval recommends', {
    timeout: 60_000,
  }, async ({ cleanups }) => {
    const floor = await recommendedFloor();
    const bot = await startTelegramHarness(cleanups, {
      KNOWLEDGE_DIR: faqDir,
      RELEVANCE_FLOOR: String(floor),
    });

    const [hours] = await bot.ask('What are your opening hours?');
    expect(hours).toContain('8 am to 6 pm');
    const system = bot.llm.requests[0]?.body.messages[0].content as string;
    expect(system).toMatch(
      new RegExp(`^You are Poquan \\(破圈\\), an assistant that answers questions about ${topic} `),
    );

    expect(await bot.ask('Who founded DeepSeek?')).toEqual([
      `The knowledge file doesn't cover that. I can answer questions about ${topic}.`,
    ]);
    expect(await bot.ask('巴黎明天天气怎么样？')).toEqual([
      `知识库没有涉及这个问题。我只能回答关于${topicZh}的问题。`,
    ]);
    expect(bot.llm.requests).toHaveLength(1);

    const [greeting] = await bot.ask('/start');
    expect(greeting).toContain(`Ask me about ${topic}. I answer from my knowledge file`);
    expect(bot.telegram.commands.get('')?.find((c) => c.command === 'ask')?.description).toBe(
      `Ask a question about ${topic}; the answer cites its sources`,
    );
    expect(bot.telegram.commands.get('zh')?.find((c) => c.command === 'ask')?.description).toBe(
      `提问关于${topicZh}的问题，回答附带出处`,
    );
  });

  it('names the topic in the Discord command descriptions, in both languages', async ({ cleanups }) => {
    const { poquan } = await startPoquanOnFakeModel(cleanups, undefined, {
      KNOWLEDGE_DIR: faqDir,
    });
    const ask = buildDiscordCommands(poquan.config, 'global', poquan.topic()).find(
      (command) => command.name === 'ask',
    );
    expect(ask).toMatchObject({
      description: `Ask a question about ${topic}; the answer cites its sources`,
      description_localizations: { 'zh-CN': `提问关于${topicZh}的问题，回答附带出处` },
    });
  });

  it('names its topic when it asks the model to rewrite a follow-up', async ({ cleanups }) => {
    const bot = await startTelegramHarness(cleanups, {
      KNOWLEDGE_DIR: faqDir,
      RELEVANCE_FLOOR: '0',
      FOLLOW_UP_REWRITE_TIMEOUT_MS: '3000',
    });
    await bot.ask('What are your opening hours?');
    await bot.ask('Are they the same on Sundays?');
    // Answers are streamed; the rewrite is the one request that is not.
    const rewrites = bot.llm.requests.filter((request) => request.body.stream !== true);
    expect(rewrites).toHaveLength(1);
    const instructions = rewrites[0]?.body.messages[0].content as string;
    expect(instructions).toContain(`a knowledge base about ${topic}.`);
    expect(instructions).not.toContain("China's AI race");
  });

  it('lets BOT_TOPIC and BOT_TOPIC_ZH override the knowledge', async ({ cleanups }) => {
    const bot = await startTelegramHarness(cleanups, {
      KNOWLEDGE_DIR: faqDir,
      BOT_TOPIC: 'the café',
      BOT_TOPIC_ZH: '咖啡馆',
    });
    expect(await bot.ask('Who founded DeepSeek?')).toEqual([
      "The knowledge file doesn't cover that. I can answer questions about the café.",
    ]);
  });
});
