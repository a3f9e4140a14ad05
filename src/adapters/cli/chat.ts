import { createInterface } from 'node:readline/promises';
import type { Readable } from 'node:stream';
import { findCommand } from '../../../commands/index.ts';
import { detectLanguage } from '../../core/question.ts';
import type { Poquan } from '../../poquan.ts';
import { describeCliError } from './errors.ts';
import { type AnswerOutput, printAnswerStream } from './print-answer.ts';
import { renderMarkdownForTerminal } from './terminal-markdown.ts';

/**
 * An interactive terminal conversation with memory. Lines starting with `/` run the shared commands
 * (`/reset`, `/sources`, `/about`, `/help`) or `/exit`; anything else is a question.
 */
export async function runChat(
  poquan: Poquan,
  input: Readable,
  output: AnswerOutput,
  conversationId: string,
): Promise<void> {
  const lines = createInterface({ input, terminal: false });
  const prompt = () => output.err.write(output.style.bold('you › '));
  output.err.write(
    output.style.dim(
      `Poquan chat (${poquan.llm ? poquan.llm.model : 'offline mode'}). /sources, /reset, /exit.\n`,
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
    const language = detectLanguage(line);
    try {
      if (line.startsWith('/')) {
        const name = line.slice(1).split(/\s+/)[0] ?? '';
        const command = findCommand('cli', name);
        if (!command || name === 'ask') {
          output.out.write(`Unknown command /${name}. Try /sources, /reset, /about, /help or /exit.\n`);
        } else {
          const reply = await command.handler(
            {},
            { poquan, platform: 'cli', conversationId, userKey: 'cli:local', language },
          );
          if (reply.type === 'message') {
            output.out.write(`${renderMarkdownForTerminal(reply.text, output.style.color)}\n`);
          }
        }
      } else {
        await printAnswerStream(poquan.answer(line, conversationId), output);
      }
    } catch (error) {
      // One line, as `poquan ask` prints it; the details (a stack) are for LOG_LEVEL=debug, not mid-conversation.
      output.err.write(`poquan: ${describeCliError(error)}\n`);
      poquan.logger.debug({ err: error }, 'chat question failed');
    }
    output.out.write('\n');
    prompt();
  }
  lines.close();
}
