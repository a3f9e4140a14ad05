/**
 * Deterministic knowledge bases of any size for the scale benchmark: mixed English, Chinese and bilingual
 * passages with the real file's length distribution, headings and glossary, from a seeded PRNG — the same
 * seed and size always give the same passages, so runs on different machines index the same text.
 */
import type { KnowledgeBase, Passage } from '../src/core/knowledge.ts';

/** A seeded generator of floats in [0, 1) (mulberry32: tiny, fast, good enough for test data). */
export function createRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Picks from `items` with Zipf weights (rank r weighs 1/r), as word frequencies in real text fall off. */
function zipfPicker<T>(items: readonly T[], random: () => number): () => T {
  const cumulative: number[] = [];
  let total = 0;
  for (let rank = 1; rank <= items.length; rank++) {
    total += 1 / rank;
    cumulative.push(total);
  }
  return () => {
    const target = random() * total;
    let low = 0;
    let high = cumulative.length - 1;
    while (low < high) {
      const middle = (low + high) >>> 1;
      if ((cumulative[middle] as number) < target) low = middle + 1;
      else high = middle;
    }
    return items[low] as T;
  };
}

// Chinese function and topic words the real glossary lacks; glossary terms are added to these.
const chineseWords =
  `的 了 是 在 和 与 也 都 就 而 对 从 为 这 那 一个 我们 他们 公司 企业 市场 技术 发展 创新 模型 数据
  用户 中国 美国 国际 全球 行业 政策 资金 投资者 研究 团队 产品 服务 能力 问题 时间 今年 去年 认为 表示 指出 希望 需要
  可以 已经 正在 成为 进入 推出 发布 获得 提供 支持 推动 加快 竞争 合作 领域 方面 水平 规模 成本 价格 芯片 算法 训练
  应用 平台 生态 开源 大模型 人工智能 初创公司 科技巨头 创始人 工程师 学生 教授 分析师 报道 采访 社交媒体 春节 假期`
    .split(/\s+/)
    .filter(Boolean);

/** An English word-bigram chain trained on the real passages: plausible sentences with the real vocabulary. */
function trainBigrams(texts: string[]): { starts: string[]; next: Map<string, string[]> } {
  const starts: string[] = [];
  const next = new Map<string, string[]>();
  for (const text of texts) {
    const words = text.split(/\s+/).filter(Boolean);
    words.forEach((word, index) => {
      if (index === 0 || /[.!?]["”]?$/.test(words[index - 1] as string)) starts.push(word);
      const following = words[index + 1];
      if (!following) return;
      const list = next.get(word) ?? [];
      list.push(following);
      next.set(word, list);
    });
  }
  return { starts, next };
}

/**
 * Made-up names (`Kavoren`, `Tulimax` …): a real corpus's vocabulary keeps growing with its size, so a
 * large corpus built only from one article's words would give every term a far longer posting list than
 * real text does.
 */
function pseudoWords(count: number, random: () => number): string[] {
  const syllables = [
    'ka',
    'vo',
    'ren',
    'tu',
    'li',
    'max',
    'zhe',
    'qin',
    'bo',
    'ra',
    'sun',
    'mei',
    'dao',
    'fen',
    'lu',
    'ter',
  ];
  const words = new Set<string>();
  while (words.size < count) {
    let word = '';
    const length = 2 + Math.floor(random() * 3);
    for (let i = 0; i < length; i++) word += syllables[Math.floor(random() * syllables.length)];
    words.add(word[0]?.toUpperCase() + word.slice(1));
  }
  return [...words];
}

/** Builds a knowledge base of `size` passages from the real one: same glossary, headings and lengths. */
export function generateCorpus(real: KnowledgeBase, size: number, seed = 2025): KnowledgeBase {
  const random = createRandom(seed);
  const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)] as T;
  const bigrams = trainBigrams(real.passages.map((passage) => passage.text));
  const lengths = real.passages.map((passage) => passage.text.length);
  const headingPaths = real.passages.map((passage) => passage.headingPath);
  const rareWord = zipfPicker(pseudoWords(20_000, random), random);
  const cjkTerms = real.glossary.flatMap((entry) =>
    entry.terms.filter((term) => /\p{Script=Han}/u.test(term)),
  );
  const chineseWord = zipfPicker([...chineseWords, ...cjkTerms], random);
  const bilingual = real.glossary
    .map((entry) => ({
      english: entry.terms.find((term) => !/\p{Script=Han}/u.test(term)),
      chinese: entry.terms.find((term) => /\p{Script=Han}/u.test(term)),
    }))
    .filter((pair): pair is { english: string; chinese: string } => Boolean(pair.english && pair.chinese));

  const english = (target: number, withChinese: boolean) => {
    const words: string[] = [];
    let length = 0;
    let word = pick(bigrams.starts);
    while (length < target) {
      const emitted = random() < 0.08 ? rareWord() : word;
      words.push(emitted);
      length += emitted.length + 1;
      if (withChinese && random() < 0.04) {
        const pair = pick(bilingual);
        words.push(`${pair.english} (${pair.chinese})`);
        length += pair.english.length + pair.chinese.length + 4;
      }
      const options = bigrams.next.get(word);
      word = options ? pick(options) : pick(bigrams.starts);
    }
    return words.join(' ');
  };
  const chinese = (target: number) => {
    let text = '';
    while (text.length < target) {
      const words = 6 + Math.floor(random() * 14);
      for (let i = 0; i < words; i++) {
        text += chineseWord();
        if (random() < 0.05) text += rareWord();
        if (i > 0 && i < words - 1 && random() < 0.08) text += '，';
      }
      text += '。';
    }
    return text;
  };

  const passages: Passage[] = [];
  let headingPath: string[] = [];
  for (let index = 0; index < size; index++) {
    // Sections of a few passages each, as in the real file, under headings that vary like a real corpus's.
    if (index === 0 || random() < 0.25) {
      const real = pick(headingPaths);
      headingPath = [...real.slice(0, -1), `${real.at(-1)}: ${rareWord()}`];
    }
    const target = pick(lengths);
    const kind = random();
    passages.push({
      id: `synthetic#p-${index + 1}`,
      source: 'synthetic.md',
      heading: headingPath.at(-1) ?? 'Synthetic',
      headingPath,
      text: kind < 0.6 ? english(target, false) : kind < 0.85 ? chinese(target / 2) : english(target, true),
    });
  }
  return {
    passages,
    glossary: real.glossary,
    files: [{ source: 'synthetic.md', title: `Synthetic corpus of ${size} passages`, passageCount: size }],
    version: `synthetic-${seed}-${size}`,
  };
}
