#!/usr/bin/env node
// japari's command-line entry point: the only place that touches the process's exit status.
// The CLI itself lives in src/cli (compiled to dist/ by `npm install` / `npm run build`).
import { existsSync } from 'node:fs';

const entry = new URL('../dist/src/cli/main.js', import.meta.url);
if (!existsSync(entry)) {
  process.stderr.write('japari: dist/ is missing: run `npm run build` (or `npm install`) first\n');
  process.exitCode = 2;
} else {
  // A closed pipe (`japari run --trace-events | head`) is not an error worth a stack trace.
  process.stdout.on('error', (e) => {
    if (e && e.code === 'EPIPE') process.exit(process.exitCode ?? 0);
    throw e;
  });
  const { main, realIo } = await import(entry.href);
  process.exitCode = await main(process.argv.slice(2), realIo());
}
