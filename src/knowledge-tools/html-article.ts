import { Readability } from '@mozilla/readability';
import { parseHTML } from 'linkedom';
import { describeNonText } from '../core/knowledge.ts';

/** The parts of a DOM node this module reads (the project compiles without the DOM library's types). */
interface DomNode {
  nodeType: number;
  textContent: string | null;
  childNodes: ArrayLike<DomNode>;
}

interface DomElement extends DomNode {
  tagName: string;
  getAttribute(name: string): string | null;
  querySelector(selector: string): DomElement | null;
  querySelectorAll(selector: string): ArrayLike<DomElement>;
}

// Readability leaves in what sits inside the article's own markup: inline ads, newsletter boxes, share bars.
const noiseClass =
  /(?:^|[\s_-])(?:ads?|advert\w*|sponsor\w*|promo\w*|newsletter\w*|signup|subscribe|cookie\w*|consent|paywall|share|social|related)(?:$|[\s_-])/i;

/** Removes ads, consent banners, newsletter boxes and forms before Readability reads the page. */
function removeNoise(document: DomElement): void {
  for (const element of Array.from(document.querySelectorAll('[class], [id], form, button, aside'))) {
    const names = `${element.getAttribute('class') ?? ''} ${element.getAttribute('id') ?? ''}`;
    const tag = element.tagName.toLowerCase();
    if (tag === 'html' || tag === 'body') continue;
    if (tag === 'form' || tag === 'button' || tag === 'aside' || noiseClass.test(names))
      (element as unknown as { remove(): void }).remove();
  }
}

const elementNode = 1;
const textNode = 3;

/** One block of an article's main text: a heading (level 2 and below) or a paragraph of plain text. */
export type ArticleBlock =
  | { type: 'heading'; level: number; text: string }
  | { type: 'paragraph'; text: string };

/** A saved web page's article: its main text without navigation, ads or footer, and what the page says about it. */
export interface HtmlArticle {
  title: string;
  /** The site or publication (`og:site_name`). */
  publication?: string;
  /** Publication date as `YYYY-MM-DD` (or `YYYY-MM`), from `article:published_time`, `<time>` and the like. */
  date?: string;
  /** The page's own address (`<link rel="canonical">`, else `og:url`). */
  url?: string;
  /** `en` or `zh`, from `<html lang>`. */
  language?: string;
  blocks: ArticleBlock[];
}

/** Fewer characters of main text than this is a page of links or a stub, not an article. */
export const minArticleChars = 80;

