// "Last seen" for people who are offline (GET /users/{id}'s last_seen_at): how long ago in
// minutes within the hour, the time today or yesterday, else the day (and the year when not this
// year's).

function sameDay(a: Date, b: Date): boolean {
  return a.getFullYear() === b.getFullYear() && a.getMonth() === b.getMonth() && a.getDate() === b.getDate();
}

/** "last seen just now / 5 min ago / today at 14:02 / yesterday at 09:15 / on 3 Dec (2025)". */
export function lastSeenText(iso: string, now: Date | number = Date.now(), locale?: string): string {
  const at = new Date(iso);
  const t = now instanceof Date ? now : new Date(now);
  if (Number.isNaN(at.getTime())) return '';
  const mins = Math.floor((t.getTime() - at.getTime()) / 60_000);
  if (mins < 1) return 'last seen just now';
  if (mins < 60) return `last seen ${mins} min ago`;
  const time = at.toLocaleTimeString(locale, { hour: '2-digit', minute: '2-digit' });
  if (sameDay(at, t)) return `last seen today at ${time}`;
  const yesterday = new Date(t);
  yesterday.setDate(t.getDate() - 1);
  if (sameDay(at, yesterday)) return `last seen yesterday at ${time}`;
  const day = at.toLocaleDateString(locale, {
    day: 'numeric',
    month: 'short',
    year: at.getFullYear() === t.getFullYear() ? undefined : 'numeric',
  });
  return `last seen on ${day}`;
}

/** The text at the start of a line ("Last seen …"). */
export function capitalised(s: string): string {
  return s ? s[0].toUpperCase() + s.slice(1) : s;
}
