import { defineConfig, type Plugin } from 'vite';
import solid from 'vite-plugin-solid';
import { createHash } from 'node:crypto';
import { readFileSync, readdirSync } from 'node:fs';

/** Emits /sw.js with the precache list of this build (index.html, hashed assets, manifest, icons). */
function serviceWorker(): Plugin {
  return {
    name: 'justus-sw',
    apply: 'build',
    generateBundle(_opts, bundle) {
      const icons = readdirSync(new URL('./public/icons/', import.meta.url)).map((f) => `/icons/${f}`);
      const files = [
        '/index.html',
        '/manifest.webmanifest',
        ...icons,
        ...Object.keys(bundle)
          .filter((f) => f.startsWith('assets/'))
          .map((f) => `/${f}`),
      ];
      const version = createHash('sha256').update(files.join('\n')).digest('hex').slice(0, 12);
      const src = readFileSync(new URL('./sw/sw.js', import.meta.url), 'utf8')
        .replace('__VERSION__', version)
        .replace('__PRECACHE__', JSON.stringify(files.sort(), null, 2));
      this.emitFile({ type: 'asset', fileName: 'sw.js', source: src });
    },
  };
}

/**
 * emoji-picker-element under our CSP (style-src 'self', no 'unsafe-inline'): its shadow root's
 * <style> element becomes a constructed style sheet, and its `style` attributes are set property
 * by property through CSSOM; both are allowed where inline styles are not. The build fails if
 * the library's code changed shape (so an update cannot silently bring inline styles back).
 */
function emojiPickerCsp(): Plugin {
  const patches: [string, string][] = [
    [
      `const style = document.createElement('style');
    style.textContent = baseStyles + EXTRA_STYLES;
    this.shadowRoot.appendChild(style);`,
      `const sheet = new CSSStyleSheet();
    sheet.replaceSync(baseStyles + EXTRA_STYLES);
    this.shadowRoot.adoptedStyleSheets = [sheet];`,
    ],
    [
      'targetNode.setAttribute(attributeName, newValue);',
      `if (attributeName === 'style') {
          targetNode.removeAttribute('style');
          for (const decl of newValue.split(';')) {
            const i = decl.indexOf(':');
            if (i > 0) targetNode.style.setProperty(decl.slice(0, i).trim(), decl.slice(i + 1).trim());
          }
        } else targetNode.setAttribute(attributeName, newValue);`,
    ],
  ];
  return {
    name: 'justus-emoji-picker-csp',
    enforce: 'pre',
    transform(code, id) {
      if (!/emoji-picker-element[\\/]picker\.js$/.test(id)) return null;
      let out = code;
      for (const [from, to] of patches) {
        if (!out.includes(from))
          this.error(`emoji-picker-element changed: cannot make it CSP-safe (${from.slice(0, 40)}…)`);
        out = out.replace(from, to);
      }
      return { code: out, map: null };
    },
  };
}

const target = process.env.JUSTUS_DEV_API ?? 'http://127.0.0.1:8080';

export default defineConfig({
  plugins: [emojiPickerCsp(), solid(), serviceWorker()],
  // Not pre-bundled in dev, so the CSP patch above applies there too.
  optimizeDeps: { exclude: ['emoji-picker-element'] },
  build: {
    outDir: 'dist',
    assetsDir: 'assets',
    emptyOutDir: true,
    target: 'es2022',
    // No inline scripts or data: modules (CSP: script-src 'self').
    modulePreload: { polyfill: false },
    assetsInlineLimit: 0,
  },
  server: {
    proxy: {
      '/api': {
        target,
        ws: true,
        changeOrigin: true,
        // The server checks Origin against its Host; through the proxy they differ, so drop it.
        configure: (proxy) => {
          proxy.on('proxyReq', (req) => req.removeHeader('origin'));
          proxy.on('proxyReqWs', (req) => req.removeHeader('origin'));
        },
      },
    },
  },
});
