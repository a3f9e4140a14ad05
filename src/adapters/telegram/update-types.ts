/**
 * The update types the bot handles — messages, and `callback_query` for presses on the 👍 / 👎 buttons under
 * answers — asked for both when long polling and when registering a webhook, so the two modes receive the same.
 * @see https://core.telegram.org/bots/api#update
 */
export const telegramUpdateTypes: Array<'message' | 'callback_query'> = ['message', 'callback_query'];
