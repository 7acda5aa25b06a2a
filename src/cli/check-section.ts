/**
 * What a section of `japari check` is: a named list of checks over one deployed model
 * (commands/check.ts runs them; check-verify.ts and check-proofs.ts define the verification ones).
 */
import type { LoadedModel } from '../model/models.js';
import type { DeviceProfile, NvmPlacement } from '../device/profile.js';
import type { Verdict } from './style.js';
import type { ProfileName } from './options.js';

export interface CheckResult {
  readonly name: string;
  readonly status: Verdict;
  /** One line for humans. */
  readonly detail: string;
  /** Figures for the JSON report. */
  readonly data?: Readonly<Record<string, unknown>>;
}

/** What every section works on: one deployed model, one input, one device configuration. */
export interface CheckContext {
  readonly modelName: string;
  readonly model: LoadedModel;
  readonly inputIndex: number;
  readonly input: Int16Array;
  readonly label?: number;
  readonly seed: number;
  readonly profileName: ProfileName;
  readonly profile: DeviceProfile;
  readonly placement: NvmPlacement;
  /** The firmware build every engine runs as (firmware.ts; the commands' default). */
  readonly firmware: string;
}

export interface CheckSection {
  /** Short id, the first column of the summary. */
  readonly id: string;
  readonly title: string;
  run(ctx: CheckContext): CheckResult[] | Promise<CheckResult[]>;
}

