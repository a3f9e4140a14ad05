import { describe, expect, it } from 'vitest';
import { collectCitations } from '../../src/core/citations.ts';
import { parseKnowledgeFile } from '../../src/core/knowledge.ts';
import { extractiveAnswer } from '../../src/core/offline-answer.ts';
import type { ScoredPassage } from '../../src/core/retriever.ts';
import { createSentenceRanker } from '../../src/core/sentence-scoring.ts';

const file = parseKnowledgeFile(
  'k.md',
  `# Lab

## Independence

Mara Quill, a researcher at the Institute, wrote about the lab's independence: the lab took no state money.

## Founder

The lab's founder Tomas Wren paid for its work with his own money. Tomas Wren had grown rich after starting a fund in 2015.

## Funding

The lab was set up in 2021. A state fund of 40 billion yuan backs other labs in the sector.

## Glossary

| 中文 | English |
| --- | --- |
| 实验室 | lab |
| 创始人 | founder |
| 基金 | fund |
`,
);
const knowledge = { ...file, files: [file.info], version: 'v1' };
const byHeading = (heading: string) => file.passages.find((passage) => passage.heading === heading);
/** Passages in a retrieval order that puts the distracting one first, as keyword search sometimes does. */
const passages: ScoredPassage[] = ['Independence', 'Founder', 'Funding'].map((heading, index) => ({
  passage: byHeading(heading) as ScoredPassage['passage'],
  score: 10 - index,
}));
const rank = createSentenceRanker(knowledge);
const best = (question: string) => rank(question, passages)[0];

describe('createSentenceRanker', () => {
  it('answers "who" with the sentence naming a person next to what was asked, not the first passage', () => {
    expect(best("Who is the lab's founder?")).toMatchObject({
      passageIndex: 1,
      sentence: "The lab's founder Tomas Wren paid for its work with his own money.",
    });
  });

  it('answers "when" and 哪一年 with a sentence holding a year', () => {
    expect(best('When was the lab set up?')?.sentence).toBe('The lab was set up in 2021.');
    expect(best('实验室是哪一年成立的？')?.sentence).toContain('2021');
  });

  it('answers "how much" and 多少 with a sentence holding an amount', () => {
    expect(best('How much is the state fund?')?.sentence).toContain('40 billion yuan');
    expect(best('国家基金有多少钱？')?.sentence).toContain('40 billion yuan');
  });

  it('reaches English sentences from a Chinese question through the glossary', () => {
    expect(best('介绍一下实验室的创始人')).toMatchObject({
      passageIndex: 1,
      sentence: expect.stringContaining('founder'),
    });
  });

  it('weighs a term rare in the knowledge above one that is everywhere', () => {
    // "lab" is in most sentences, "independence" in one.
    expect(best('lab independence')?.passageIndex).toBe(0);
  });

  it('ranks every sentence of the passages given, each verbatim', () => {
    const ranked = rank('anything', passages);
    expect(ranked).toHaveLength(5);
    for (const { sentence, passageIndex } of ranked) {
      expect(passages[passageIndex]?.passage.text).toContain(sentence);
    }
  });
});

const funds = parseKnowledgeFile(
  'funds.md',
  `# Funds

## Private money

Private investors put 2 billion yuan into a fund for universities. The alliance was formed in 2020 by labs from three countries, and the labs share their data. The alliance pays Jon Pell from its funds.

## State money

The state runs several AI funds. One of them is a national fund of 40 billion yuan.

## Members

The alliance members are Orion Lab, Vega Lab, Lyra Lab and Castor Lab. Jon Pell, a chemist at Orion Lab, chairs the alliance.
`,
);
const fundsKnowledge = { ...funds, files: [funds.info], version: 'v1' };
const fundPassages: ScoredPassage[] = funds.passages.map((passage, index) => ({
  passage,
  score: 10 - index,
}));
const rankFunds = createSentenceRanker(fundsKnowledge);

describe('createSentenceRanker, reading past the sentence', () => {
  it('reads a sentence opening with "One of them" with the sentence before it', () => {
    expect(rankFunds('How much is the state AI fund?', fundPassages)[0]?.sentence).toBe(
      'One of them is a national fund of 40 billion yuan.',
    );
  });

  it('answers "which … make up" with the sentence that lists names', () => {
    expect(rankFunds('Which labs make up the alliance?', fundPassages)[0]?.sentence).toBe(
      'The alliance members are Orion Lab, Vega Lab, Lyra Lab and Castor Lab.',
    );
  });

  it('answers "who is X?" with the sentence saying what X is, not the first naming X', () => {
    expect(rankFunds('Who is Jon Pell?', fundPassages)[0]?.sentence).toBe(
      'Jon Pell, a chemist at Orion Lab, chairs the alliance.',
    );
  });

  it('takes paraphrases: "started" asks for the founder', () => {
    expect(best('Who started the lab?')?.sentence).toContain('Tomas Wren');
  });
});

describe('extractiveAnswer', () => {
  it('opens with the best sentence, cited with its passage number, then supporting quotes', () => {
    const text = extractiveAnswer("Who is the lab's founder?", passages, 'en', knowledge);
    const quotes = text.split('\n').filter((line) => line.startsWith('- '));
    expect(quotes[0]).toBe("- The lab's founder Tomas Wren paid for its work with his own money. [2]");
    expect(quotes.length).toBeGreaterThan(1);
    expect(text).toContain('LLM_API_KEY');
  });

  it('cites numbers that map to the passages list, so the sources are the quoted passages', () => {
    const text = extractiveAnswer('When was the lab set up?', passages, 'en', knowledge);
    const citations = collectCitations(text, passages);
    for (const line of text.split('\n').filter((l) => l.startsWith('- '))) {
      const n = Number(/\[(\d+)\]$/.exec(line)?.[1]);
      const quote = line.slice(2).replace(/ \[\d+\]$/, '');
      expect(passages[n - 1]?.passage.text).toContain(quote);
      expect(citations.map((citation) => citation.n)).toContain(n);
    }
  });

  it('still quotes without the knowledge, weighing terms over the passages given', () => {
    const text = extractiveAnswer('When was the lab set up?', passages, 'zh', undefined);
    expect(text).toContain('- The lab was set up in 2021. [3]');
    expect(text).toContain('离线模式');
  });
});
