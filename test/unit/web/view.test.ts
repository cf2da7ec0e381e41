import { describe, expect, it } from 'vitest';
import {
  addIds,
  clearSelection,
  entityIdProblem,
  idsProblem,
  parseFilter,
  parseIdsInput,
  removeId,
  selectionFromSearch,
  selectionToSearch,
  watchBlocker,
  watchedView,
} from '../../../web/src/view.js';

const E = '11111111-2222-4333-8444-555555555555';
const F = '0b8c2a7e-5d1f-4c3a-9e6b-7f2d1a4c8e90';
const A = 'aaaaaaaa-aaaa-4aaa-8aaa-aaaaaaaaaaaa';
const B = 'bbbbbbbb-bbbb-4bbb-8bbb-bbbbbbbbbbbb';
const C = 'cccccccc-cccc-4ccc-8ccc-cccccccccccc';
const demo = { taxableEntityId: E, activityIds: [A, B] };

describe("the board's selection in the URL", () => {
  it('reads ids, demo and filter, and writes them back in the same shape', () => {
    const selection = selectionFromSearch(`?entity=${E.toUpperCase()}&ids=${A},${B.toUpperCase()},junk&show=failed`);
    expect(selection).toEqual({ taxableEntityId: E, activityIds: [A, B], withDemo: false, filter: 'failed' });
    expect(selectionToSearch(selection)).toBe(`?entity=${E}&ids=${A}%2C${B}&show=failed`);
  });

  it('watches the demo by default with no ids, never with ids unless demo=1, never with demo=0', () => {
    expect(selectionFromSearch('').withDemo).toBe(true);
    expect(selectionFromSearch('?show=moving')).toEqual({
      taxableEntityId: undefined,
      activityIds: [],
      withDemo: true,
      filter: 'moving',
    });
    expect(selectionFromSearch(`?entity=${E}&ids=${A}`).withDemo).toBe(false);
    expect(selectionFromSearch(`?entity=${E}&ids=${A}&demo=1`).withDemo).toBe(true);
    expect(selectionFromSearch('?demo=0').withDemo).toBe(false);
    expect(selectionToSearch(selectionFromSearch(''))).toBe('');
    expect(selectionToSearch(selectionFromSearch('?demo=0'))).toBe('?demo=0');
  });

  it('ignores ids without a valid entity and an unknown filter', () => {
    expect(selectionFromSearch(`?entity=nope&ids=${A}`).activityIds).toEqual([]);
    expect(parseFilter('everything')).toBe('all');
    expect(parseFilter(null)).toBe('all');
    expect(parseFilter('finished')).toBe('finished');
  });

  it('adds one id to the demo without freezing the demo ids into the URL', () => {
    const next = addIds(selectionFromSearch(''), E, [C], demo);
    expect(selectionToSearch(next)).toBe(`?entity=${E}&ids=${C}&demo=1`);
    expect(watchedView(next, demo)).toEqual({ taxableEntityId: E, activityIds: [A, B, C] });
    // The demo moves on (a new upload, an old one dropped): the view follows it.
    expect(watchedView(next, { taxableEntityId: E, activityIds: [B, '12345678-1234-4234-8234-123456789012'] })).toEqual(
      { taxableEntityId: E, activityIds: [B, '12345678-1234-4234-8234-123456789012', C] },
    );
  });

  it('replaces the view with ids of another entity, the demo off', () => {
    const next = addIds(selectionFromSearch(''), F, [C], demo);
    expect(next).toMatchObject({ taxableEntityId: F, activityIds: [C], withDemo: false });
    expect(watchedView(next, demo)).toEqual({ taxableEntityId: F, activityIds: [C] });
  });

  it('leaves out hidden demo ids and removed ids; a cleared view watches nothing', () => {
    const selection = selectionFromSearch(`?entity=${E}&ids=${C}&demo=1`);
    expect(watchedView(selection, demo, new Set([A]))?.activityIds).toEqual([B, C]);
    expect(watchedView(removeId(selection, C), demo, new Set([A]))?.activityIds).toEqual([B]);
    const cleared = clearSelection(selection);
    expect(watchedView(cleared, demo)).toBeUndefined();
    expect(selectionToSearch(cleared)).toBe(`?entity=${E}&demo=0`);
    expect(watchedView(selectionFromSearch(''), undefined)).toBeUndefined();
  });
});

describe('the ids typed or pasted into the board', () => {
  it('finds every UUID in free text and names the would-be ids that are not UUIDs', () => {
    const text = `Upload ${A.toUpperCase()} processed; ${B} failed, retry 8ec86d0a-f3e1-46d5-87d3-bcaa91a0a07 on 2026-11-29.`;
    expect(parseIdsInput(text)).toEqual({ ids: [A, B], invalid: ['8ec86d0a-f3e1-46d5-87d3-bcaa91a0a07'] });
    expect(parseIdsInput(`https://x.test/?ids=${A}`)).toEqual({ ids: [A], invalid: [] });
    expect(parseIdsInput('8ec86d0af3e146d587d3bcaa91a0a070').invalid).toEqual(['8ec86d0af3e146d587d3bcaa91a0a070']);
  });

  it('says what is wrong next to each field, and why Watch cannot be pressed', () => {
    expect(entityIdProblem('')).toBeUndefined();
    expect(entityIdProblem(` ${E} `)).toBeUndefined();
    expect(entityIdProblem('abc')).toBe('Not a UUID: expected 8-4-4-4-12 hex digits, got "abc"');
    expect(idsProblem({ ids: [], invalid: ['12345678-12'] })).toBe('Not a UUID: "12345678-12"');
    expect(idsProblem({ ids: [], invalid: ['1234567a-1', '1234567b-1', '1234567c-1', '1234567d-1'] })).toBe(
      'Not UUIDs: "1234567a-1", "1234567b-1", "1234567c-1" and 1 more',
    );
    expect(watchBlocker('', { ids: [A], invalid: [] })).toBe('Enter the taxable entity id first');
    expect(watchBlocker('abc', { ids: [A], invalid: [] })).toBe('The taxable entity id is not a UUID');
    expect(watchBlocker(E, { ids: [], invalid: [] })).toBe('Paste at least one activity id');
    expect(watchBlocker(E, { ids: [], invalid: ['12345678-12'] })).toBe('None of the pasted ids is a UUID');
    expect(watchBlocker(E, { ids: [A], invalid: [] })).toBeUndefined();
  });
});
