import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, expect } from 'vitest';
import { askedQuestion, startFakeLlm } from '../fakes/fake-llm.ts';
import { startFakeTelegram } from '../fakes/fake-telegram.ts';
import { it } from '../fixtures/it.ts';
import { type PoquanProcess, startPoquanProcess } from '../servers/poquan-process.ts';
import { ada, adaChat, type Cleanups, groundedAnswer, group, promptRoles, until } from './harness.ts';

/**
 * A bot process killed with SIGKILL in the middle of an answer loses nothing: after a restart the question it
 * was answering is answered — once — and the conversation's memory (in the SQLite file) is intact. The real
 * `poquan start` runs as a child process against the fake Bot API, whose `getUpdates` confirms updates by
 * offset exactly like Telegram's.
 */

type Turn = { role: string; content: string };

/**
 * One scene for a kill: a fake Bot API and model, a temp folder for the SQLite file, and `start` to run
 * `poquan start` against them (again after a kill), resolving once its Telegram adapter has started.
 */
async function killScene(cleanups: Cleanups) {
  const dir = await mkdtemp(join(tmpdir(), 'poquan-restart-'));
  cleanups.push(() => rm(dir, { recursive: true, force: true }));
  const telegram = await startFakeTelegram({ token: '123:RESTART' });
  cleanups.push(() => telegram.close());
  const llm = await startFakeLlm();
  cleanups.push(() => llm.close());
  const start = async (env: Record<string, string> = {}): Promise<PoquanProcess> => {
    const bot = startPoquanProcess(
      {
        TELEGRAM_BOT_TOKEN: telegram.token,
        TELEGRAM_API_ROOT: telegram.url,
        LLM_BASE_URL: llm.url,
        LLM_API_KEY: 'sk-restart-test',
        LLM_MAX_RETRIES: '0',
        STORE_URL: `sqlite://${join(dir, 'poquan.sqlite')}`,
        KNOWLEDGE_DIR: resolve('test/fixtures/knowledge-mini'),
        ANSWER_CACHE_TTL_HOURS: '0',
        RATE_LIMIT_PER_MINUTE: '0',
        SHOW_REASONING: 'off',
        LOG_LEVEL: 'info',
        ...env,
      },
      dir,
    );
    cleanups.push(() => bot.stop('SIGKILL'));
    await bot.waitForLog((entry) => entry.msg === 'telegram adapter started');
    return bot;
  };
  return { telegram, llm, start };
}

describe('restart after kill -9', () => {
  it('answers the interrupted question once after restart, with the conversation remembered', async ({
    cleanups,
  }) => {
    const { telegram, llm, start } = await killScene(cleanups);
    const answers = () => telegram.botMessages(adaChat.id).map((m) => m.text);

    const first = await start();
    telegram.pushMessage({ chat: adaChat, from: ada, text: 'Who founded High-Flyer?' });
    await until(() => answers().length === 1, 'the first answer', 10_000);

    // A slow answer, killed while it streams into the draft.
    llm.enqueue({
      content: 'Liang Wenfeng financed DeepSeek himself [1]. '.repeat(10),
      chunkChars: 4,
      chunkDelayMs: 50,
    });
    const interrupted = telegram.pushMessage({
      chat: adaChat,
      from: ada,
      text: 'Did Liang finance DeepSeek himself?',
    });
    await until(
      () => llm.requests.length === 2 && telegram.drafts.has(adaChat.id),
      'the answer to stream',
      10_000,
    );
    expect(await first.stop('SIGKILL')).toBeNull();
    expect(answers()).toHaveLength(1);

    await start();
    await until(() => answers().length === 2, 'the interrupted question to be answered', 10_000);
    // The slow reply went to the killed process; the new one gets the fake model's usual grounded answer.
    expect(answers()[1]).toMatch(/^According to the knowledge file, .*\[1\]/);
    // Answered by the new process with the memory the old one wrote: the first turn is in the prompt.
    const replayed = llm.requests[2]?.body.messages as Turn[];
    expect(replayed.map((m) => m.role)).toEqual(['system', 'user', 'assistant', 'user']);
    expect(askedQuestion(replayed.at(-1)?.content ?? '')).toBe(interrupted.text);

    telegram.pushMessage({ chat: adaChat, from: ada, text: 'How big is the national AI fund?' });
    await until(() => answers().length === 3, 'the next answer', 10_000);
    await new Promise((done) => setTimeout(done, 300));
    expect(answers()).toHaveLength(3);
    expect(llm.requests).toHaveLength(4);
    expect(promptRoles(llm, 3)).toEqual(['system', 'user', 'assistant', 'user', 'assistant', 'user']);
    expect(telegram.pendingUpdates()).toEqual([]);
  }, 30_000);

  it('answers the interrupted question of a user at the rate limit, in place of its frozen group preview', async ({
    cleanups,
  }) => {
    const { telegram, llm, start } = await killScene(cleanups);
    const oneQuestionAMinute = { RATE_LIMIT_PER_MINUTE: '1' };

    const first = await start(oneQuestionAMinute);
    llm.setDefault({ content: 'Liang Wenfeng founded High-Flyer [1]. '.repeat(20), chunkDelayMs: 100 });
    telegram.pushMessage({ chat: group, from: ada, text: '/ask Who founded High-Flyer?' });
    // Killed once the preview has grown by an edit: the message it sent is recorded by then.
    const [preview] = await telegram.waitFor(() => {
      const shown = telegram.botMessages(group.id);
      return (shown[0]?.edits ?? 0) > 0 && shown;
    }, 20_000);
    expect(await first.stop('SIGKILL')).toBeNull();

    // The question holds Ada's one place this minute; answered again, it is still her question, not a new one.
    llm.setDefault({});
    const second = await start(oneQuestionAMinute);
    await telegram.waitFor(
      () => telegram.botMessages(group.id).some((message) => /Sources/.test(message.text)),
      20_000,
    );
    const shown = telegram.botMessages(group.id);
    expect(shown).toHaveLength(1);
    expect(shown[0]?.message_id).toBe(preview?.message_id);
    expect(shown[0]?.text).toMatch(groundedAnswer);
    expect(llm.requests).toHaveLength(2);
    expect(second.logs().map((entry) => entry.msg)).not.toContain('update failed');
  }, 60_000);
});
