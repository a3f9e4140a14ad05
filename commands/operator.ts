import type { z } from 'zod';
import { catalogFor } from '#core/catalog/catalog.js';
import type { CommandSpec } from './command.ts';

/**
 * Declares a command only the bot's operators may run (`TELEGRAM_ADMIN_IDS`, `DISCORD_ADMIN_IDS`). The admin
 * check wraps the handler itself, so every adapter — present or future — gets the same polite refusal from the
 * core's access policy, and no adapter can forget to check. Both uses and refusals are logged with the user key.
 */
export function defineOperatorCommand<Args extends z.ZodObject>(spec: CommandSpec<Args>): CommandSpec<Args> {
  return {
    ...spec,
    operatorOnly: true,
    async handler(args, context) {
      const { services, userKey, language } = context;
      if (!services.access.isAdmin(userKey)) {
        services.logger.info({ command: spec.name, userKey }, 'operator command refused: not an admin');
        return { type: 'message', text: catalogFor(language).commands.operatorsOnly(spec.name) };
      }
      services.logger.info({ command: spec.name, userKey }, 'operator command');
      return spec.handler(args, context);
    },
  };
}
