import type { AnswerDone, AnswerEvent } from '../../core/answer-events.ts';

/** What an adapter shows while an answer streams: everything received so far. */
export interface AnswerSnapshot {
  text: string;
  reasoning: string;
}

/** How often an adapter may touch the platform while streaming. */
export interface ThrottleOptions {
  /** Minimum time between two updates (Telegram and Discord allow about one edit per second per chat). */
  intervalMs: number;
  /** Shows a snapshot; awaited, so updates never overlap or arrive out of order. */
  update(snapshot: AnswerSnapshot): Promise<void>;
  /** Called once if an update fails; no further updates are attempted, the answer still completes. */
  onUpdateError?(error: unknown): void;
}

/**
 * Drains an answer stream, calling `update` with the latest snapshot as soon as text first arrives and
 * then at most once per `intervalMs`; a slow platform call delays the next update instead of queueing
 * many. Returns the final event (or rethrows the stream's error) only once no update is in flight or can
 * start; the caller renders the finished answer itself, exactly once.
 */
export async function consumeThrottled(
  events: AsyncIterable<AnswerEvent>,
  options: ThrottleOptions,
): Promise<AnswerDone> {
  const snapshot: AnswerSnapshot = { text: '', reasoning: '' };
  let lastUpdate = Number.NEGATIVE_INFINITY;
  let pending: Promise<void> | undefined;
  let timer: NodeJS.Timeout | undefined;
  let shown = '';
  let failure: unknown;
  let closed = false;

  const flush = () => {
    timer = undefined;
    if (pending || failure) return;
    const key = `${snapshot.reasoning.length}:${snapshot.text.length}`;
    if (key === shown) return;
    shown = key;
    lastUpdate = Date.now();
    pending = options
      .update({ ...snapshot })
      .catch((error: unknown) => {
        failure = error;
        options.onUpdateError?.(error);
      })
      .finally(() => {
        pending = undefined;
        schedule();
      });
  };
  const schedule = () => {
    if (closed || timer || pending || failure) return;
    const wait = lastUpdate + options.intervalMs - Date.now();
    if (wait <= 0) flush();
    else timer = setTimeout(flush, wait);
  };

  try {
    for await (const event of events) {
      if (event.type === 'done') return event;
      if (event.type === 'text') snapshot.text += event.delta;
      else snapshot.reasoning += event.delta;
      schedule();
    }
  } finally {
    // Nothing updates after this, and an update in flight lands first: the caller's final render or clean-up
    // after a failure must come last.
    closed = true;
    clearTimeout(timer);
    await pending;
  }
  throw new Error('answer stream ended without a done event');
}
