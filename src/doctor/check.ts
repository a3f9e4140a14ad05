/** One line of the doctor's report: what was checked, whether it works, and what to do if not. */
export interface DoctorCheck {
  name: string;
  ok: boolean;
  detail: string;
  fix?: string;
}

/** A failed check; `detail` and `fix` must never hold a secret. */
export function failed(name: string, detail: string, fix: string): DoctorCheck {
  return { name, ok: false, detail, fix };
}

/** Runs `run`; a throw becomes a failed check with its message as detail and `fix(error)` as the fix. */
export async function check(
  name: string,
  run: () => Promise<string>,
  fix: (error: unknown) => string,
): Promise<DoctorCheck> {
  try {
    return { name, ok: true, detail: await run() };
  } catch (error) {
    return { name, ok: false, detail: (error as Error).message ?? String(error), fix: fix(error) };
  }
}

/** Why a request never got an answer, in a few words: the socket error code, or "timed out". */
export function networkReason(error: unknown): string {
  if ((error as Error)?.name === 'TimeoutError') return 'timed out';
  const cause = (error as { cause?: { code?: string; message?: string } })?.cause;
  return cause?.code ?? cause?.message ?? (error as Error)?.message ?? String(error);
}

/** How long the doctor waits for one platform request. */
export const requestTimeoutMs = 10_000;

/** Reads a JSON body, or undefined when the answer is not JSON (an HTML error page, a proxy's text). */
export async function jsonBody(response: Response): Promise<unknown> {
  try {
    return await response.json();
  } catch {
    return undefined;
  }
}
