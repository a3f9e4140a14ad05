import type { ReplyLanguage } from '../question.ts';
import { en } from './en.ts';
import type { Catalog } from './shape.ts';
import { zh } from './zh.ts';

const catalogs: Record<ReplyLanguage, Catalog> = { en, zh };

/** The sentences for one language. */
export function catalogFor(language: ReplyLanguage): Catalog {
  return catalogs[language];
}
