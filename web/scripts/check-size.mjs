// First-load JS budget: the gzipped size of the JavaScript a first visit downloads (the entry
// script of dist/index.html, its modulepreloads and, transitively, their static imports; lazy
// chunks behind import() are not counted). Fails above the budget. Run after `vite build`.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';

const BUDGET = 120 * 1000; // bytes, gzipped (120 kB as Vite reports sizes)
const dist = fileURLToPath(new URL('../dist/', import.meta.url));
const html = readFileSync(join(dist, 'index.html'), 'utf8');
const roots = [
  ...html.matchAll(/<script[^>]*type="module"[^>]*src="\/([^"]+)"/g),
  ...html.matchAll(/<link[^>]*rel="modulepreload"[^>]*href="\/([^"]+)"/g),
].map((m) => m[1]);
if (!roots.length) {
  console.error('check:size: no module script in dist/index.html');
  process.exit(1);
}
const seen = new Set();
const visit = (file) => {
  if (seen.has(file)) return;
  seen.add(file);
  const code = readFileSync(join(dist, file), 'utf8');
  const dir = file.slice(0, file.lastIndexOf('/') + 1);
  // Static imports only: `from"./x.js"` and `import"./x.js"`, not `import("./x.js")`.
  for (const m of code.matchAll(/\bfrom\s*["']\.\/([\w.-]+\.js)["']|\bimport\s*["']\.\/([\w.-]+\.js)["']/g)) {
    visit(dir + (m[1] ?? m[2]));
  }
};
for (const r of roots) visit(r);
let total = 0;
for (const f of [...seen].sort()) {
  const gz = gzipSync(readFileSync(join(dist, f)), { level: 9 }).length;
  total += gz;
  console.log(`  ${f}: ${(gz / 1000).toFixed(2)} kB gzipped`);
}
const line = `first-load JS: ${(total / 1000).toFixed(2)} kB gzipped (budget ${BUDGET / 1000} kB)`;
if (total > BUDGET) {
  console.error(`check:size: ${line}: over budget`);
  process.exit(1);
}
console.log(`check:size: ${line}`);
