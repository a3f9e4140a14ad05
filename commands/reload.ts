import { z } from 'zod';
import { catalogFor } from '#core/catalog/catalog.js';
import { ConfigError } from '#core/errors.js';
import { defineOperatorCommand } from './operator.ts';

/**
 * `/reload` (operators only): reads KNOWLEDGE_DIR again now, without waiting for the file watcher — e.g.
 * after replacing files on a volume the watcher can't see. A broken file leaves the current knowledge in place
 * and the reply names the file, so the operator can fix it from the chat.
 */
export const reloadCommand = defineOperatorCommand({
  name: 'reload',
  description: {
    en: 'Operators: reload the knowledge files now',
    zh: '管理员：立即重新加载知识库文件',
  },
  args: z.object({}),
  platforms: ['telegram', 'discord'],
  async handler(_args, { services, language }) {
    const { commands } = catalogFor(language);
    try {
      const { changed, version } = await services.reloadKnowledge();
      const passages = services.knowledge().passages.length;
      if (!changed) {
        return { type: 'message', text: commands.reloadUnchanged(version) };
      }
      return { type: 'message', text: commands.reloaded(version, passages) };
    } catch (error) {
      const current = services.knowledge().version;
      services.logger.error({ err: error, knowledgeVersion: current }, 'reload command failed');
      // A ConfigError names the file and what is wrong with it; anything else belongs in the log only.
      const reason = error instanceof ConfigError ? error.message : undefined;
      return { type: 'message', text: commands.reloadFailed(current, reason) };
    }
  },
});
