// Focus trap decision for modal dialogs (plain TS, no DOM): given the focusable elements in
// order, which one Tab or Shift+Tab should move to so focus never leaves the dialog.

/**
 * The index to focus instead of the browser's default, or null to let the browser move focus
 * (it stays inside). `current` is the index of the focused element, -1 when focus is outside.
 */
export function trapTarget(count: number, current: number, shift: boolean): number | null {
  if (count <= 0) return null;
  if (current < 0) return shift ? count - 1 : 0;
  if (shift && current === 0) return count - 1;
  if (!shift && current === count - 1) return 0;
  return null;
}
