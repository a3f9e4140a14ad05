import { describe, expect, it } from 'vitest';
import { extractFigures, findUngroundedFigures, parseChineseNumber } from '../../src/core/figures.ts';

const values = (text: string) => extractFigures(text).map((figure) => figure.value);

describe('extractFigures', () => {
  it.each([
    ['60 billion yuan', 6e10],
    ['60bn', 6e10],
    ['60 bn', 6e10],
    ['600亿', 6e10],
    ['六百亿', 6e10],
    ['600亿元', 6e10],
    ['US$8.2bn', 8.2e9],
    ['8.2 billion dollars', 8.2e9],
    ['sixty billion', 6e10],
    ['1840亿美元', 1.84e11],
    ['一千八百四十亿', 1.84e11],
    ['9,600 companies', 9600],
    ['9600多家', 9600],
    ['9.6k', 9600],
    ['5m users', 5e6],
    ['1.5万亿', 1.5e12],
    ['一万亿', 1e12],
    ['一亿五千万', 1.5e8],
    ['两万', 2e4],
    ['十二万三千', 123000],
    ['一百零五', 105],
    ['2030年', 2030],
    ['二〇三〇年', 2030],
    ['20%', 20],
    ['20 per cent', 20],
    ['百分之五十', 50],
    ['twenty-three', 23],
    ['23-year-old', 23],
    ['the 1990s', 1990],
    ['两个月', 2],
    ['三家公司', 3],
  ])('reads %s as %d', (text, value) => {
    expect(values(text)).toEqual([value]);
  });

  it('reads every figure of a sentence in order, dates included', () => {
    expect(values('On February 4, 2025, nine out of the top 20 were Chinese.')).toEqual([2, 4, 2025, 9, 20]);
    expect(values('2025年2月4日')).toEqual([2025, 2, 4]);
  });

  it('keeps the figure as written, with its currency and percent sign', () => {
    expect(extractFigures('US$184 billion (S$249 billion), up 20%').map((figure) => figure.text)).toEqual([
      'US$184 billion',
      'S$249 billion',
      '20%',
    ]);
  });

  it('ignores citation markers, list numbers and numbers inside names', () => {
    expect(values('1. DeepSeek-R1 and V3 [1][2], Qwen2, GPT-4 and 01.ai 【3】 [1, 2]\n2. More')).toEqual([]);
    expect(values('in the top-20')).toEqual([20]);
  });

  it('ignores words that only look like numbers', () => {
    expect(values('One of them may march on; 六小虎之一，一些公司十分看好')).toEqual([]);
  });

  it('reads "May" as a month only before a day', () => {
    expect(values('On May 4 it may rain')).toEqual([5, 4]);
  });
});

describe('parseChineseNumber', () => {
  it('rejects text that is not a numeral', () => {
    expect(parseChineseNumber('六小')).toBeUndefined();
  });
});

describe('findUngroundedFigures', () => {
  const passage =
    'A national AI industry investment fund of 60 billion yuan (approximately S$11 billion), announced in January 2025. Chinese firms hold nine out of the top 20 places.';

  it('finds nothing when every figure is in a passage, in whatever form', () => {
    expect(findUngroundedFigures('The fund holds 60bn yuan (S$11 billion) [1].', [passage])).toEqual([]);
    expect(
      findUngroundedFigures('2025年1月宣布的基金规模为六百亿元，中国公司占前20名中的9席[1]。', [passage]),
    ).toEqual([]);
  });

  it('names each figure no passage holds, once, as the answer wrote it', () => {
    expect(
      findUngroundedFigures('The fund holds US$8.2bn [1], and US$8.2bn more in 2031 [2].', [passage]),
    ).toEqual(['US$8.2bn', '2031']);
    expect(findUngroundedFigures('基金规模为七百亿元[1]。', [passage])).toEqual(['七百亿']);
  });

  it('grounds against any of the given passages', () => {
    expect(findUngroundedFigures('Founded in 2015 [2].', [passage, 'High-Flyer in 2015.'])).toEqual([]);
    expect(findUngroundedFigures('Founded in 2015 [1].', [passage])).toEqual(['2015']);
  });
});
