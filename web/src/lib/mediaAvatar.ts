// Avatars: the request field that sets one (from the generated OpenAPI types, so a rename on the
// server is a type error here), and the crop geometry for the crop dialog.
import type { PatchMe, PatchRoom } from './types';

/**
 * The `PATCH /users/me` and `PATCH /rooms/{id}` field that takes the id of an uploaded image to
 * make the avatar from. The web client ships inside the server binary, so the field is known at
 * build time: no need to ask the server's OpenAPI document at run time.
 */
export const AVATAR_FIELD = 'avatar' satisfies keyof PatchMe & keyof PatchRoom;

/** The PATCH body that sets an avatar (the user's or a group's) from an uploaded media id. */
export function avatarPatch(
  mediaId: string,
): Pick<PatchMe, typeof AVATAR_FIELD> & Pick<PatchRoom, typeof AVATAR_FIELD> {
  return { [AVATAR_FIELD]: mediaId };
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
