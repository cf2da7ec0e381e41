import { describe, expect, it } from 'vitest';
import { createSimulator } from '../../src/simulator/server.js';

describe('simulator ids', () => {
  it('come from a fixed seed: a restarted simulator seeds the same activities, and its demo uploads follow the same ids', async () => {
    const runs = [];
    for (let i = 0; i < 2; i++) {
      const simulator = createSimulator({ stepMs: 0, shouldSeed: true, demoEverySteps: 1 });
      await simulator.start();
      for (let s = 0; s < 3; s++) simulator.step();
      runs.push(simulator.demoActivities().map((a) => a.activityId));
      await simulator.stop();
    }
    expect(runs[0]!.length).toBeGreaterThanOrEqual(6);
    expect(runs[1]).toEqual(runs[0]);
    expect(
      runs[0]!.every((id) => /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/.test(id)),
    ).toBe(true);
  });

  it('keeps starting demo uploads, some of which end ABORTED', async () => {
    const simulator = createSimulator({ stepMs: 0, shouldSeed: true, demoEverySteps: 1 });
    await simulator.start();
    for (let s = 0; s < 40; s++) simulator.step();
    const demo = simulator.demoActivities();
    expect(demo.length).toBe(12);
    expect(simulator.activities().filter((a) => a.status === 'ABORTED').length).toBeGreaterThan(2);
    await simulator.stop();
  });
});
