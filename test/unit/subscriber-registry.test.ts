import { describe, expect, it } from 'vitest';
import { createSubscriberRegistry } from '../../src/upload-activity/subscriber-registry.js';

describe('createSubscriberRegistry', () => {
  it('tells the first and the last subscriber of a key, and counts from the sets themselves', () => {
    const registry = createSubscriberRegistry<string>();
    expect(registry.add('k', 's1')).toBe(true);
    expect(registry.add('k', 's2')).toBe(false);
    expect(registry.add('k', 's2')).toBe(false);
    expect(registry.add('j', 's1')).toBe(true);
    expect(registry.size).toEqual({ keys: 2, subscriptions: 3 });
    expect(registry.remove('k', 'nobody')).toBe(false);
    expect(registry.remove('k', 's1')).toBe(false);
    expect(registry.remove('k', 's2')).toBe(true);
    expect(registry.remove('k', 's2')).toBe(false);
    expect(registry.has('k')).toBe(false);
    expect(registry.size).toEqual({ keys: 1, subscriptions: 1 });
  });

  it('hands out a copy, so subscribers may leave during a fan-out; drop forgets a key', () => {
    const registry = createSubscriberRegistry<string>();
    registry.add('k', 'a');
    registry.add('k', 'b');
    const seen: string[] = [];
    for (const s of registry.subscribersOf('k')) {
      seen.push(s);
      registry.remove('k', s);
    }
    expect(seen).toEqual(['a', 'b']);
    registry.add('k', 'c');
    registry.drop('k');
    expect(registry.subscribersOf('k')).toEqual([]);
    expect(registry.size).toEqual({ keys: 0, subscriptions: 0 });
  });
});
