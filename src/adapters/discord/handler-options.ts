import type { StreamOptions } from './deliver.ts';
import type { InFlightAnswers } from './in-flight.ts';

/** What handling a message or an interaction needs besides the event itself. */
export interface HandlerOptions extends StreamOptions {
  /** True once the adapter is stopping: new questions are turned away. */
  isStopping(): boolean;
  /**
   * True if this instance should handle the event: several instances on one bot token each receive every
   * event, and only the first to claim it answers.
   */
  claim(eventKey: string): Promise<boolean>;
  /** Answers in flight, recorded so a restarted process can finish them. */
  inFlight: InFlightAnswers;
}
