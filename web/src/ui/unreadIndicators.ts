// The unread count where a person sees it with the tab in the background: in the tab title,
// "(3) JustUs", and as a badge drawn on the favicon (a dot with the number, or "9+").
import { createEffect, createRoot } from 'solid-js';
import type { Client } from '../lib/client';

const BASE_TITLE = 'JustUs';
const ICON = '/icons/icon-192.png';

/** The tab title for a number of unread messages. */
export function unreadTitle(n: number, base = BASE_TITLE): string {
  return n > 0 ? `(${n > 99 ? '99+' : n}) ${base}` : base;
}

function iconLink(): HTMLLinkElement {
  let link = document.querySelector<HTMLLinkElement>('link[rel="icon"]');
  if (!link) {
    link = document.createElement('link');
    link.rel = 'icon';
    document.head.append(link);
  }
  return link;
}

let baseImage: Promise<HTMLImageElement> | null = null;
function loadBase(): Promise<HTMLImageElement> {
  baseImage ??= new Promise((resolve, reject) => {
    const img = new Image();
    img.onload = () => resolve(img);
    img.onerror = reject;
    img.src = ICON;
  });
  return baseImage;
}

/** The app icon with a red badge carrying the count (a data: URL), or the plain icon for 0. */
async function badgedIcon(n: number): Promise<string> {
  if (n <= 0) return ICON;
  const size = 64;
  const canvas = document.createElement('canvas');
  canvas.width = canvas.height = size;
  const ctx = canvas.getContext('2d');
  if (!ctx) return ICON;
  try {
    ctx.drawImage(await loadBase(), 0, 0, size, size);
  } catch {
    /* no base icon: the badge alone */
  }
  const r = 20;
  ctx.fillStyle = '#c92a2a';
  ctx.beginPath();
  ctx.arc(size - r, r, r, 0, Math.PI * 2);
  ctx.fill();
  ctx.fillStyle = '#ffffff';
  ctx.font = `bold ${n > 9 ? 22 : 28}px system-ui, sans-serif`;
  ctx.textAlign = 'center';
  ctx.textBaseline = 'middle';
  ctx.fillText(n > 9 ? '9+' : String(n), size - r, r + 1);
  return canvas.toDataURL('image/png');
}

export function startUnreadIndicators(c: Client): void {
  createRoot(() => {
    let shown = -1;
    createEffect(() => {
      const n = c.phase === 'app' ? c.rooms.list().reduce((sum, r) => sum + (r.unread ?? 0), 0) : 0;
      document.title = unreadTitle(n);
      if (n === shown) return;
      shown = n;
      void badgedIcon(n).then((href) => {
        if (shown !== n) return;
        const link = iconLink();
        link.href = href;
        link.dataset.unread = String(n);
      });
    });
  });
}
