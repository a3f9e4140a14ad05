import { afterEach, describe, expect, it } from 'vitest';
import { startFakeLlm } from '../fakes/fake-llm.ts';
import { startFakeTelegram } from '../fakes/fake-telegram.ts';
import { freePort } from '../servers/free-port.ts';
import { cleanCwd } from '../servers/poquan-env.ts';
import { runPoquan } from '../servers/poquan-process.ts';

const qaFile = new URL('../fixtures/qa.jsonl', import.meta.url).pathname;
const fakes: Array<{ close(): Promise<unknown> }> = [];

afterEach(async () => {
  await Promise.all(fakes.splice(0).map((fake) => fake.close()));
});

/** Runs the real CLI as a user would, with only the given settings (no .env, no key from the machine). */
function poquan(args: string[], env: Record<string, string> = {}, stdin = '') {
  return runPoquan(args, { STORE_URL: 'memory://', NO_COLOR: '1', ...env }, cleanCwd(), stdin);
}

describe('poquan CLI', () => {
  it('answers offline with a citation on a fresh setup', async () => {
    const run = await poquan(['ask', 'Who founded DeepSeek?']);
    expect(run.code).toBe(0);
    expect(run.stdout).toContain('Liang Wenfeng');
    const cited = /\[(\d)\]/.exec(run.stdout)?.[1];
    expect(run.stdout).toMatch(new RegExp(`Sources\\n\\s+\\[${cited}\\] `));
  });

  it('opens an offline answer with the sentence that answers: "Who founded DeepSeek?" names Liang Wenfeng', async () => {
    const run = await poquan(['ask', 'Who founded DeepSeek?']);
    expect(run.code).toBe(0);
    // Quotes are list items, which the terminal renderer shows as bullets.
    const firstQuote = run.stdout.split('\n').find((line) => line.startsWith('• '));
    expect(firstQuote).toMatch(/Liang Wenfeng.*\[\d\]$/);
  });

  it('prints one JSON object with --json', async () => {
    const run = await poquan(['ask', '--json', 'Who founded DeepSeek?']);
    const result = JSON.parse(run.stdout);
    expect(result).toMatchObject({ mode: 'offline', usage: null });
    expect(result.answer).toContain('Liang Wenfeng');
    expect(result.answer).toContain(`[${result.citations[0].n}]`);
    expect(result.citations[0]).toEqual({
      n: expect.any(Number),
      id: expect.stringMatching(/^china-ai-race#/),
      source: 'china-ai-race.md',
      heading: expect.any(String),
    });
  });

  it("streams the model's answer when LLM_BASE_URL points at a model", async () => {
    const llm = await startFakeLlm();
    fakes.push(llm);
    llm.enqueue({
      reasoning: 'Thinking about the founder.',
      content: 'DeepSeek was founded by Liang Wenfeng [1].',
    });
    const run = await poquan(['ask', 'Who founded DeepSeek?'], { LLM_BASE_URL: llm.url });
    expect(run.code).toBe(0);
    expect(run.stdout).toContain('DeepSeek was founded by Liang Wenfeng [1].');
    expect(run.stdout).not.toContain('Thinking about the founder.');
    expect(run.stderr).toContain('Thinking about the founder.');
    expect(run.stderr).toContain('model deepseek-flash');
    expect(llm.requests).toHaveLength(1);
  });

  it('reports usage, including cache hits, in --json with a model', async () => {
    const llm = await startFakeLlm();
    fakes.push(llm);
    const run = await poquan(['ask', '--json', 'Who founded DeepSeek?'], {
      LLM_BASE_URL: llm.url,
      LLM_API_KEY: 'sk-x',
    });
    const result = JSON.parse(run.stdout);
    expect(result.mode).toBe('llm');
    expect(result.usage).toMatchObject({
      promptTokens: expect.any(Number),
      completionTokens: expect.any(Number),
    });
    expect(result.usage).toHaveProperty('promptCacheHitTokens');
  });

  it('retrieves the passage naming Liang Wenfeng for a Chinese question on stdin', async () => {
    const run = await poquan(['retrieve', '--json'], {}, 'DeepSeek的创始人是谁？\n');
    const lines = run.stdout.trim().split('\n');
    expect(lines).toHaveLength(1);
    const result = JSON.parse(lines[0] as string);
    expect(result.query).toBe('DeepSeek的创始人是谁？');
    expect(result.passages.some((p: { text: string }) => p.text.includes('Liang Wenfeng'))).toBe(true);
    expect(result.passages[0]).toEqual({
      id: expect.any(String),
      source: 'china-ai-race.md',
      heading: expect.any(String),
      text: expect.any(String),
      score: expect.any(Number),
    });
  });

  it('answers one JSON line per stdin line in batch retrieval, and -k bounds the passages', async () => {
    const run = await poquan(
      ['retrieve', '--json', '-k', '2'],
      {},
      'Who founded DeepSeek?\n\nWhat are the six little tigers?\n',
    );
    const lines = run.stdout
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line));
    expect(lines.map((l) => l.query)).toEqual(['Who founded DeepSeek?', 'What are the six little tigers?']);
    for (const line of lines) expect(line.passages.length).toBeLessThanOrEqual(2);
  });

  it('rejects an empty question with one line and exit code 2', async () => {
    const run = await poquan(['ask', '   ']);
    expect(run.code).toBe(2);
    expect(run.stderr.trim().split('\n')).toHaveLength(1);
    expect(run.stderr).toMatch(/Please ask a question/);
  });

  it('rejects an over-long question with exit code 2', async () => {
    const run = await poquan(['ask', 'x'.repeat(50)], { MAX_QUESTION_CHARS: '20' });
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/50 characters long; the limit is 20/);
  });

  it('stops on a bad setting with one line naming it and never printing a secret', async () => {
    const run = await poquan(['ask', 'Who founded DeepSeek?'], {
      LLM_PROVIDER: 'nope',
      LLM_API_KEY: 'sk-secret-123',
    });
    expect(run.code).toBe(1);
    expect(run.stderr.trim().split('\n')).toHaveLength(1);
    expect(run.stderr).toContain('LLM_PROVIDER');
    expect(run.stderr).not.toContain('sk-secret-123');
  });

  it('says clearly when the model rejects the key', async () => {
    const llm = await startFakeLlm({ apiKey: 'sk-right' });
    fakes.push(llm);
    const run = await poquan(['ask', 'Who founded DeepSeek?'], {
      LLM_BASE_URL: llm.url,
      LLM_API_KEY: 'sk-wrong',
      LLM_MAX_RETRIES: '0',
    });
    expect(run.code).toBe(1);
    expect(run.stderr).toContain('rejected the API key');
    expect(run.stderr).not.toContain('sk-wrong');
  });

  it('evaluates retrieval on the QA file and prints recall and MRR', async () => {
    const run = await poquan(['eval', '--json', '--qa', qaFile]);
    const report = JSON.parse(run.stdout);
    expect(report.k).toBe(4);
    expect(report.overall.recallAtK).toBeGreaterThanOrEqual(0.9);
    expect(report.byLanguage).toHaveProperty('zh');
    const human = await poquan(['eval', '--qa', qaFile]);
    expect(human.stdout).toMatch(/recall@4/);
    expect(human.stdout).toMatch(/MRR/);
  });

  it('holds a conversation in chat with /sources and /reset', async () => {
    const llm = await startFakeLlm();
    fakes.push(llm);
    const run = await poquan(
      ['chat', '--conversation', 'test'],
      { LLM_BASE_URL: llm.url },
      'Who founded DeepSeek?\nWhen was High-Flyer founded?\n/sources\n/reset\n/sources\n/exit\n',
    );
    expect(run.code).toBe(0);
    expect(run.stdout).toContain('According to the knowledge file');
    expect(run.stdout).toMatch(/Sources of the last answer \("When was High-Flyer founded\?"\)/);
    expect(run.stdout).toContain("I've forgotten this conversation");
    expect(run.stdout).toContain('No answer with sources here yet');
    const second = llm.requests[1]?.body.messages as Array<{ role: string }>;
    expect(second.map((m) => m.role)).toEqual(['system', 'user', 'assistant', 'user']);
  });

  it('answers a usage error (a missing argument, a bad option) with one line, a hint and exit code 2', async () => {
    const missing = await poquan(['ask']);
    expect(missing.code).toBe(2);
    expect(missing.stderr.trim().split('\n')).toEqual([
      "poquan: missing required argument 'question'",
      "Run 'poquan --help' or 'poquan <command> --help' for usage.",
    ]);
    const badOption = await poquan(['retrieve', '-k', '99', 'DeepSeek']);
    expect(badOption.code).toBe(2);
    expect(badOption.stderr).toMatch(/^poquan: option '-k <n>' argument '99' is invalid/);
    expect(badOption.stdout).toBe('');
  }, 60_000);

  it('documents exit codes, NO_COLOR and FORCE_COLOR under --help', async () => {
    const run = await poquan(['--help']);
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/2 bad input or usage/);
    expect(run.stdout).toMatch(/NO_COLOR=1 turns it off, FORCE_COLOR=1 on/);
  });

  it('renders the streamed Markdown answer for the terminal: bullets and bold, no markers', async () => {
    const llm = await startFakeLlm();
    fakes.push(llm);
    const content = '**Liang Wenfeng** founded it [1]:\n- with `High-Flyer` money\n- _alone_';
    llm.setDefault({ content, chunkChars: 3 });
    const plain = await poquan(['ask', 'Who founded DeepSeek?'], { LLM_BASE_URL: llm.url });
    expect(plain.stdout).toContain('Liang Wenfeng founded it [1]:\n• with High-Flyer money\n• alone\n');
    expect(plain.stdout).not.toMatch(/\*\*|`/);
    expect(plain.stdout).not.toContain('\x1b');
    const forced = await poquan(['ask', 'Who founded DeepSeek?'], {
      LLM_BASE_URL: llm.url,
      FORCE_COLOR: '1',
    });
    expect(forced.stdout).toContain('\x1b[0;1mLiang Wenfeng\x1b[0m founded it');
  }, 60_000);

  it('keeps a chat going after a model failure, with one line instead of a log dump', async () => {
    const port = await freePort();
    const run = await poquan(
      ['chat', '--conversation', 'unreachable'],
      { LLM_BASE_URL: `http://127.0.0.1:${port}`, LLM_MAX_RETRIES: '0' },
      'Who founded DeepSeek?\n/about\n/exit\n',
    );
    expect(run.code).toBe(0);
    const failures = run.stderr.split('\n').filter((line) => line.includes('poquan:'));
    expect(failures).toEqual([
      expect.stringContaining(
        `Could not reach the model provider at LLM_BASE_URL (http://127.0.0.1:${port}): connection refused (ECONNREFUSED).`,
      ),
    ]);
    expect(run.stderr).not.toMatch(/"level"|stack|at .*\.ts:\d+/);
    expect(run.stdout).toMatch(/^Poquan \(破圈\) \d+\.\d+\.\d+$/m);
  });

  it('makes doctor exit non-zero and name TELEGRAM_BOT_TOKEN when Telegram refuses the token', async () => {
    const telegram = await startFakeTelegram({ token: '1:right' });
    fakes.push(telegram);
    const run = await poquan(['doctor'], {
      KNOWLEDGE_DIR: 'test/fixtures/knowledge-mini',
      TELEGRAM_BOT_TOKEN: '1:wrong-secret',
      TELEGRAM_API_ROOT: telegram.url,
    });
    expect(run.code).toBe(1);
    expect(run.stdout).toMatch(/^FAILED telegram +Telegram rejected TELEGRAM_BOT_TOKEN/m);
    expect(run.stdout + run.stderr).not.toContain('wrong-secret');
  });
});
