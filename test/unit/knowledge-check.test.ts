import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { checkKnowledgeDir, formatProblem } from '../../src/knowledge-tools/check-knowledge.ts';

const today = '2026-12-02';
const folders: string[] = [];

afterEach(async () => {
  await Promise.all(folders.splice(0).map((dir) => rm(dir, { recursive: true, force: true })));
});

/** A knowledge folder holding exactly `files`, and the problem lines `knowledge check` reports for it. */
async function check(files: Record<string, string | Uint8Array>): Promise<string[]> {
  const dir = await mkdtemp(join(tmpdir(), 'poquan-check-'));
  folders.push(dir);
  for (const [name, content] of Object.entries(files)) await writeFile(join(dir, name), content);
  return (await checkKnowledgeDir(dir, today)).map((problem) =>
    formatProblem(problem).replaceAll(`${dir}/`, ''),
  );
}

const front = "---\ntitle: Robots\nsource: Test Gazette\ndate: '2025-03'\n---\n";
const glossary =
  '\n## Glossary · 术语表\n\n| 中文 | English | Notes |\n| --- | --- | --- |\n| 宇树科技 | Unitree | |\n| 杭州 | Hangzhou | |\n';
const good = `${front}\n# Robots\n\nUnitree, a robot maker based in Hangzhou, showed dancing humanoid robots on television.\n${glossary}`;

describe('poquan knowledge check', () => {
  it('passes a well-formed file, and the shipped knowledge', async () => {
    expect(await check({ 'robots.md': good })).toEqual([]);
    const shipped = fileURLToPath(new URL('../../knowledge', import.meta.url));
    expect((await checkKnowledgeDir(shipped, today)).map(formatProblem)).toEqual([]);
  });

  it.each([
    [
      'a binary file',
      Buffer.from([0x89, 0x50, 0x4e, 0x47, 0xff, 0x00]),
      'bin.md: is not valid UTF-8 text (a binary file?)',
    ],
    [
      'a control character',
      `${front}\n# Robots\n\nUnitree ships\u0007 robots.\n`,
      'bin.md: contains the control character U+0007 on line 9 (a binary file?)',
    ],
    [
      'replacement characters',
      `${front}\n# Robots\n\nUnitree \uFFFD robots.\n`,
      'bin.md: contains U+FFFD replacement characters from line 9 (a broken conversion?)',
    ],
    ['an empty file', '', 'bin.md: is empty'],
    [
      'HTML markup',
      `${front}\n<div class="story"><p>Unitree ships robots.</p></div>\n`,
      'bin.md:7: holds HTML markup',
    ],
  ])('reports text that is not text: %s', async (_kind, content, line) => {
    const lines = await check({ 'bin.md': content, 'robots.md': good });
    expect(
      lines.some((reported) => reported.startsWith(line)),
      lines.join('\n'),
    ).toBe(true);
  });

  it.each([
    ['no front matter', '# Robots\n\nUnitree makes robots in Hangzhou.\n', 'x.md:1: has no front matter'],
    [
      'front matter never closed',
      '---\ntitle: Robots\n\nUnitree makes robots.\n',
      'x.md:1: front matter is not closed',
    ],
    [
      'front matter that is not YAML',
      '---\ntitle: [Robots\n---\n\nUnitree makes robots.\n',
      'x.md:2: front matter is not valid YAML',
    ],
    ['no title', "---\ndate: '2025-03'\n---\n\nUnitree makes robots.\n", 'x.md:1: front matter has no title'],
    [
      'an unknown key',
      "---\ntitle: Robots\ndate: '2025-03'\nauthour: Ann\n---\n\nUnitree makes robots.\n",
      'x.md:4: front matter has the unknown key "authour"',
    ],
    ['no date', '---\ntitle: Robots\n---\n\nUnitree makes robots.\n', 'x.md:1: front matter has no date'],
    [
      'a topic in one language',
      "---\ntitle: Robots\ndate: '2025-03'\ntopic: robots\n---\n\nUnitree makes robots.\n",
      'x.md:4: front matter sets topic but not topic_zh',
    ],
  ])('reports bad front matter: %s', async (_kind, content, line) => {
    const lines = await check({ 'x.md': content });
    expect(
      lines.some((reported) => reported.startsWith(line)),
      lines.join('\n'),
    ).toBe(true);
  });

  it.each([
    ["'2025-13'", 'x.md:3: date "2025-13" has no month 13'],
    ["'2025-02-30'", 'x.md:3: date "2025-02-30" is not a day of the calendar'],
    ["'Feb 2025'", 'x.md:3: date "Feb 2025" is not YYYY-MM-DD, YYYY-MM or YYYY'],
    ["'2031-01-01'", 'x.md:3: date "2031-01-01" is in the future'],
  ])('reports a bad date: %s', async (date, line) => {
    const lines = await check({
      'x.md': `---\ntitle: Robots\ndate: ${date}\n---\n\nUnitree makes robots.\n`,
    });
    expect(lines).toContain(line);
  });

  it('reports a passage repeated in another file, naming where it first appears', async () => {
    const lines = await check({ 'robots.md': good, 'robots-copy.md': good.replace(glossary, '') });
    expect(lines, lines.join('\n')).toContain('robots.md:9: repeats the passage at robots-copy.md:9');
  });

  it.each([
    ['a row with a missing cell', '| 宇树科技 | Unitree |\n', 'glossary row has 2 cells, the header 3'],
    [
      'a row with no English term',
      '| 宇树科技 |  | |\n',
      'glossary row needs a term in both the 中文 and the English column',
    ],
    [
      'a row with no Chinese',
      '| Unitree Robotics | Unitree | |\n',
      'glossary row has no Chinese in the 中文 column (to keep a name as it is, write it in both columns)',
    ],
    ['an empty term', '| 宇树科技 / | Unitree | |\n', 'glossary row has an empty term between slashes'],
  ])('reports a malformed glossary table: %s', async (_kind, row, message) => {
    const broken = good.replace('| 宇树科技 | Unitree | |\n', row);
    const lines = await check({ 'robots.md': broken });
    expect(lines, lines.join('\n')).toContain(`robots.md:15: ${message}`);
  });

  it('reports a glossary table without its separator row', async () => {
    const broken = good.replace('| --- | --- | --- |\n', '');
    expect(await check({ 'robots.md': broken })).toContain(
      'robots.md:14: glossary table has no | --- | --- | row under its header',
    );
  });

  it('reports names and figures no glossary row renders in Chinese, and not words that only open sentences', async () => {
    const text = `${front}\n# Robots\n\nUnitree, founded by Wang Xingxing in Hangzhou, raised US$100 million from Tencent. Investors cheered.\n${glossary}`;
    expect(await check({ 'robots.md': text })).toEqual([
      'robots.md:9: figure "US$100 million" has no Chinese rendering in the glossary',
      'robots.md:9: name "Wang Xingxing" has no Chinese rendering in the glossary',
      'robots.md:9: name "Tencent" has no Chinese rendering in the glossary',
    ]);
    const rendered = text.replace(
      '| 杭州 | Hangzhou | |',
      '| 杭州 | Hangzhou | |\n| 王兴兴 | Wang Xingxing | |\n| 腾讯 | Tencent | |\n| 1亿美元 | US$100 million | |',
    );
    expect(await check({ 'robots.md': rendered })).toEqual([]);
  });
});
