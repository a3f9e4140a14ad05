/** An answer stream as the consumer reads it: deltas, then a final event it hands back untouched. */
type StreamEvent = { type: 'reasoning' | 'text'; delta: string } | { type: 'done' };

/** What an adapter shows while an answer streams: everything received so far. */
export interface AnswerSnapshot {
  text: string;
  reasoning: string;
}

/** How often an adapter may touch the platform while streaming. */
export interface ThrottleOptions {
  /**
   * The platform's budget: minimum time between two previews (Telegram drafts and Discord edits about one a
   * second, Telegram group edits one every three seconds). The first preview carrying `readableChars` of
   * answer text is the one exception, once per answer.
   */
  intervalMs: number;
  /**
   * True when previews show reasoning only as a fixed "thinking…" line (`SHOW_REASONING=off`): that line goes
   * out at the first reasoning token, with nothing to wait for, and more reasoning changes nothing.
   */
  hideReasoning?: boolean;
  /**
   * Shows a snapshot; awaited, so updates never overlap or arrive out of order. Resolves `false` when it
   * called nothing on the platform (nothing visible changed), which costs no interval.
   */
  update(snapshot: AnswerSnapshot): Promise<unknown>;
  /**
   * Called once if an update fails for any reason but a `PreviewSkipped`; no further updates are
   * attempted, the answer still completes.
   */
  onUpdateError?(error: unknown): void;
}

/**
 * Thrown by an `update` the platform refused for now: a 429 (`retryAfterMs` is its `retry_after`) or a
 * passing fault such as a dropped connection (0). Previews are cosmetic: the call is not retried, the
 * previews in between are skipped and the next one waits until `retryAfterMs` has passed.
 */
export class PreviewSkipped extends Error {
  constructor(
    readonly retryAfterMs: number,
    options?: { cause?: unknown },
  ) {
    super(`preview skipped; next one in ${retryAfterMs} ms at the earliest`, options);
    this.name = 'PreviewSkipped';
  }
}

/** The first line of an answer worth showing: about this many characters. */
export const readableChars = 50;
/** A slow model's first words are shown this long after they arrive, readable or not. */
export const firstPreviewWaitMs = 400;
/** A sentence end counts as readable once this many characters precede it ("Yes." or "1." do not). */
const minSentenceChars = 16;
/**
 * A sentence ends: Latin punctuation once a space follows (so "3.5" still being written doesn't count), CJK
 * punctuation anywhere, a line break. Commas don't count: the 50 characters usually follow within a few
 * tokens, and a preview spent on a shorter clause would hold them back by a whole interval (a second in a
 * Telegram group, where every call waits for the one before).
 */
const sentenceEnd = /[.!?](?=\s)|[。！？]|\n/g;

/** True once `text` is worth a first preview: `readableChars` characters, or a whole sentence. */
export function isReadable(text: string): boolean {
  if (text.trim().length >= readableChars) return true;
  for (const match of text.matchAll(sentenceEnd)) {
    if (text.slice(0, match.index).trim().length >= minSentenceChars) return true;
  }
  return false;
}

/**
 * Drains an answer stream, calling `update` with the latest snapshot on an adaptive cadence:
 * - the first preview of the reasoning, and then of the answer text, waits for a readable chunk (`isReadable`),
 *   or `firstPreviewWaitMs` after that part's first token when the model is slow;
 * - later previews follow at most once per `intervalMs`, the steady cadence a slow model keeps;
 * - the first preview showing `readableChars` of answer text goes out as soon as the model has written them,
 *   even within `intervalMs` of the previous one: at most one call per answer above the steady cadence;
 * - an update that throws `PreviewSkipped` is not retried and previews pause for its `retryAfterMs`.
 * A slow platform call delays the next update instead of queueing many. Returns the final event with all of
 * the reasoning (or rethrows the stream's error) only once no update is in flight or can start; the caller
 * renders the finished answer itself, exactly once, without waiting for any rate limit a preview met.
 */
export async function consumeThrottled<Event extends StreamEvent>(
  events: AsyncIterable<Event>,
  options: ThrottleOptions,
): Promise<{ done: Extract<Event, { type: 'done' }>; reasoning: string }> {
  const snapshot: AnswerSnapshot = { text: '', reasoning: '' };
  let lastUpdate = Number.NEGATIVE_INFINITY;
  let pausedUntil = Number.NEGATIVE_INFINITY;
  let pending: Promise<void> | undefined;
  let timer: NodeJS.Timeout | undefined;
  let shown = '';
  /** The part the last preview showed ('' before any): a new part starts with a readable chunk again. */
  let shownPart: keyof AnswerSnapshot | '' = '';
  let readableShown = false;
  const partStartedAt = { text: 0, reasoning: 0 };
  let failure: unknown;
  let closed = false;

  const keyOf = () =>
    `${options.hideReasoning ? Math.sign(snapshot.reasoning.length) : snapshot.reasoning.length}:${snapshot.text.length}`;
  /** When the next preview may start, or undefined when there is nothing new to show. */
  const nextUpdateAt = (): number | undefined => {
    if (keyOf() === shown) return undefined;
    const part = snapshot.text ? 'text' : 'reasoning';
    const content = snapshot[part];
    let at: number;
    if (part === 'text' && !readableShown && content.trim().length >= readableChars) at = Date.now();
    else if (shownPart !== part && !isReadable(content) && !(part === 'reasoning' && options.hideReasoning)) {
      at = Math.max(partStartedAt[part] + firstPreviewWaitMs, lastUpdate + options.intervalMs);
    } else at = lastUpdate + options.intervalMs;
    return Math.max(at, pausedUntil);
  };

  const flush = () => {
    timer = undefined;
    if (closed || pending || failure) return;
    const at = nextUpdateAt();
    if (at === undefined) return;
    if (at > Date.now()) return schedule();
    shown = keyOf();
    shownPart = snapshot.text ? 'text' : 'reasoning';
    if (snapshot.text.trim().length >= readableChars) readableShown = true;
    const previousUpdate = lastUpdate;
    lastUpdate = Date.now();
    pending = options
      .update({ ...snapshot })
      .then((sent) => {
        if (sent === false) lastUpdate = previousUpdate;
      })
      .catch((error: unknown) => {
        if (error instanceof PreviewSkipped) {
          pausedUntil = Date.now() + error.retryAfterMs;
          // What the refused preview would have shown is still to be shown once the pause is over.
          shown = '';
          return;
        }
        failure = error;
        options.onUpdateError?.(error);
      })
      .finally(() => {
        pending = undefined;
        schedule();
      });
  };
  const schedule = () => {
    clearTimeout(timer);
    timer = undefined;
    if (closed || pending || failure) return;
    const at = nextUpdateAt();
    if (at === undefined) return;
    const wait = at - Date.now();
    if (wait <= 0) flush();
    else timer = setTimeout(flush, wait);
  };

  try {
    for await (const item of events) {
      const event = item as StreamEvent;
      if (event.type === 'done')
        return { done: item as Extract<Event, { type: 'done' }>, reasoning: snapshot.reasoning };
      if (event.delta && !snapshot[event.type]) partStartedAt[event.type] = Date.now();
      snapshot[event.type] += event.delta;
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
