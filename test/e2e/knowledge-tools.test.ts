import { cp, mkdtemp, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect } from 'vitest';
import { type FakeLlm, startFakeLlm } from '../fakes/fake-llm.ts';
import { it } from '../fixtures/it.ts';
import { cleanCwd } from '../servers/poquan-env.ts';
import { runPoquan } from '../servers/poquan-process.ts';
import type { Cleanups } from './harness.ts';

const fixture = (path: string) => fileURLToPath(new URL(`../fixtures/${path}`, import.meta.url));
const shippedKnowledge = fileURLToPath(new URL('../../knowledge', import.meta.url));
const article = fixture('articles/kimi-k2.html');

/** A copy of the shipped knowledge in a folder of its own, removed after the test. */
async function knowledgeCopy(cleanups: Cleanups): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'poquan-knowledge-'));
  cleanups.push(() => rm(dir, { recursive: true, force: true }));
  await cp(shippedKnowledge, dir, { recursive: true });
  return dir;
}

async function fakeModel(cleanups: Cleanups): Promise<FakeLlm> {
  const llm = await startFakeLlm();
  cleanups.push(() => llm.close());
  return llm;
}

function poquan(args: string[], env: Record<string, string>, stdin = '') {
  return runPoquan(args, { STORE_URL: 'memory://', NO_COLOR: '1', ...env }, cleanCwd(), stdin);
}

/** The sources of the passages `poquan retrieve` finds for each question, in one run. */
async function retrievedSources(dir: string, ...questions: string[]): Promise<string[][]> {
  const run = await poquan(['retrieve'], { KNOWLEDGE_DIR: dir }, questions.join('\n'));
  expect(run.code, run.stderr).toBe(0);
  return run.stdout
    .trim()
    .split('\n')
    .map((line) =>
      (JSON.parse(line) as { passages: Array<{ source: string }> }).passages.map((p) => p.source),
    );
}

/** What the fake model renders the article's names and figures as, as a model that knows them would. */
const renderings = {
  'Kimi K2': 'Kimi K2',
  'one trillion': '1万亿 / 一万亿',
  '32 billion': '320亿',
  'Yang Zhilin': '杨植麟',
  'Tsinghua University': '清华大学 / 清华',
  'Carnegie Mellon University': '卡内基梅隆大学',
  Harbourline: '港线研究',
};

