// Response hygiene: a response whose body is not needed is cancelled, never left unread (an
// unread body keeps its request open in the browser and, over HTTP/1.1, its connection busy).

/** Cancel a response's body (a no-op when there is none or it was already read). */
export async function discardBody(res: Response): Promise<void> {
  if (!res.body || res.bodyUsed) return;
  try {
    await res.body.cancel();
  } catch {
    /* already locked or closed: nothing left to free */
  }
}
