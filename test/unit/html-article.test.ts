import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { readHtmlArticle } from '../../src/knowledge-tools/html-article.ts';

const saved = readFileSync(new URL('../fixtures/articles/kimi-k2.html', import.meta.url));
const paragraph =
  'Unitree Robotics showed sixteen humanoid robots dancing with handkerchiefs on the Spring Festival Gala, watched by hundreds of millions of viewers across China.';

function page(head: string, body: string): Uint8Array {
  return Buffer.from(`<!doctype html><html><head>${head}</head><body>${body}</body></html>`);
}

describe('reading a saved web page', () => {
  it('keeps the article and its metadata, and none of the navigation, ads, banners or footer', () => {
    const article = readHtmlArticle(saved);
    if ('problem' in article) throw new Error(article.problem);
    expect(article).toMatchObject({
      title: "Moonshot AI's Kimi K2 takes on DeepSeek with a trillion-parameter open model",
      publication: 'Tech Ledger Asia',
      date: '2025-07-14',
      url: 'https://techledger.example/asia/2025/07/moonshot-kimi-k2-open-model',
      language: 'en',
    });
    expect(
      article.blocks.map((block) => (block.type === 'heading' ? `## ${block.text}` : block.text)),
    ).toEqual([
      expect.stringMatching(/^Beijing-based Moonshot AI released Kimi K2 on July 11, 2025/),
      expect.stringMatching(/^Kimi K2 is a mixture-of-experts model with one trillion parameters/),
      '## A founder from Tsinghua University',
      expect.stringMatching(/^Moonshot AI was founded in 2023 by Yang Zhilin/),
      expect.stringMatching(/^Kimi K2 costs far less/),
      '## What it means for the race',
      expect.stringMatching(/^Analysts at Harbourline Research said/),
    ]);
  });

  it('takes the date from JSON-LD, else from a <time> element, and the title from <title> without og:title', () => {
    const fromJsonLd = readHtmlArticle(
      page(
        '<title>Robots dance</title><script type="application/ld+json">{"@graph":[{"@type":"NewsArticle","datePublished":"2025-01-29T20:00:00+08:00","publisher":{"name":"Gala Daily"}}]}</script>',
        `<article><p>${paragraph}</p></article>`,
      ),
    );
    expect(fromJsonLd).toMatchObject({
      title: 'Robots dance',
      date: '2025-01-29',
      publication: 'Gala Daily',
    });
    const fromTime = readHtmlArticle(
      page(
        '<title>Robots dance</title>',
        `<article><time datetime="2025-01-30">30 Jan</time><p>${paragraph}</p></article>`,
      ),
    );
    expect(fromTime).toMatchObject({ date: '2025-01-30' });
  });

  it('reads a page in the charset it declares (GBK)', () => {
    const gbkChinese = Buffer.from([0xd6, 0xd0, 0xce, 0xc4]); // 中文
    const bytes = Buffer.concat([
      Buffer.from(`<html><head><meta charset="gbk"><title>GBK</title></head><body><article><p>${paragraph} `),
      gbkChinese,
      Buffer.from('</p></article></body></html>'),
    ]);
    const article = readHtmlArticle(bytes);
    if ('problem' in article) throw new Error(article.problem);
    expect(article.blocks[0]?.text).toMatch(/中文$/);
  });

  it.each([
    ['empty', Buffer.from('  \n'), 'is empty'],
    ['binary', Buffer.from([0x00, 0x01, 0xff, 0xfe, 0x89]), 'is not valid UTF-8 text (a binary file?)'],
    [
      'a page of links',
      page('<title>Home</title>', '<nav><a href="/a">World</a> <a href="/b">Tech</a></nav>'),
      'has no article text (no main content found)',
    ],
    [
      'an unknown charset',
      Buffer.from('<meta charset="klingon"><p>text</p>'),
      'declares the unknown charset "klingon"',
    ],
  ])('refuses %s', (_kind, bytes, problem) => {
    expect(readHtmlArticle(bytes)).toEqual({ problem });
  });
});
