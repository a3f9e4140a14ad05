import { describe, expect, it } from 'vitest';
import { parseKnowledgeFile } from '../../src/core/knowledge.ts';
import { paraphraseGroupsOf, paraphrasesOf, retrieveWithParaphrases } from '../../src/core/paraphrases.ts';
import { createBm25Retriever } from '../../src/search/bm25-retriever.ts';

const file = parseKnowledgeFile(
  'k.md',
  `# Lab

## People

Mara Quill, a researcher at the Institute, wrote about the lab in a long report on its history and its work.

## Founder

The lab's founder Tomas Wren paid for its work with his own money and became a billionaire.

## Cost

The lab built its telescope at a much lower cost than its rivals did.
`,
);
// A three-passage file scores far below the shipped floor, which is sized for the shipped knowledge.
const retriever = createBm25Retriever({ ...file, files: [file.info], version: 'v1' }, { minScore: 0.1 });

describe('paraphrasesOf', () => {
  it('adds the wording texts use for everyday question wording', () => {
    expect(paraphrasesOf('Who started the lab?')).toContain('founded');
    expect(paraphrasesOf('Where did Mara Quill publish it?')).toContain('wrote');
    expect(paraphrasesOf('How did he make his fortune?')).toContain('billionaire');
  });

  it('joins irregular verb forms the stemmer cannot', () => {
    expect(paraphrasesOf('What did the lab build?')).toContain('built');
    expect(paraphrasesOf('Who built it?')).toContain('build');
  });

  it('gives English for common Chinese question words', () => {
    expect(paraphrasesOf('他们最近发布了什么模型？')).toEqual(
      expect.arrayContaining(['released', 'model', 'latest']),
    );
  });

  it('matches English wording as whole words only', () => {
    expect(paraphrasesOf('Which start-ups lead the sector?')).not.toContain('founded');
    expect(paraphrasesOf('the leader')).toEqual([]);
  });

  it('keeps the alternatives for one meaning together', () => {
    expect(paraphraseGroupsOf('Who started it?')).toEqual([['founded', 'founder']]);
  });
});

describe('retrieveWithParaphrases', () => {
  it('ranks by the paraphrase a question in scope needs: "started" finds the founder', () => {
    expect(retriever.retrievePassages('Who started the lab?', 3)[0]?.passage.heading).not.toBe('Founder');
    const [first] = retrieveWithParaphrases(retriever, 'Who started the lab?', 3);
    expect(first?.passage.heading).toBe('Founder');
  });

  it('leaves scope to the question: generic paraphrased words do not bring in an unrelated question', () => {
    // "price" → "cost", which one passage holds; the question itself matches nothing.
    expect(retriever.retrievePassages('What is the price of bread?', 3)).toEqual([]);
    expect(retrieveWithParaphrases(retriever, 'What is the price of bread?', 3)).toEqual([]);
  });
});
