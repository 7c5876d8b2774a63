// How long a room keeps messages: the shorter of its own retention and the server's
// (docs/operations.md#retention; the server applies the same rule).

/** Days a room keeps messages, or null for forever. */
export function effectiveRetention(
  roomDays: number | null | undefined,
  serverDays: number | null | undefined,
): number | null {
  const room = typeof roomDays === 'number' && roomDays > 0 ? roomDays : null;
  const server = typeof serverDays === 'number' && serverDays > 0 ? serverDays : null;
  if (room !== null && server !== null) return Math.min(room, server);
  return room ?? server;
}

/** "7 days", "1 day", "1 year". */
export function retentionLabel(days: number): string {
  if (days % 365 === 0) return days === 365 ? '1 year' : `${days / 365} years`;
  return days === 1 ? '1 day' : `${days} days`;
}

/** What a room admin may pick (null: the server's policy). */
export const RETENTION_CHOICES: readonly (number | null)[] = [null, 1, 7, 30, 90, 365];
