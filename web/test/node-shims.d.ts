// The web package has no @types/node; tests that read source files only need this much.
declare module 'node:fs' {
  export function readFileSync(path: URL | string, encoding: 'utf8'): string;
}
