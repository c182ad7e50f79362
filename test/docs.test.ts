// The API reference (npm run docs, TypeDoc) is built from the doc comments: every public symbol needs one
// (scripts/check-docs.mjs walks what src/index.ts exports with the TypeScript compiler), and every option
// of fit, init, the optimizers and the schedules states its default and its PyTorch or Keras equivalent.
import { describe, expect, it } from 'vitest';
// @ts-expect-error: a plain .mjs script without declarations
import { undocumented } from '../scripts/check-docs.mjs';

const { missing, docs } = undocumented() as { missing: string[]; docs: Map<string, string> };

describe('doc comments', () => {
  it('every public symbol has one', () => {
    expect(missing).toEqual([]);
  });

  const OPTIONS = [
    'FitOptions', 'EarlyStopping', 'InitOptions',
    'optimizers.SgdOptions', 'optimizers.AdamOptions', 'optimizers.RmspropOptions', 'optimizers.AdagradOptions',
    'schedules.StepScheduleOptions', 'schedules.ExponentialScheduleOptions', 'schedules.CosineScheduleOptions',
    'schedules.OneCycleScheduleOptions', 'schedules.PlateauScheduleOptions',
  ];
  it.each(OPTIONS)('every option of %s states its default and its PyTorch/Keras equivalent', (name) => {
    const members = [...docs.keys()].filter((k) => k.startsWith(`${name}.`));
    expect(members.length, `${name} has no documented members`).toBeGreaterThan(1);
    const bad = members.filter((k) => {
      const d = docs.get(k)!;
      return !/\b(Default|Required, no default)\b/.test(d) || !/PyTorch|Keras|TF\.js/.test(d);
    });
    expect(bad).toEqual([]);
  });
});
