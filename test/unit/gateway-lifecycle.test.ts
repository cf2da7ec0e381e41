import { describe, expect, it } from 'vitest';
import { Lifecycle } from '../../src/app/lifecycle.js';
import { createLogger } from '../../src/logger.js';

const logger = createLogger('silent');

describe('Lifecycle', () => {
  it('moves created → starting → serving → draining → stopped', async () => {
    const lifecycle = new Lifecycle(logger);
    const seen: string[] = [lifecycle.phase];
    let finishStart!: () => void;
    const started = lifecycle.start(() => new Promise<void>((resolve) => (finishStart = resolve)));
    seen.push(lifecycle.phase);
    finishStart();
    await started;
    seen.push(lifecycle.phase);
    lifecycle.onDrain('probe', () => void seen.push(lifecycle.phase));
    await lifecycle.stop();
    seen.push(lifecycle.phase);
    expect(seen).toEqual(['created', 'starting', 'serving', 'draining', 'stopped']);
  });

  it('drains everything, then disposes everything, each list in reverse order of registration', async () => {
    const lifecycle = new Lifecycle(logger);
    const order: string[] = [];
    lifecycle.onDispose('core', () => void order.push('dispose core'));
    lifecycle.onDrain('edge', () => void order.push('drain edge'));
    lifecycle.onDispose('edge', () => void order.push('dispose edge'));
    lifecycle.onDrain('listener', () => void order.push('drain listener'));
    await lifecycle.start(async () => undefined);
    await lifecycle.stop();
    expect(order).toEqual(['drain listener', 'drain edge', 'dispose edge', 'dispose core']);
  });

  it('runs every step when one fails, then throws the first failure', async () => {
    const lifecycle = new Lifecycle(logger);
    const ran: string[] = [];
    lifecycle.onDispose('last', () => void ran.push('last'));
    lifecycle.onDrain('broken', () => {
      throw new Error('broken drain');
    });
    lifecycle.onDrain('first', () => void ran.push('first'));
    await expect(lifecycle.start(async () => undefined).then(() => lifecycle.stop())).rejects.toThrow('broken drain');
    expect(ran).toEqual(['first', 'last']);
    expect(lifecycle.phase).toBe('stopped');
  });

  it('stops once however often it is asked, and answers the same start to a second start', async () => {
    const lifecycle = new Lifecycle(logger);
    let starts = 0;
    let disposals = 0;
    lifecycle.onDispose('count', () => void (disposals += 1));
    const first = lifecycle.start(async () => (starts += 1));
    expect(lifecycle.start(async () => (starts += 1))).toBe(first);
    await first;
    await Promise.all([lifecycle.stop(), lifecycle.stop()]);
    await lifecycle.stop();
    expect({ starts, disposals }).toEqual({ starts: 1, disposals: 1 });
  });

  it('stopped before it started: disposes what exists, and refuses to start afterwards', async () => {
    const lifecycle = new Lifecycle(logger);
    let disposed = false;
    let started = false;
    lifecycle.onDispose('core', () => void (disposed = true));
    await lifecycle.stop();
    await expect(lifecycle.start(async () => void (started = true))).rejects.toThrow(/stopped: it cannot start/);
    expect({ disposed, started, phase: lifecycle.phase }).toEqual({ disposed: true, started: false, phase: 'stopped' });
  });

  it('stopped while starting: waits for the start to settle, then drains what it built', async () => {
    const lifecycle = new Lifecycle(logger);
    const order: string[] = [];
    let finishStart!: () => void;
    const started = lifecycle.start(async () => {
      await new Promise<void>((resolve) => (finishStart = resolve));
      lifecycle.onDrain('built during start', () => void order.push('drained'));
      order.push('started');
    });
    const stopped = lifecycle.stop();
    expect(lifecycle.phase).toBe('starting');
    finishStart();
    await Promise.all([started, stopped]);
    expect(order).toEqual(['started', 'drained']);
    expect(lifecycle.phase).toBe('stopped');
  });
});
