import { defineConfig } from 'vitest/config';

// The view models hold Solid signals and stores: tests resolve solid-js to its browser build,
// the reactive one (Node would pick the server build, where effects never run).
export default defineConfig({
  ssr: { resolve: { conditions: ['browser', 'development'], externalConditions: ['browser', 'development'] } },
  test: {
    include: ['test/**/*.test.ts'],
    environment: 'node',
    server: { deps: { inline: [/solid-js/] } },
  },
});
