// Serves web/dist (this checkout's build) and proxies /api (HTTP and WebSocket), /health, /ready
// and /metrics to a running justus: how the e2e suite tests a build the binary does not embed,
// and how docs/web-quality.md points Lighthouse and axe at it. Headers as the server sends them
// (its CSP, cache policy, gzip).
//
//   node e2e/serve.mjs http://127.0.0.1:18080 [PORT]     # prints the URL, serves until killed
//   WEB_DIST=/tmp/old-dist node e2e/serve.mjs …          # another build
import { existsSync, readFileSync } from 'node:fs';
import { createServer, request as httpRequest } from 'node:http';
import { connect as netConnect } from 'node:net';
import { extname, join, normalize } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';

// WEB_DIST: another build to serve (e.g. an older web/dist unpacked with git archive, for before/after).
const dist = process.env.WEB_DIST ?? join(fileURLToPath(new URL('.', import.meta.url)), '..', 'dist');

const MIME = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript',
  '.css': 'text/css',
  '.png': 'image/png',
  '.webmanifest': 'application/manifest+json',
  '.json': 'application/json',
  '.svg': 'image/svg+xml',
};

const CSP =
  "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; " +
  "media-src 'self' blob:; connect-src 'self'; font-src 'self'; object-src 'none'; " +
  "base-uri 'none'; form-action 'self'; frame-ancestors 'none'; manifest-src 'self'; worker-src 'self'";

export async function startStatic(api, { port = 0 } = {}) {
  const target = new URL(api);
  const server = createServer((req, res) => {
    const path = new URL(req.url, 'http://x').pathname;
    if (path.startsWith('/api/') || ['/health', '/ready', '/metrics'].includes(path)) {
      // Keep Host as sent by the browser: the server compares it with Origin.
      const p = httpRequest(
        { host: target.hostname, port: target.port, method: req.method, path: req.url, headers: req.headers },
        (r) => {
          res.writeHead(r.statusCode, r.headers);
          r.pipe(res);
        },
      );
      p.on('error', () => {
        res.writeHead(502);
        res.end();
      });
      req.pipe(p);
      return;
    }
    let file = normalize(join(dist, path));
    // Like the server (crates/server/src/web.rs): missing files 404, app routes get index.html.
    const isFile = path.startsWith('/assets/') || path.split('/').pop().includes('.');
    if (file.startsWith(dist) && !existsSync(file) && isFile) {
      res.writeHead(404);
      res.end();
      return;
    }
    if (!file.startsWith(dist) || !existsSync(file) || path === '/') file = join(dist, 'index.html');
    try {
      const body = readFileSync(file);
      const type = MIME[extname(file)] ?? 'application/octet-stream';
      // Compressed like the server's compression layer, so Lighthouse measures what justus sends.
      const gz = /\bgzip\b/.test(req.headers['accept-encoding'] ?? '') && !type.startsWith('image/');
      res.writeHead(200, {
        // The server's policy (crates/server/src/http/middleware.rs), so a CSP violation shows here too.
        'content-security-policy': CSP,
        'content-type': type,
        'cache-control': path.startsWith('/assets/') ? 'max-age=31536000, immutable' : 'no-cache',
        ...(gz ? { 'content-encoding': 'gzip', vary: 'accept-encoding' } : {}),
      });
      res.end(gz ? gzipSync(body) : body);
    } catch {
      res.writeHead(404);
      res.end();
    }
  });
  server.on('upgrade', (req, socket, head) => {
    const up = netConnect(Number(target.port), target.hostname, () => {
      up.write(
        `${req.method} ${req.url} HTTP/1.1\r\n` +
          Object.entries(req.headers)
            .map(([k, v]) => `${k}: ${v}`)
            .join('\r\n') +
          '\r\n\r\n',
      );
      if (head.length) up.write(head);
      up.pipe(socket);
      socket.pipe(up);
    });
    up.on('error', () => socket.destroy());
    socket.on('error', () => up.destroy());
  });
  await new Promise((r) => server.listen(port, '127.0.0.1', r));
  return { url: `http://127.0.0.1:${server.address().port}`, server };
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const [api, port] = process.argv.slice(2);
  if (!api) {
    console.error('usage: node e2e/serve.mjs JUSTUS_URL [PORT]');
    process.exit(2);
  }
  const { url } = await startStatic(api, { port: Number(port ?? 0) });
  console.log(`web/dist at ${url}, /api proxied to ${api}`);
}
