import type { Writable } from 'node:stream';
import type { AnswerDone, AnswerEvent } from '../../core/answer-events.ts';
import { renderAnswerFooter, renderCitationsForTerminal, type TerminalStyle } from './render.ts';
import { createTerminalMarkdown } from './terminal-markdown.ts';

/** Where an answer is printed: the answer on `out`, the model's reasoning on `err` so pipes get only answers. */
export interface AnswerOutput {
  out: Writable;
  err: Writable;
  style: TerminalStyle;
}

/**
 * Streams an answer to the terminal as it arrives: reasoning dimmed on stderr, text on stdout rendered from
 * Markdown (see `createTerminalMarkdown`), then the sources and a status line. Returns the final event for callers that need it.
 */
export async function printAnswerStream(
  events: AsyncIterable<AnswerEvent>,
  output: AnswerOutput,
): Promise<AnswerDone> {
  let reasoning = false;
  const markdown = createTerminalMarkdown(output.style.color);
  try {
    for await (const event of events) {
      if (event.type === 'reasoning') {
        if (!reasoning) output.err.write(output.style.dim('Thinking: '));
        reasoning = true;
        output.err.write(output.style.dim(event.delta));
      } else if (event.type === 'text') {
        if (reasoning) {
          output.err.write('\n\n');
          reasoning = false;
        }
        output.out.write(markdown.push(event.delta));
      } else {
        output.out.write(`${markdown.end()}\n`);
        output.out.write(renderCitationsForTerminal(event.citations, output.style));
        output.err.write(renderAnswerFooter(event, output.style));
        return event;
      }
    }
  } catch (error) {
    // What arrived before the failure stays on screen, with no style left open.
    output.out.write(markdown.end());
    throw error;
  }
  throw new Error('answer stream ended without a done event');
}

/** Collects an answer silently and returns the `--json` object the CLI documents. */
export async function collectAnswerJson(events: AsyncIterable<AnswerEvent>) {
  let reasoning = '';
  for await (const event of events) {
    if (event.type === 'reasoning') reasoning += event.delta;
    if (event.type === 'done') {
      return {
        answerId: event.answerId,
        answer: event.answer,
        citations: event.citations,
        mode: event.mode,
        model: event.model ?? null,
        usage: event.usage ?? null,
        cost: event.cost ?? null,
        reasoning: reasoning || null,
        incomplete: event.incomplete,
        notCovered: event.notCovered,
        cached: event.cached,
        knowledgeVersion: event.knowledgeVersion,
        latencyMs: event.latencyMs,
      };
    }
  }
  throw new Error('answer stream ended without a done event');
}
