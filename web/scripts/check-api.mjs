// Fails when src/lib/api/schema.d.ts is not what `npm run gen:api` makes from docs/openapi.json
// (the OpenAPI document changed and the generated types were not regenerated and committed).
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const web = fileURLToPath(new URL('..', import.meta.url));
const committed = join(web, 'src/lib/api/schema.d.ts');
const dir = mkdtempSync(join(tmpdir(), 'justus-api-'));
try {
  const fresh = join(dir, 'schema.d.ts');
  execFileSync(join(web, 'node_modules/.bin/openapi-typescript'), ['../docs/openapi.json', '-o', fresh], {
    cwd: web,
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  if (readFileSync(fresh, 'utf8') !== readFileSync(committed, 'utf8')) {
    console.error(
      'check:api: web/src/lib/api/schema.d.ts is out of date with docs/openapi.json.\n' +
        '  Run `npm run gen:api` in web/ and commit the result.',
    );
    process.exit(1);
  }
  console.log('check:api: web/src/lib/api/schema.d.ts matches docs/openapi.json');
} finally {
  rmSync(dir, { recursive: true, force: true });
}
