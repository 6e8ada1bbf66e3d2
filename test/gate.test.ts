import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { gateFailures, type GateInputs, type GateSpec, type PhaseCounts } from '../src/core/machines/gate.js';

const counts = (over: Partial<PhaseCounts> = {}): PhaseCounts => {
  const c = { open: 0, succeeded: 0, dead_lettered: 0, cancelled: 0, skipped: 0, ...over };
  return { total: c.open + c.succeeded + c.dead_lettered + c.cancelled + c.skipped, ...c };
};

const inputs = (over: Partial<GateInputs> = {}): GateInputs => ({
  counts: counts({ succeeded: 3 }),
  artifacts: [],
  minQuality: null,
  ...over,
});

describe('gateFailures', () => {
  it('passes the default gate when every task succeeded', () => {
    expect(gateFailures({}, inputs())).toEqual([]);
  });

  it('fails the default gate naming how many tasks did not succeed', () => {
    expect(gateFailures({}, inputs({ counts: counts({ succeeded: 2, dead_lettered: 1 }) }))).toEqual([
      '1 of 3 tasks did not succeed',
    ]);
    expect(gateFailures({}, inputs({ counts: counts({ succeeded: 1, cancelled: 1, skipped: 2 }) }))).toEqual([
      '3 of 4 tasks did not succeed',
    ]);
    expect(gateFailures({ allTasksSucceeded: true }, inputs({ counts: counts({ skipped: 1 }) }))).toEqual([
      '1 of 1 tasks did not succeed',
    ]);
  });

  it('counts open tasks as not succeeded', () => {
    expect(gateFailures({}, inputs({ counts: counts({ succeeded: 1, open: 1 }) }))).toEqual([
      '1 of 2 tasks did not succeed',
    ]);
  });

  it('passes a phase without tasks', () => {
    expect(gateFailures({}, inputs({ counts: counts() }))).toEqual([]);
  });

  it('ignores failed tasks when allTasksSucceeded is false', () => {
    expect(gateFailures({ allTasksSucceeded: false }, inputs({ counts: counts({ dead_lettered: 2 }) }))).toEqual([]);
  });

  it('names each missing required artifact, in the order the gate lists them', () => {
    const gate: GateSpec = { requiredArtifacts: ['spec.md', 'tests', 'report'] };
    expect(gateFailures(gate, inputs({ artifacts: ['tests'] }))).toEqual([
      'required artifact "spec.md" is missing',
      'required artifact "report" is missing',
    ]);
    expect(gateFailures(gate, inputs({ artifacts: ['report', 'spec.md', 'tests', 'extra'] }))).toEqual([]);
  });

  it('asks for a quality score when minQuality is set and none was reported', () => {
    expect(gateFailures({ minQuality: 0.7 }, inputs())).toEqual(['no quality score was reported (needs 0.7)']);
  });

  it('fails a quality below minQuality and passes one equal to it', () => {
    expect(gateFailures({ minQuality: 0.7 }, inputs({ minQuality: 0.5 }))).toEqual(['quality 0.5 is below 0.7']);
    expect(gateFailures({ minQuality: 0.7 }, inputs({ minQuality: 0.7 }))).toEqual([]);
    expect(gateFailures({ minQuality: 0 }, inputs({ minQuality: 0 }))).toEqual([]);
  });

  it('ignores the quality when the gate sets no minQuality', () => {
    expect(gateFailures({}, inputs({ minQuality: 0.01 }))).toEqual([]);
  });

  it('leaves the validator to the phase: it never adds a reason', () => {
    expect(gateFailures({ validator: { type: 'review' } }, inputs())).toEqual([]);
  });

  it('lists every failed criterion: tasks, then artifacts, then quality', () => {
    const gate: GateSpec = { requiredArtifacts: ['a', 'b'], minQuality: 0.9, validator: { type: 'review' } };
    expect(
      gateFailures(
        gate,
        inputs({ counts: counts({ succeeded: 1, dead_lettered: 1 }), artifacts: ['b'], minQuality: 0.3 }),
      ),
    ).toEqual(['1 of 2 tasks did not succeed', 'required artifact "a" is missing', 'quality 0.3 is below 0.9']);
  });

  it('does not change its inputs', () => {
    const gate: GateSpec = { requiredArtifacts: ['x'], minQuality: 1 };
    const given = inputs({ artifacts: ['y'], minQuality: 0.2 });
    const copy = structuredClone({ gate, given });
    gateFailures(gate, given);
    expect({ gate, given }).toEqual(copy);
  });

  it('property: no reasons exactly when every criterion the gate names holds', () => {
    const names = fc.constantFrom('spec', 'tests', 'docs', 'bench');
    fc.assert(
      fc.property(
        fc.record(
          {
            allTasksSucceeded: fc.boolean(),
            requiredArtifacts: fc.uniqueArray(names, { maxLength: 3 }),
            minQuality: fc.double({ min: 0, max: 1, noNaN: true }),
          },
          { requiredKeys: [] },
        ),
        fc.record({
          open: fc.nat(3),
          succeeded: fc.nat(5),
          dead_lettered: fc.nat(2),
          cancelled: fc.nat(2),
          skipped: fc.nat(2),
        }),
        fc.uniqueArray(names, { maxLength: 4 }),
        fc.option(fc.double({ min: 0, max: 1, noNaN: true }), { nil: null }),
        (gate, c, artifacts, minQuality) => {
          const k = counts(c);
          const holds =
            (gate.allTasksSucceeded === false || k.succeeded === k.total) &&
            (gate.requiredArtifacts ?? []).every((a) => artifacts.includes(a)) &&
            (gate.minQuality === undefined || (minQuality !== null && minQuality >= gate.minQuality));
          const reasons = gateFailures(gate, { counts: k, artifacts, minQuality });
          expect(reasons.length === 0).toBe(holds);
          // One reason per failed criterion (each missing artifact counts as one).
          const expected =
            (gate.allTasksSucceeded !== false && k.succeeded < k.total ? 1 : 0) +
            (gate.requiredArtifacts ?? []).filter((a) => !artifacts.includes(a)).length +
            (gate.minQuality !== undefined && (minQuality === null || minQuality < gate.minQuality) ? 1 : 0);
          expect(reasons).toHaveLength(expected);
        },
      ),
    );
  });
});
