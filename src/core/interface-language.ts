import type { ReplyLanguage } from './question.ts';

/** `DEFAULT_LANGUAGE`: follow each user's app language or locale (`auto`), or use one language for everyone. */
export type DefaultLanguage = 'auto' | ReplyLanguage;

/**
 * The language of an interface text (a command reply, a button's toast) when the message itself has no words
 * to detect a language from: `DEFAULT_LANGUAGE` when the operator chose one, else the user's app language or
 * locale. Answers never come through here; they follow the question's own script.
 */
export function interfaceLanguage(setting: DefaultLanguage, appLanguage: ReplyLanguage): ReplyLanguage {
  return setting === 'auto' ? appLanguage : setting;
}
