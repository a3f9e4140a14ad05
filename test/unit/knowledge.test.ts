import { mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/core/errors.ts';
import { loadKnowledge, maxPassageChars, parseKnowledgeFile } from '../../src/core/knowledge.ts';

const miniDir = new URL('../fixtures/knowledge-mini', import.meta.url).pathname;
const tempDirs: string[] = [];

async function knowledgeDir(files: Record<string, string>): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'poquan-knowledge-'));
  tempDirs.push(dir);
  for (const [name, content] of Object.entries(files)) await writeFile(join(dir, name), content);
  return dir;
}

afterEach(async () => {
  await Promise.all(tempDirs.splice(0).map((dir) => rm(dir, { recursive: true, force: true })));
});

describe('knowledge loader', () => {
  it('splits a file into passages with stable section ids and heading paths', async () => {
    const knowledge = await loadKnowledge(miniDir);
    expect(knowledge.passages.map((p) => p.id)).toEqual([
      'mini#deepseek-s-founder-1',
      'mini#state-funding-1',
    ]);
    expect(knowledge.passages[0]?.headingPath).toEqual(['Mini knowledge', "DeepSeek's founder"]);
    expect(knowledge.passages[1]?.text).toContain('9,600');
  });

  it('reads front matter into file info', async () => {
    const { files } = await loadKnowledge(miniDir);
    expect(files).toEqual([
      {
        source: 'mini.md',
        title: 'Mini knowledge',
        publication: 'Test Gazette',
        date: '2025-02-05',
        passageCount: 2,
      },
    ]);
  });

  it('takes the glossary table for query expansion instead of indexing it', async () => {
    const knowledge = await loadKnowledge(miniDir);
    expect(knowledge.passages.some((p) => p.text.includes('梁文锋'))).toBe(false);
    expect(knowledge.glossary).toContainEqual({ terms: ['幻方量化', '幻方', 'High-Flyer'] });
    expect(knowledge.glossary).toHaveLength(5);
  });

  it('bounds passage size, splitting long paragraphs at sentence ends without losing text', () => {
    const sentence = 'DeepSeek released a model that many people used during the holiday. ';
    const paragraph = sentence.repeat(30).trim();
    const { passages } = parseKnowledgeFile('long.md', `## Long\n\n${paragraph}\n`);
    expect(passages.length).toBeGreaterThan(1);
    for (const passage of passages) {
      expect(passage.text.length).toBeLessThanOrEqual(maxPassageChars);
      expect(passage.text.endsWith('.')).toBe(true);
    }
    expect(passages.map((p) => p.text).join(' ')).toBe(paragraph);
  });

  it('merges short paragraphs of a section and gives repeated headings distinct ids', () => {
    const { passages } = parseKnowledgeFile('notes.txt', '## A\n\nOne.\n\nTwo.\n\n## A\n\nThree.\n');
    expect(passages.map((p) => [p.id, p.text])).toEqual([
      ['notes#a-1', 'One.\n\nTwo.'],
      ['notes#a-2-1', 'Three.'],
    ]);
  });

  it('loads every .md and .txt file a user drops in and ignores other files', async () => {
    const dir = await knowledgeDir({
      'a.md': '## Alpha\n\nAlpha text.',
      'b.txt': 'Plain text without headings.',
      'c.json': '{}',
    });
    const knowledge = await loadKnowledge(dir);
    expect(knowledge.files.map((f) => f.source)).toEqual(['a.md', 'b.txt']);
    expect(knowledge.passages.map((p) => p.id)).toEqual(['a#alpha-1', 'b#b-1']);
  });

  it('changes the version when any file changes', async () => {
    const dir = await knowledgeDir({ 'a.md': '## A\n\nFirst.' });
    const before = await loadKnowledge(dir);
    await writeFile(join(dir, 'a.md'), '## A\n\nSecond.');
    const after = await loadKnowledge(dir);
    expect(after.version).not.toBe(before.version);
    expect(after.version).toMatch(/^[0-9a-f]{12}$/);
  });

  it('rejects an empty file, naming it', async () => {
    const dir = await knowledgeDir({ 'good.md': '## A\n\nText.', 'empty.md': '---\ntitle: x\n---\n\n' });
    await expect(loadKnowledge(dir)).rejects.toThrow(ConfigError);
    await expect(loadKnowledge(dir)).rejects.toThrow(/empty\.md.*no text/);
  });

  it('rejects an unreadable file, naming it', async () => {
    const dir = await knowledgeDir({ 'good.md': '## A\n\nText.' });
    await symlink(join(dir, 'gone.md'), join(dir, 'linked.md'));
    await expect(loadKnowledge(dir)).rejects.toThrow(/linked\.md.*cannot be read \(ENOENT\)/);
  });

  it('rejects a missing directory and one with no knowledge files', async () => {
    await expect(loadKnowledge('/nonexistent/poquan')).rejects.toThrow(
      /KNOWLEDGE_DIR.*\/nonexistent\/poquan/,
    );
    const dir = await knowledgeDir({ 'readme.json': '{}' });
    await expect(loadKnowledge(dir)).rejects.toThrow(/no \.md or \.txt files/);
  });

  it('rejects malformed front matter, naming the file', async () => {
    const dir = await knowledgeDir({ 'bad.md': '---\ntitle: [unclosed\n---\n\n## A\n\nText.' });
    await expect(loadKnowledge(dir)).rejects.toThrow(/bad\.md.*malformed/);
  });
});
