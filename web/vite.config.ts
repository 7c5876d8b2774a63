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

const target = process.env.JUSTUS_DEV_API ?? 'http://127.0.0.1:8080';

export default defineConfig({
  plugins: [solid(), serviceWorker()],
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
