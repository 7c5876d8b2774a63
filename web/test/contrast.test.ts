// WCAG AA contrast of the theme colours in src/styles.css, computed from the CSS custom properties
// so a palette change cannot silently regress: 4.5:1 for text, 3:1 for focus rings and UI parts.
import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';

const css = readFileSync(new URL('../src/styles.css', import.meta.url), 'utf8');

function vars(selector: string): Record<string, string> {
  const at = css.indexOf(`${selector} {`);
  if (at < 0) throw new Error(`no block ${selector}`);
  const body = css.slice(at + selector.length + 2, css.indexOf('}', at));
  const out: Record<string, string> = {};
  for (const m of body.matchAll(/--([\w-]+):\s*(#[0-9a-fA-F]{6})\b/g)) out[m[1]] = m[2].toLowerCase();
  return out;
}

const light = vars(':root');
const dark = vars(':root[data-theme="dark"]');
const darkMedia = vars('  :root:not([data-theme="light"])');

function luminance(hex: string): number {
  const [r, g, b] = [1, 3, 5]
    .map((i) => parseInt(hex.slice(i, i + 2), 16) / 255)
    .map((v) => (v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4));
  return 0.2126 * r + 0.7152 * g + 0.0722 * b;
}
function contrast(a: string, b: string): number {
  const [x, y] = [luminance(a), luminance(b)].sort((p, q) => q - p);
  return (x + 0.05) / (y + 0.05);
}

// [foreground, background, where it is used]
const TEXT: [string, string, string][] = [
  ['fg', 'bg', 'body text'],
  ['fg', 'bg2', 'sidebar, buttons, hovered message'],
  ['fg', 'mine', 'active room, own reaction, selected switcher row'],
  ['fg', 'code', 'inline code and code blocks'],
  ['muted', 'bg', 'timestamps, labels, placeholders, quotes'],
  ['muted', 'bg2', 'room previews, labels in the sidebar, timestamps on hover'],
  ['muted', 'mine', 'preview of the active room'],
  ['accent', 'bg', 'links, app title'],
  ['accent', 'bg2', 'links in a hovered message'],
  ['accent-fg', 'accent', 'primary buttons, unread badge'],
  ['danger', 'bg', 'errors'],
  ['danger', 'bg2', 'danger buttons, offline banner, sidebar errors'],
  ['danger-fg', 'danger', 'mention badge'],
  ['ok', 'bg', 'connected banner'],
  ['warn', 'bg2', 'connecting banner'],
  ['fg', 'surface', 'cards: sign-in, empty states, the welcome steps'],
  ['muted', 'surface', 'hints on cards'],
  ['fg', 'hover', 'hovered room, button'],
  ['muted', 'hover', 'preview of a hovered room'],
];
// Non-text (WCAG 1.4.11): the focus ring against every surface it is drawn on.
const UI: [string, string, string][] = [
  ['accent', 'bg', 'focus ring'],
  ['accent', 'bg2', 'focus ring on sidebar and buttons'],
  ['accent', 'mine', 'focus ring on the active room'],
  ['accent', 'surface', 'focus ring on cards'],
  ['accent', 'hover', 'focus ring on a hovered room'],
];

describe('theme contrast (WCAG AA)', () => {
  it('parses both palettes, and the two dark declarations agree', () => {
    expect(Object.keys(light).length).toBeGreaterThanOrEqual(12);
    expect(darkMedia).toEqual(dark);
    expect(Object.keys(dark).sort()).toEqual(Object.keys(light).sort());
  });

  for (const [name, theme] of [
    ['light', light],
    ['dark', dark],
  ] as const) {
    for (const [fg, bg, use] of TEXT) {
      it(`${name}: --${fg} on --${bg} (${use}) ≥ 4.5:1`, () => {
        expect(theme[fg], `--${fg}`).toBeDefined();
        expect(theme[bg], `--${bg}`).toBeDefined();
        expect(contrast(theme[fg], theme[bg])).toBeGreaterThanOrEqual(4.5);
      });
    }
    for (const [fg, bg, use] of UI) {
      it(`${name}: --${fg} on --${bg} (${use}) ≥ 3:1`, () => {
        expect(contrast(theme[fg], theme[bg])).toBeGreaterThanOrEqual(3);
      });
    }
  }

  it('uses no hard-coded text colours outside the palette', () => {
    const rules = css.replace(/--[\w-]+:\s*#[0-9a-fA-F]{3,8}/g, '');
    expect(rules.match(/(^|[\s;{])color:\s*#[0-9a-fA-F]{3,8}/g)).toBeNull();
  });

  it('keeps a visible focus style', () => {
    expect(css).toMatch(/:focus-visible\s*\{[^}]*outline:\s*3px solid var\(--accent\)/);
    expect(css).not.toMatch(/outline:\s*(none|0)\b/);
  });
});
