import type { LlmErrorKind } from '../errors.ts';

/** Where a help text is read: each platform asks differently. */
export type HelpPlatform = 'telegram' | 'discord' | 'cli';

/** The figures `/usage` shows. */
export interface UsageFigures {
  answers: number;
  tokens: number;
  remaining: number | undefined;
  limit: number | undefined;
  botRemaining: number | undefined;
  /** `HH:MM UTC` */
  resetsAt: string;
}

/** The figures `/stats` shows; counts are already formatted (`telegram 3, discord 1`, or the `none` word). */
export interface StatsFigures {
  recent: string[];
  uptime: string;
  total: number;
  outcomes: string;
  platforms: string;
  errors: string;
  rateLimited: number;
  budgetRefused: number;
  tokens: string;
  knowledgeVersion: string;
  passages: number;
}

/** One period of `/stats`' spend lines. */
export interface SpendFigures {
  answers: number;
  tokens: number;
  cacheHits: string;
  cost: string | undefined;
  unpriced: number;
}

/** What `/about` shows. */
export interface AboutFigures {
  version: string;
  knowledgeVersion: string;
  passages: number;
  files: string[];
  model: string | undefined;
  context: string;
}

/** How the context strategy is described in `/about` and `poquan doctor`. */
export interface ContextFigures {
  mode: 'full' | 'retrieve';
  forced: string;
  passages: number;
  tokens: string;
  fits: boolean;
  budget: string;
  topK: number;
}

/**
 * Every sentence Poquan says to users, in one language. Adding a language is one more file of this shape;
 * rewording a sentence touches one file. Values are plain text or Markdown as noted; adapters escape and render.
 */
export interface Catalog {
  errors: {
    llm: Record<LlmErrorKind, string>;
    llmRateLimitedFor(seconds: number): string;
    rateLimited(seconds: number): string;
    budgetUser(resetsAt: string): string;
    budgetBot(resetsAt: string): string;
    storeUnavailable: string;
    unexpected: string;
    unknownCommand(name: string): string;
    /** Options a command got that it can't use; `command` is `/name`, `option` the option's name. */
    unreadableOptions(command: string): string;
    missingOption(command: string, option: string): string;
    optionTooLong(command: string, option: string, maxLength: number): string;
    optionNotBoolean(command: string, option: string): string;
    optionNotText(command: string, option: string): string;
    optionInvalid(command: string, option: string): string;
  };
  answers: {
    offlineIntro: string;
    offlineEnable: string;
    /** `topic` completes "questions about …"; `examples` names a few things it covers. */
    notCovered(topic: string, examples: string | undefined): string;
    /** Appended to the not-covered reply for a question about a later time. */
    knowledgeRunsTo(date: string): string;
    /** Joins a reply and a note after it (Chinese needs no space). */
    joinSentences(first: string, second: string): string;
    date(year: string, month: number | undefined, day: number | undefined): string;
    context(figures: ContextFigures): string;
    stoppedNote: string;
    cutOffLead: string;
    thinking: string;
    reasoning: string;
    sources: string;
    handoff(contact: string): string;
  };
  votes: Record<'recorded' | 'changed' | 'unchanged' | 'unknown_answer' | 'failed', string>;
  commands: {
    askHint: string;
    usage(figures: UsageFigures): string[];
    stats(figures: StatsFigures): string[];
    spend(figures: SpendFigures): string;
    recentSpend(today: string, week: string, topUsers: string | undefined): string[];
    statsUnavailable: string;
    none: string;
    noSources: string;
    sourcesHeader(question: string): string;
    passageRemoved: string;
    knowledgeVersion(version: string): string;
    reloadUnchanged(version: string): string;
    reloaded(version: string, passages: number): string;
    reloadFailed(version: string, reason: string | undefined): string;
    about(figures: AboutFigures): string[];
    passages(count: number): string;
    greeting(passages: number): string;
    reset: string;
    operatorsOnly(name: string): string;
    helpIntro(topic: string, examples: string | undefined): string;
    helpCommands: string;
    helpOtherLanguage: string;
    helpFirst: Record<HelpPlatform, string>;
    helpAfter: Record<HelpPlatform, string>;
  };
  discord: {
    notAllowedHere: string;
    restarting: string;
    noTextInMessage: string;
    mentionHint: string;
    interruptedByRestart: string;
    unknownCommand: string;
    askMenu: string;
    reasoningLabel: string;
    sourcesLabel: string;
  };
}
