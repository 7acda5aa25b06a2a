#!/usr/bin/env node
// japari's command-line entry point: the only place that touches the process's exit status.
// The CLI itself lives in src/cli (compiled to dist/ by `npm install` / `npm run build`).
//
// Commands that write report files (reports, bench, mutants --out, --report, --html) run in a
// child process under this one, the supervisor. Ctrl-C must end a command at once, so the child
// keeps Node's default signal handling (a signal listener would wait for the event loop, which a
// long synchronous campaign never frees); the supervisor, idle, waits for the child, removes the
// temporary files the child reported over IPC (src/util/fsx.ts), and exits the same way.
import { existsSync, rmSync } from 'node:fs';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const entry = new URL('../dist/src/cli/main.js', import.meta.url);
const argv = process.argv.slice(2);

/** Whether this command line may write report files (then it runs supervised). */
function writesReports(args) {
  const cmd = args.find((a) => !a.startsWith('-'));
  if (cmd === 'reports' || cmd === 'bench') return true;
  return args.some((a) => a === '--out' || a === '--report' || a === '--html' || a.startsWith('--out=') || a.startsWith('--report=') || a.startsWith('--html='));
}

if (!existsSync(entry)) {
  process.stderr.write('japari: dist/ is missing: run `npm run build` (or `npm install`) first\n');
  process.exitCode = 2;
} else if (process.env.JAPARI_SUPERVISED !== '1' && writesReports(argv)) {
  const temps = new Set();
  const child = spawn(process.execPath, [...process.execArgv, fileURLToPath(import.meta.url), ...argv], {
    stdio: ['inherit', 'inherit', 'inherit', 'ipc'],
    env: { ...process.env, JAPARI_SUPERVISED: '1' },
  });
  child.on('message', (m) => {
    if (m && typeof m.path === 'string') {
      if (m.japariTemp === 'add') temps.add(m.path);
      else if (m.japariTemp === 'remove') temps.delete(m.path);
    }
  });
  // A terminal's Ctrl-C reaches both processes; a `kill` of this one is passed on.
  const forward = (sig) => {
    if (child.exitCode === null && child.signalCode === null) child.kill(sig);
  };
  process.on('SIGINT', forward);
  process.on('SIGTERM', forward);
  process.on('SIGHUP', forward);
  child.on('exit', (code, signal) => {
    for (const p of temps) rmSync(p, { recursive: true, force: true });
    process.off('SIGINT', forward);
    process.off('SIGTERM', forward);
    process.off('SIGHUP', forward);
    if (signal) process.kill(process.pid, signal);
    else process.exitCode = code ?? 70;
  });
} else {
  // A closed pipe (`japari run --trace-events | head`) is not an error worth a stack trace.
  process.stdout.on('error', (e) => {
    if (e && e.code === 'EPIPE') process.exit(process.exitCode ?? 0);
    throw e;
  });
  const { main, realIo } = await import(entry.href);
  process.exitCode = await main(argv, realIo());
  // The IPC channel to a supervisor would keep the event loop alive.
  if (process.env.JAPARI_SUPERVISED === '1' && process.connected) process.disconnect();
}
