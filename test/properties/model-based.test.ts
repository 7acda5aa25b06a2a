/**
 * Model-based testing with fc.commands: the device runs until the next power failure (after a
 * chosen number of actions) or to completion; the model is the uninterrupted reference. A
 * failing sequence prints as readable commands, e.g. [FailAfter(130), FailAfter(2), Finish].
 */
import { describe, it, expect } from 'vitest';
import fc from 'fast-check';
import { loadModel } from '../../src/model/models.js';
import { Deployment, makeDevice } from '../../src/engines/runner.js';
import { PagedMemory } from '../../src/device/paged.js';
import { isPowerFailure } from '../../src/device/device.js';
import { msp430fr5994 } from '../../src/device/profile.js';
import { checkSeek, warmNvm, type Violation } from '../../src/properties/properties.js';

/** The system under test: NVM, ledger and counters that survive from one power cycle to the next. */
class Session {
  nvm: PagedMemory;
  ledger: PagedMemory;
  action = 0;
  boots = 1;
  failures = 0;
  done = false;
  output: Int16Array | null = null;
  readonly violations: Violation[] = [];
  constructor(
    readonly d: Deployment,
    readonly input: Int16Array,
    warm: PagedMemory,
  ) {
    this.nvm = warm;
    d.writeInput(this.nvm, input);
    this.ledger = new PagedMemory(2 * this.nvm.bytes);
  }
  /** Power on and run; power fails after `gap` more actions (or never). */
  powerCycle(gap: number | null): void {
    const insp = this.d.inspector();
    const dev = makeDevice(
      this.d,
      {
        input: this.input,
        supply: { kind: 'schedule', failAt: gap === null ? [] : [this.action + gap] },
        seed: 7,
        ledgerMemory: this.ledger,
        start: { action: this.action, boots: this.boots, failures: this.failures },
        onRecovered: (dv, layer, job) => this.violations.push(...checkSeek(insp, dv, layer, job).violations),
      },
      this.nvm,
    );
    try {
      this.d.newEngine().boot(dev);
      this.done = true;
      this.output = this.d.readTensor(dev.nvm, this.d.plan.output);
    } catch (e) {
      if (!isPowerFailure(e)) throw e;
      this.boots++;
      this.failures++;
    }
    this.action = dev.action;
    this.nvm = dev.nvm;
    if (dev.undefinedReads > 0) this.violations.push({ property: 'no-garbage-reads', message: 'read garbage', action: dev.action, boot: dev.boots });
  }
}

interface Model {
  readonly reference: Int16Array;
}

class FailAfter implements fc.Command<Model, Session> {
  constructor(readonly gap: number) {}
  check = (_m: Readonly<Model>) => true;
  run(_m: Model, s: Session): void {
    if (s.done) return;
    s.powerCycle(this.gap);
    expect(s.violations).toEqual([]);
  }
  toString = () => `FailAfter(${this.gap})`;
}

class Finish implements fc.Command<Model, Session> {
  check = (_m: Readonly<Model>) => true;
  run(m: Model, s: Session): void {
    while (!s.done) s.powerCycle(null);
    expect(s.violations).toEqual([]);
    expect(Array.from(s.output!)).toEqual(Array.from(m.reference));
  }
  toString = () => 'Finish';
}

function scenario(model: string, engine: 'hawaii' | 'japari', batch: number, faults: string[] = []) {
  const m = loadModel(model);
  const d = new Deployment(m.q, { engine, batch, placement: 'spi-fram', profile: msp430fr5994, faults });
  const x = m.inputQ(1);
  const warm = warmNvm(d, [m.inputQ(2)]);
  const commands = fc.array(fc.oneof(fc.nat(40).map((g) => new FailAfter(g)), fc.nat(1500).map((g) => new FailAfter(g))), { maxLength: 5 });
  return fc.property(commands, (cmds) => {
    fc.modelRun(() => ({ model: { reference: d.reference(x) }, real: new Session(d, x, warm.snapshot()) }), [...cmds, new Finish()]);
  });
}

describe('model-based power cycling (fc.commands)', () => {
  for (const engine of ['hawaii', 'japari'] as const) {
    it(`${engine} on tiny-conv holds for any sequence of power cycles`, () => {
      fc.assert(scenario('tiny-conv', engine, 2), { seed: 4, numRuns: 120 });
    });
  }

  it('a broken engine fails with a short, readable command sequence', () => {
    const out = fc.check(scenario('tiny-conv', 'japari', 2, ['japari-footprint-first']), { seed: 4, numRuns: 300 });
    expect(out.failed).toBe(true);
    const printed = String(out.counterexample![0]);
    expect(printed).toMatch(/FailAfter\(\d+\)/);
    expect(printed.split('FailAfter').length - 1).toBeLessThanOrEqual(3);
  });
});
