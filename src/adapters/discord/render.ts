import { escapeMarkdown } from 'discord.js';
import type { AnswerDone, Citation } from '../../core/answer-events.ts';
import { catalogFor } from '../../core/catalog/catalog.ts';
import { describeErrorForUser } from '../../core/error-sentences.ts';
import { LlmError } from '../../core/errors.ts';
import type { ReplyLanguage } from '../../core/question.ts';
import { headUnits, tailUnits } from '../../core/text.ts';
import { openFenceAt, splitMarkdown } from '../shared/split-markdown.ts';
import type { AnswerSnapshot } from '../shared/throttled-answer.ts';

/**
 * Discord's limit on a message's `content`, in characters. JavaScript counts UTF-16 units, which is never
 * fewer than Discord's count, so measuring with `.length` stays on the safe side.
 * @see https://discord.com/developers/docs/resources/message#create-message
 */
export const discordContentLimit = 2000;

/** How an answer is shown: whether the model's reasoning appears, and the language of our own labels. */
export interface DiscordRenderOptions {
  showReasoning: 'off' | 'collapsed';
  language: ReplyLanguage;
  /** A line inviting a human (it may mention the hand-off role), shown last; never neutralized. */
  handoff?: string;
}

const zeroWidthJoiner = '\u200D';
/** Stands in for spaces inside masked links while splitting, so no cut lands inside a link. */
const linkSpace = '\uE000';
const reasoningPreviewChars = 300;
const reasoningExcerptChars = 450;
const footerLineChars = 180;
const cursor = ' ▌';

/**
 * Makes text unable to ping anyone or anything, whatever `allowed_mentions` says: `@everyone`/`@here` get a
 * zero-width joiner after the `@`, and user/role mention tokens (`<@1>`, `<@!1>`, `<@&1>`) are broken so
 * they show as inert text instead of a clickable (and spoofable) mention. Applied to everything the model
 * or a user wrote before it is echoed.
 */
export function neutralizeMentions(text: string): string {
  return text
    .replace(/@(everyone|here)/gi, `@${zeroWidthJoiner}$1`)
    .replace(/<@([!&]?)(\d+)>/g, `<@${zeroWidthJoiner}$1$2>`);
}

/**
 * Splits Markdown into messages of at most `limit` characters at paragraph, then sentence, then word
 * boundaries, closing and reopening code fences at a cut and never cutting inside a masked link.
 */
export function splitForDiscord(text: string, limit: number = discordContentLimit): string[] {
  const protectedText = text
    .replaceAll(linkSpace, ' ')
    .replace(/\[[^\]\n]{1,256}\]\([^)\s]{1,512}\)/g, (link) => link.replace(/ /g, linkSpace));
  return splitMarkdown(protectedText, limit).map((chunk) => chunk.replaceAll(linkSpace, ' '));
}

/** Closes a code fence the model left open, so nothing we append ends up inside it. */
function closeOpenFence(text: string): string {
  const open = openFenceAt(text);
  return open ? `${text}\n${open}` : text;
}

/** Reasoning flattened to one escaped line, so it can never format, ping or escape its block. */
function flattenReasoning(reasoning: string, maxChars: number, keep: 'head' | 'tail'): string {
  const flat = reasoning.replace(/\s+/g, ' ').trim();
  const cut =
    flat.length <= maxChars
      ? flat
      : keep === 'head'
        ? `${headUnits(flat, maxChars - 1)}…`
        : `…${tailUnits(flat, maxChars - 1)}`;
  return neutralizeMentions(escapeMarkdown(cut));
}

/** The collapsed reasoning block of a finished answer: one small line, hidden behind a spoiler. */
function reasoningBlock(reasoning: string, options: DiscordRenderOptions): string {
  if (options.showReasoning === 'off' || !reasoning.trim()) return '';
  const label = catalogFor(options.language).discord.reasoningLabel;
  return `-# 💭 ${label} ||${flattenReasoning(reasoning, reasoningExcerptChars, 'head')}||`;
}

/** `-# Sources: [1] Heading — Source · [2] …`, wrapped into subtext lines of bounded length. */
function sourcesFooter(citations: Citation[], language: ReplyLanguage): string {
  if (citations.length === 0) return '';
  const entries = citations.map((citation) =>
    neutralizeMentions(escapeMarkdown(`[${citation.n}] ${citation.heading} — ${citation.source}`)),
  );
  const [first, ...rest] = entries;
  const lines: string[] = [];
  let line = `${catalogFor(language).discord.sourcesLabel} ${first}`;
  for (const entry of rest) {
    if (line.length + entry.length + 3 > footerLineChars) {
      lines.push(line);
      line = entry;
    } else {
      line += ` · ${entry}`;
    }
  }
  lines.push(line);
  return lines.map((text) => `-# ${text}`).join('\n');
}

/** A visible note when the stream ended early, in the asker's language. */
function incompleteNote(done: AnswerDone, language: ReplyLanguage): string {
  if (!done.incomplete) return '';
  const reason = describeErrorForUser(
    new LlmError(done.incompleteReason ?? 'cut_off', 'incomplete'),
    language,
  );
  return `-# ⚠️ ${reason}`;
}

/**
 * The live view while an answer streams: a small "thinking" line (with the latest reasoning when
 * `SHOW_REASONING=collapsed`) until text arrives, then the text so far with a cursor. Always one message:
 * text beyond the first message's worth appears when the answer is final.
 */
export function renderDiscordProgress(snapshot: AnswerSnapshot, options: DiscordRenderOptions): string {
  const label = catalogFor(options.language).answers.thinking;
  if (!snapshot.text.trim()) {
    if (options.showReasoning === 'off' || !snapshot.reasoning.trim()) return `-# 💭 ${label}`;
    return `-# 💭 ${label} ${flattenReasoning(snapshot.reasoning, reasoningPreviewChars, 'tail')}`;
  }
  const header = reasoningBlock(snapshot.reasoning, options);
  const budget = discordContentLimit - cursor.length - (header ? header.length + 1 : 0) - 4;
  const first = splitForDiscord(neutralizeMentions(snapshot.text), budget)[0] ?? '';
  const body = closeOpenFence(first + cursor);
  return header ? `${header}\n${body}` : body;
}

/**
 * The finished answer as Discord messages, each at most 2000 characters: the collapsed reasoning line
 * (first message only), the answer with mentions neutralised, then the sources footer, for an answer cut
 * short a visible note, and the hand-off line if one is given. Later messages are sent as follow-ups.
 */
export function renderDiscordAnswer(
  done: AnswerDone,
  reasoning: string,
  options: DiscordRenderOptions,
): string[] {
  const header = reasoningBlock(reasoning, options);
  const tail = [
    sourcesFooter(done.citations, options.language),
    incompleteNote(done, options.language),
    options.handoff ?? '',
  ]
    .filter(Boolean)
    .join('\n');
  const body = closeOpenFence(neutralizeMentions(done.answer.trim()));
  const limit = header ? discordContentLimit - header.length - 1 : discordContentLimit;
  const chunks = splitForDiscord(tail ? `${body}\n\n${tail}` : body, limit);
  if (header && chunks.length > 0) chunks[0] = `${header}\n${chunks[0]}`;
  return chunks;
}

/** A command's Markdown reply (or an error sentence) as Discord messages, made inert and split. */
export function renderDiscordText(text: string): string[] {
  return splitForDiscord(neutralizeMentions(text));
}
