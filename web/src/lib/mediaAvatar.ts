// Avatars: whether this server takes them (read from its OpenAPI document, so a client talking
// to an older server simply hides the control), and the crop geometry for the crop dialog.
export interface AvatarSupport {
  /** The `PATCH /users/me` field that takes an uploaded media id, if the server has one. */
  user: string | null;
  /** The `PATCH /rooms/{id}` field for a group's picture, if any. */
  room: string | null;
}

type OpenApiDoc = { components?: { schemas?: Record<string, { properties?: Record<string, unknown> }> } };

/** The avatar field of a request schema: a property named like `avatar`, `avatar_id`, `avatar_media_id`. */
export function avatarFieldOf(doc: OpenApiDoc, schema: string): string | null {
  const props = doc.components?.schemas?.[schema]?.properties ?? {};
  return Object.keys(props).find((k) => /^avatar(_media)?(_id)?$/.test(k)) ?? null;
}

let support: Promise<AvatarSupport> | null = null;

/** Asks the server once per page load; any failure counts as "not supported". */
export function avatarSupport(base = '', fetchFn: typeof fetch = (...a) => fetch(...a)): Promise<AvatarSupport> {
  if (!support) {
    support = fetchFn(base + '/api/openapi.json')
      .then((r) => (r.ok ? (r.json() as Promise<OpenApiDoc>) : {}))
      .then((doc) => ({ user: avatarFieldOf(doc, 'PatchMe'), room: avatarFieldOf(doc, 'PatchRoom') }))
      .catch(() => ({ user: null, room: null }));
  }
  return support;
}

/** Test hook: forget the cached answer. */
export function resetAvatarSupport(): void {
  support = null;
}

// ---------- crop geometry ----------

/** A square crop view of side `view` over an image of `w`×`h`, zoomed `zoom` (≥ 1) and panned by (x, y). */
export interface Crop {
  w: number;
  h: number;
  view: number;
  zoom: number;
  x: number;
  y: number;
}

/** Scale from image pixels to view pixels: at zoom 1 the image just covers the square. */
export const cropScale = (c: Crop) => (c.view / Math.min(c.w, c.h)) * c.zoom;

/** Keep the image covering the square (no empty corners) and the zoom within 1..8. */
export function clampCrop(c: Crop): Crop {
  const zoom = Math.min(8, Math.max(1, c.zoom));
  const s = (c.view / Math.min(c.w, c.h)) * zoom;
  const minX = c.view - c.w * s;
  const minY = c.view - c.h * s;
  return { ...c, zoom, x: Math.min(0, Math.max(minX, c.x)), y: Math.min(0, Math.max(minY, c.y)) };
}

/** Start centred at zoom 1. */
export function initialCrop(w: number, h: number, view: number): Crop {
  const s = view / Math.min(w, h);
  return clampCrop({ w, h, view, zoom: 1, x: (view - w * s) / 2, y: (view - h * s) / 2 });
}

/** Zoom around the centre of the view, keeping the point under it still. */
export function zoomTo(c: Crop, zoom: number): Crop {
  const s0 = cropScale(c);
  const cx = (c.view / 2 - c.x) / s0;
  const cy = (c.view / 2 - c.y) / s0;
  const next = { ...c, zoom: Math.min(8, Math.max(1, zoom)) };
  const s1 = cropScale(next);
  return clampCrop({ ...next, x: c.view / 2 - cx * s1, y: c.view / 2 - cy * s1 });
}

/** The source rectangle (image pixels) the square shows. */
export function cropRect(c: Crop): { sx: number; sy: number; size: number } {
  const s = cropScale(c);
  return { sx: -c.x / s + 0, sy: -c.y / s + 0, size: c.view / s };
}
