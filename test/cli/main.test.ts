import { describe, it, expect } from 'vitest';
import { main } from '../../src/cli/main.js';
import { captureIo } from '../../src/cli/io.js';
import { VERSION } from '../../src/index.js';
import type { CommandModule } from '../../src/cli/command.js';
import { UsageError, InputError, ConfigError, JapariError } from '../../src/util/errors.js';

async function cli(...argv: string[]) {
  const io = captureIo();
  const code = await main(argv, io);
  return { code, out: io.stdout(), err: io.stderr() };
}

/** One clear "japari: ..." line on stderr, nothing on stdout. */
function expectUsageLine(r: { code: number; out: string; err: string }, msg: RegExp): void {
  expect(r.code).toBe(2);
  expect(r.out).toBe('');
  expect(r.err.split('\n').filter((l) => l !== '')).toHaveLength(1);
  expect(r.err).toMatch(/^japari: /);
  expect(r.err).toMatch(msg);
}

describe('main: exit codes and messages', () => {
  it('--help and --version exit 0 on stdout', async () => {
    const help = await cli('--help');
    expect(help.code).toBe(0);
    expect(help.out).toMatch(/Usage: japari/);
    for (const c of ['check', 'run', 'models']) expect(help.out).toContain(c);
    const runHelp = await cli('run', '--help');
    expect(runHelp.code).toBe(0);
    expect(runHelp.out).toMatch(/--capacitor <C>/);
    expect((await cli('help', 'run')).code).toBe(0);
    const v = await cli('--version');
    expect(v).toEqual({ code: 0, out: `${VERSION}\n`, err: '' });
  });

  it('no command: help on stderr, exit 2', async () => {
    const r = await cli();
    expect(r.code).toBe(2);
    expect(r.out).toBe('');
    expect(r.err).toMatch(/Usage: japari/);
  });

  it('unknown flag -> 2', async () => {
    expectUsageLine(await cli('run', '--frobnicate'), /unknown option '--frobnicate' \(see japari run --help\)/);
  });

  it('unknown command -> 2 with a suggestion', async () => {
    expectUsageLine(await cli('rnu'), /unknown command 'rnu'; did you mean run\?/);
  });

  it('missing option argument -> 2', async () => {
    expectUsageLine(await cli('run', '--model'), /argument missing/);
  });

  it('excess arguments -> 2', async () => {
    expectUsageLine(await cli('models', 'extra'), /too many arguments/);
  });

  it('bad unit -> 2 naming the option and the units', async () => {
    expectUsageLine(await cli('run', '--capacitor', '100', '--power', '2mW'), /--capacitor: expected a capacitance like 100uF \(units: F, mF, uF, nF\)/);
    expectUsageLine(await cli('run', '--capacitor', '100uF', '--power', '2mw'), /--power: unknown unit "mw"/);
  });

  it('conflicting supply flags -> 2', async () => {
    expectUsageLine(await cli('run', '--fail-at', '1,2', '--capacitor', '100uF', '--power', '2mW'), /mutually exclusive/);
  });

  it('unknown model -> 2', async () => {
    expectUsageLine(await cli('run', '--model', 'alexnet'), /unknown model "alexnet"/);
  });

  describe('errors thrown by a command', () => {
    const throwing = (make: () => unknown): CommandModule => ({
      name: 'boom',
      register(program, ctx) {
        program.command('boom').action(async () => {
          ctx.setExit(0);
          throw make();
        });
      },
    });

    it.each([
      ['UsageError', () => new UsageError('bad flag value')],
      ['InputError', () => new InputError('malformed model')],
      ['ConfigError', () => new ConfigError('tiles do not fit')],
    ])('%s -> 2 with its message', async (_, make) => {
      const io = captureIo();
      expect(await main(['boom'], io, [throwing(make)])).toBe(2);
      expect(io.stderr()).toMatch(/^japari: (bad flag value|malformed model|tiles do not fit)\n$/);
    });

    it('anything else -> 70, with the stack only under JAPARI_DEBUG', async () => {
      const plain = captureIo();
      expect(await main(['boom'], plain, [throwing(() => new TypeError('x is undefined'))])).toBe(70);
      expect(plain.stderr()).toMatch(/^japari: internal error: x is undefined\n/);
      expect(plain.stderr()).not.toMatch(/\n\s+at /);
      const debug = captureIo({ env: { JAPARI_DEBUG: '1' } });
      expect(await main(['boom'], debug, [throwing(() => new TypeError('x is undefined'))])).toBe(70);
      expect(debug.stderr()).toMatch(/\n\s+at /);
      // A bare JapariError is a bug (an invariant), not bad input.
      expect(await main(['boom'], captureIo(), [throwing(() => new JapariError('invariant violated: y'))])).toBe(70);
    });
  });
});