/** The charset a page declares in its first bytes (`<meta charset>` or `http-equiv`), else UTF-8. */
function declaredCharset(bytes: Uint8Array): string {
  const head = new TextDecoder('latin1').decode(bytes.subarray(0, 4096));
  return /<meta[^>]+charset\s*=\s*["']?\s*([\w-]+)/i.exec(head)?.[1]?.toLowerCase() ?? 'utf-8';
}

/** The page's text in its declared charset (GBK and Big5 pages are common among saved Chinese articles). */
function decodePage(bytes: Uint8Array): { html: string } | { problem: string } {
  const charset = declaredCharset(bytes);
  let html: string;
  try {
    html = new TextDecoder(charset, { fatal: true }).decode(bytes);
  } catch (error) {
    return error instanceof RangeError
      ? { problem: `declares the unknown charset "${charset}"` }
      : { problem: `is not valid ${charset.toUpperCase()} text (a binary file?)` };
  }
  const problem = describeNonText(html);
  return problem ? { problem } : { html: html.replace(/^\uFEFF/, '') };
}

function squeeze(text: string | null | undefined): string {
  return (text ?? '').replace(/\s+/g, ' ').trim();
}

function metaContent(document: DomElement, selectors: string[]): string | undefined {
  for (const selector of selectors) {
    const element = document.querySelector(selector);
    const value = squeeze(element?.getAttribute('content') ?? element?.getAttribute('datetime'));
    if (value) return value;
  }
  return undefined;
}

/** `datePublished` and `publisher.name` from the page's JSON-LD blocks, where news sites put them. */
function jsonLdFacts(document: DomElement): { date?: string; publication?: string } {
  for (const script of Array.from(document.querySelectorAll('script[type="application/ld+json"]'))) {
    let data: unknown;
    try {
      data = JSON.parse(script.textContent ?? '');
    } catch {
      continue;
    }
    for (const item of [data, ...((data as { '@graph'?: unknown[] })?.['@graph'] ?? [])].flat()) {
      const record = item as { datePublished?: unknown; publisher?: { name?: unknown } } | null;
      if (typeof record?.datePublished === 'string') {
        const publication = record.publisher?.name;
        return { date: record.datePublished, ...(typeof publication === 'string' ? { publication } : {}) };
      }
    }
  }
  return {};
}

/** `2025-07-14T08:00:00+08:00`, `2025-07-14` or `July 14, 2025` as `2025-07-14`; undefined when unreadable. */
export function normalizeDate(value: string | undefined): string | undefined {
  if (!value) return undefined;
  const iso = /^(\d{4})-(\d{2})(?:-(\d{2}))?/.exec(value.trim());
  if (iso) return iso[3] ? `${iso[1]}-${iso[2]}-${iso[3]}` : `${iso[1]}-${iso[2]}`;
  const parsed = Date.parse(value);
  return Number.isNaN(parsed) ? undefined : new Date(parsed).toISOString().slice(0, 10);
}

function languageOf(document: DomElement): string | undefined {
  const lang = document.querySelector('html')?.getAttribute('lang')?.toLowerCase() ?? '';
  return /^(en|zh)\b/.exec(lang)?.[1];
}

/** Headings, paragraphs and list items of the extracted article, in order; images, tables and captions are left out. */
function blocksOf(root: DomNode): ArticleBlock[] {
  const blocks: ArticleBlock[] = [];
  const visit = (node: DomNode) => {
    if (node.nodeType === textNode) {
      const text = squeeze(node.textContent);
      if (text) blocks.push({ type: 'paragraph', text });
      return;
    }
    if (node.nodeType !== elementNode) return;
    const tag = (node as DomElement).tagName.toLowerCase();
    const heading = /^h([1-6])$/.exec(tag);
    if (heading) {
      const text = squeeze(node.textContent);
      if (text) blocks.push({ type: 'heading', level: Math.max(2, Number(heading[1])), text });
    } else if (tag === 'p' || tag === 'pre') {
      const text = squeeze(node.textContent);
      if (text) blocks.push({ type: 'paragraph', text });
    } else if (tag === 'li') {
      const text = squeeze(node.textContent);
      if (text) blocks.push({ type: 'paragraph', text: `- ${text}` });
    } else if (!['figure', 'figcaption', 'img', 'table', 'script', 'style', 'nav', 'aside'].includes(tag)) {
      for (const child of Array.from(node.childNodes)) visit(child);
    }
  };
  visit(root);
  return blocks;
}

/**
 * The main article of a saved web page, read with Mozilla's Readability (Firefox's Reader View) over linkedom, with
 * the title, publication, date and address the page's metadata gives. Returns a problem instead when the file is
 * not text in its declared charset, or when it holds no article text (fewer than `minArticleChars` characters).
 */
export function readHtmlArticle(bytes: Uint8Array): HtmlArticle | { problem: string } {
  if (bytes.every((byte) => byte <= 0x20)) return { problem: 'is empty' };
  const decoded = decodePage(bytes);
  if ('problem' in decoded) return decoded;
  const { document } = parseHTML(decoded.html) as unknown as { document: DomElement };
  // Metadata first: Readability rewrites the document it reads.
  const fromJsonLd = jsonLdFacts(document);
  const date = normalizeDate(
    metaContent(document, [
      'meta[property="article:published_time"]',
      'meta[name="article:published_time"]',
      'meta[itemprop="datePublished"]',
      'meta[name="date"]',
      'meta[name="pubdate"]',
      'meta[name="publishdate"]',
      'meta[name="DC.date.issued"]',
    ]) ??
      fromJsonLd.date ??
      metaContent(document, ['article time[datetime]', 'time[datetime]']),
  );
  const url = squeeze(
    document.querySelector('link[rel="canonical"]')?.getAttribute('href') ??
      metaContent(document, ['meta[property="og:url"]']),
  );
  const ogTitle = metaContent(document, ['meta[property="og:title"]', 'meta[name="twitter:title"]']);
  const siteName =
    metaContent(document, ['meta[property="og:site_name"]', 'meta[name="application-name"]']) ??
    fromJsonLd.publication;
  const language = languageOf(document);
  removeNoise(document);
  const parsed = new Readability<DomNode>(document as never, {
    serializer: (node) => node as unknown as DomNode,
  }).parse();
  const content = parsed?.content;
  const title = squeeze(ogTitle ?? parsed?.title ?? document.querySelector('title')?.textContent);
  const blocks = content ? blocksOf(content) : [];
  // The article's own <h1> repeats the title, which the knowledge file writes once as its top heading.
  const body = blocks.filter((block) => !(block.type === 'heading' && block.text === title));
  const textChars = body.reduce(
    (sum, block) => sum + (block.type === 'paragraph' ? block.text.length : 0),
    0,
  );
  if (textChars < minArticleChars) return { problem: 'has no article text (no main content found)' };
  const article: HtmlArticle = { title: title || 'Untitled article', blocks: body };
  if (siteName ?? parsed?.siteName) article.publication = (siteName ?? parsed?.siteName) as string;
  const publishedDate = date ?? normalizeDate(parsed?.publishedTime ?? undefined);
  if (publishedDate) article.date = publishedDate;
  if (url) article.url = url;
  if (language) article.language = language;
  return article;
}
