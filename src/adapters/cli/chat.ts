import { createInterface } from 'node:readline/promises';
import type { Readable } from 'node:stream';
import type { CommandServices } from '../../../commands/command.ts';
import { findCommand } from '../../../commands/index.ts';
import { cliUserKey } from '../../core/access.ts';
import type { Config } from '../../core/config.ts';
import { interfaceLanguage } from '../../core/interface-language.ts';
import { detectLanguage } from '../../core/question.ts';
import { askAsCli } from './ask-question.ts';
import { describeCliError, LimitReachedError } from './errors.ts';
import { type AnswerOutput, printAnswerStream } from './print-answer.ts';
import { renderMarkdownForTerminal } from './terminal-markdown.ts';

/**
 * An interactive terminal conversation with memory. Lines starting with `/` run the shared commands
 * (`/reset`, `/sources`, `/usage`, `/about`, `/help`) or `/exit`; anything else is a question, asked as the
 * CLI user under the same budgets and rate limit as `poquan ask`.
 */
export async function runChat(
  services: CommandServices & { config: Pick<Config, 'defaultLanguage' | 'llm' | 'storeUrl'> },
  input: Readable,
  output: AnswerOutput,
  conversationId: string,
): Promise<void> {
  const lines = createInterface({ input, terminal: false });
  const prompt = () => output.err.write(output.style.bold('you › '));
  output.err.write(
    output.style.dim(
      `Poquan chat (${services.llm ? services.llm.model : 'offline mode'}). /sources, /reset, /usage, /exit.\n`,
    ),
  );
  prompt();
  for await (const rawLine of lines) {
    const line = rawLine.trim();
    if (!line) {
      prompt();
      continue;
    }
    if (line === '/exit' || line === '/quit') break;
    // A bare command has no words to go by: DEFAULT_LANGUAGE decides, English when it is `auto`.
    const language =
      detectLanguage(line) === 'zh' ? 'zh' : interfaceLanguage(services.config.defaultLanguage, 'en');
    try {
      if (line.startsWith('/')) {
        const name = line.slice(1).split(/\s+/)[0] ?? '';
        const command = findCommand('cli', name);
        // Lines without a slash are questions: the command plain text runs is not typed as one here.
        if (!command || command.plainTextOption) {
          output.out.write(
            `Unknown command /${name}. Try /sources, /reset, /usage, /about, /help or /exit.\n`,
          );
        } else {
          const reply = await command.handler(
            {},
            { services, platform: 'cli', conversationId, userKey: cliUserKey, language },
          );
          if (reply.type === 'message') {
            output.out.write(`${renderMarkdownForTerminal(reply.text, output.style.color)}\n`);
          }
        }
      } else {
        await printAnswerStream(askAsCli(services, line, conversationId), output);
      }
    } catch (error) {
      if (error instanceof LimitReachedError) {
        // A refusal is the bot's reply in this conversation, not a failure of the tool.
        output.out.write(`${error.message}\n`);
      } else {
        // One line, as `poquan ask` prints it; the details (a stack) are for LOG_LEVEL=debug, not mid-conversation.
        output.err.write(`poquan: ${describeCliError(error, services.config)}
`);
        services.logger.debug({ err: error }, 'chat question failed');
      }
    }
    output.out.write('\n');
    prompt();
  }
  lines.close();
}
