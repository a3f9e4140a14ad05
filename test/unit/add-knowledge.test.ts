import { describe, expect, it } from 'vitest';
import { prepareKnowledgeFile } from '../../src/knowledge-tools/add-knowledge.ts';

const today = '2026-12-02';
const prepare = (name: string, text: string, overrides = {}) =>
  prepareKnowledgeFile(name, Buffer.from(text), { today, overrides });

describe('preparing a file to add', () => {
  it("keeps a Markdown file's front matter and text, adding a note of where it came from", () => {
    const file = prepare(
      'robots.md',
      "---\ntitle: Robots\ndate: '2025-03'\n---\n\n# Robots\n\nUnitree makes robots.\n",
    );
    expect(file).toMatchObject({ name: 'robots.md', title: 'Robots', date: '2025-03' });
    if ('problem' in file) return;
    expect(file.content).toBe(
      '---\ntitle: Robots\ndate: 2025-03\nnote: Added with `poquan knowledge add` from robots.md on 2026-12-02.\n---\n\n# Robots\n\nUnitree makes robots.\n',
    );
    expect(file.passages.map((passage) => passage.text)).toEqual(['Unitree makes robots.']);
  });

  it('gives a Markdown file without front matter its first heading as title, and the metadata given', () => {
    const file = prepare('Robots Today.md', '# Dancing robots\n\nUnitree makes robots.\n', {
      date: '2025-02-01',
    });
    expect(file).toMatchObject({ name: 'robots-today.md', title: 'Dancing robots', date: '2025-02-01' });
  });

  it('refuses a file whose front matter is broken', () => {
    expect(prepare('x.md', '---\ntitle: x\ntopic: robots\n---\n\nUnitree makes robots.\n')).toEqual({
      problem: 'has malformed front matter: sets topic but not topic_zh: give both languages',
    });
    expect(prepare('x.md', '---\ntitle: [x\n---\n\nUnitree makes robots.\n')).toMatchObject({
      problem: expect.stringMatching(/^has malformed front matter: /),
    });
  });
});
