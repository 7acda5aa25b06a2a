import { readFileSync } from 'node:fs';
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 120_000,
    hookTimeout: 120_000,
    pool: 'forks',
    // GitHub's workflow parser (test/examples.test.ts) imports its JSON schema without an import
    // attribute, which Node 20 refuses; vite's transform loads it instead.
    server: { deps: { inline: ['@actions/workflow-parser'] } },
  },
  plugins: [
    {
      // Its published source maps name sources it does not ship (vite warns once per file).
      name: 'workflow-parser-without-source-maps',
      load(id) {
        if (id.includes('/@actions/workflow-parser/dist/') && id.endsWith('.js')) return readFileSync(id, 'utf8').replace(/^\/\/# sourceMappingURL=.*$/m, '');
        return null;
      },
    },
  ],
});