describe('poquan knowledge add, glossary --suggest and check', () => {
  it("adds a saved web page's article and makes its facts retrievable in English, then in Chinese once suggested glossary rows are accepted", {
    timeout: 90_000,
  }, async ({ cleanups }) => {
    const dir = await knowledgeCopy(cleanups);
    const question = 'How many parameters does Kimi K2 have?';
    const chinese = '杨植麟毕业于哪所大学？';
    const added = 'moonshot-kimi-k2-open-model.md';
    expect((await retrievedSources(dir, question))[0]).not.toContain(added);

    const add = await poquan(['knowledge', 'add', article, '--dir', dir], {});
    expect(add.code, add.stderr).toBe(0);
    expect(add.stdout).toContain(`Added ${join(dir, added)}`);
    expect(add.stdout).toContain(
      '(Tech Ledger Asia, 2025-07-14, https://techledger.example/asia/2025/07/moonshot-kimi-k2-open-model)',
    );
    expect(add.stdout).toContain('one trillion parameters in total, of which 32 billion are active');
    // Navigation, ads, the cookie banner, the newsletter box and the footer are not the article.
    for (const noise of [
      'Subscribe for $1',
      'Advertisement',
      'Accept all',
      'Sign up',
      'All rights reserved',
      'Related stories',
    ])
      expect(add.stdout).not.toContain(noise);
    const file = await readFile(join(dir, added), 'utf8');
    expect(file).toMatch(
      /^---\ntitle: Moonshot AI's Kimi K2 takes on DeepSeek with a trillion-parameter open model\n/,
    );
    expect(file).toContain('\nsource: Tech Ledger Asia\n');
    expect(file).toContain('\ndate: 2025-07-14\n');

    const [english, beforeGlossary] = await retrievedSources(dir, question, chinese);
    expect(english?.[0]).toBe(added);
    expect(beforeGlossary).not.toContain(added);

    const unchecked = await poquan(['knowledge', 'check', '--dir', dir], {});
    expect(unchecked.code).toBe(1);
    expect(unchecked.stdout).toContain(
      `${join(dir, 'moonshot-kimi-k2-open-model.md')}:18: name "Yang Zhilin" has no Chinese rendering in the glossary`,
    );

    const llm = await fakeModel(cleanups);
    llm.setRenderings(renderings);
    const suggested = await poquan(
      ['knowledge', 'glossary', '--suggest', join(dir, 'moonshot-kimi-k2-open-model.md'), '--dir', dir],
      { LLM_BASE_URL: llm.url, LLM_API_KEY: 'sk-test' },
    );
    expect(suggested.code, suggested.stderr).toBe(0);
    const suggestions = join(dir, 'moonshot-kimi-k2-open-model.glossary.md.suggested');
    expect(suggested.stdout).toContain(`Wrote 7 suggested glossary rows to ${suggestions} (not live)`);
    expect(suggested.stdout).toContain(
      `mv ${suggestions} ${join(dir, 'moonshot-kimi-k2-open-model.glossary.md')}`,
    );
    expect(await readFile(suggestions, 'utf8')).toContain('| 杨植麟 | Yang Zhilin |');
    // Suggested rows are not live: a Chinese question still misses the article.
    expect((await retrievedSources(dir, chinese))[0]).not.toContain(added);

    await rename(suggestions, join(dir, 'moonshot-kimi-k2-open-model.glossary.md'));
    expect((await retrievedSources(dir, chinese))[0]?.[0]).toBe(added);
    const checked = await poquan(['knowledge', 'check', '--dir', dir], {});
    expect(checked.stdout, checked.stdout).toBe(`${dir}: every knowledge file is fine.\n`);
    expect(checked.code).toBe(0);
  });

  it('asks the model nothing and writes nothing for a file whose names all have Chinese renderings', async ({
    cleanups,
  }) => {
    const dir = await knowledgeCopy(cleanups);
    const llm = await fakeModel(cleanups);
    const run = await poquan(
      ['knowledge', 'glossary', '--suggest', join(dir, 'china-ai-race.md'), '--dir', dir],
      {
        LLM_BASE_URL: llm.url,
      },
    );
    expect(run.code).toBe(0);
    expect(run.stdout).toContain('has a Chinese rendering in the glossary');
    expect(llm.requests).toHaveLength(0);
    expect(await readdir(dir)).toEqual(['china-ai-race.md']);
  });

  it('writes no suggestions file when the model answers with no usable rows', async ({ cleanups }) => {
    const dir = await knowledgeCopy(cleanups);
    const added = await poquan(['knowledge', 'add', article, '--dir', dir], {});
    expect(added.code).toBe(0);
    const llm = await fakeModel(cleanups);
    llm.enqueue({ content: 'Sure! Here are some translations you might like.' });
    const run = await poquan(
      ['knowledge', 'glossary', '--suggest', join(dir, 'moonshot-kimi-k2-open-model.md'), '--dir', dir],
      { LLM_BASE_URL: llm.url },
    );
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(
      /^poquan: the model's reply held no usable glossary rows for .*; nothing was written\n$/,
    );
    expect((await readdir(dir)).sort()).toEqual(['china-ai-race.md', 'moonshot-kimi-k2-open-model.md']);
  });

  it.for([
    [
      'a binary file',
      'photo.html',
      Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0x00, 0xff, 0xfe, 0x00]),
      'is not valid UTF-8 text (a binary file?)',
    ],
    ['an empty file', 'empty.md', Buffer.from(''), 'is empty'],
    [
      'a page with no article',
      'links.html',
      Buffer.from(
        '<html><head><title>Links</title></head><body><nav><a href="/a">Home</a> <a href="/b">News</a></nav><footer>© 2025</footer></body></html>',
      ),
      'has no article text (no main content found)',
    ],
    [
      'a text file of headings only',
      'headings.txt',
      Buffer.from('# One\n\n## Two\n'),
      'has no text to answer from',
    ],
    [
      'a file of another kind',
      'report.pdf',
      Buffer.from('%PDF-1.7\n'),
      'is not an article Poquan can add (only .html, .htm, .md and .txt)',
    ],
  ] as const)(
    'refuses %s with one line naming it, exit code 2 and nothing added',
    async ([, name, bytes, reason], { cleanups }) => {
      const dir = await knowledgeCopy(cleanups);
      const source = await mkdtemp(join(tmpdir(), 'poquan-add-'));
      cleanups.push(() => rm(source, { recursive: true, force: true }));
      await writeFile(join(source, name), bytes);
      const run = await poquan(['knowledge', 'add', join(source, name), article, '--dir', dir], {});
      expect(run.code).toBe(2);
      expect(run.stderr).toBe(`poquan: ${join(source, name)} ${reason}\n`);
      expect(await readdir(dir)).toEqual(['china-ai-race.md']);
    },
  );

  it('adds a plain text file with its first line as title and the date given', async ({ cleanups }) => {
    const dir = await knowledgeCopy(cleanups);
    const source = await mkdtemp(join(tmpdir(), 'poquan-add-'));
    cleanups.push(() => rm(source, { recursive: true, force: true }));
    await writeFile(
      join(source, 'zhipu-ipo.txt'),
      'Zhipu AI plans a listing\n\nZhipu AI filed for a listing on the Shanghai STAR Market in April 2025, the first of the six little tigers to do so.\n',
    );
    const run = await poquan(
      ['knowledge', 'add', join(source, 'zhipu-ipo.txt'), '--dir', dir, '--date', '2025-04-15'],
      {},
    );
    expect(run.code, run.stderr).toBe(0);
    const file = await readFile(join(dir, 'zhipu-ipo.md'), 'utf8');
    expect(file).toMatch(/^---\ntitle: Zhipu AI plans a listing\ndate: 2025-04-15\n/);
    expect(file).toContain('\n# Zhipu AI plans a listing\n\nZhipu AI filed for a listing');
    expect((await retrievedSources(dir, 'When did Zhipu AI file for a listing?'))[0]?.[0]).toBe(
      'zhipu-ipo.md',
    );
  });
});
