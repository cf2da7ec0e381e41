/**
 * What the board watches and how it shows it, as plain data: read from and written to
 * the URL's query string so a view (and its filter) can be bookmarked and shared.
 * Pure: no window, no storage (see location.ts for those), so it is unit-tested in Node.
 */

/** The activities the board queries and subscribes to: one entity, its activity ids. */
export interface View {
  taxableEntityId: string;
  activityIds: string[];
}

/** Which rows are shown: every row, or one group of them (see rows.ts). */
export type Filter = 'all' | 'moving' | 'failed' | 'finished';
export const FILTERS: readonly Filter[] = ['all', 'moving', 'failed', 'finished'];

/**
 * What the URL says: the ids chosen by hand, whether the simulator's live demo uploads
 * are watched too (they are not frozen into the URL: the demo keeps starting new ones),
 * and the filter.
 *
 * `?entity=<uuid>&ids=<uuid>,<uuid>&demo=1&show=failed`. With no `ids`, the demo is on
 * unless `demo=0`; with `ids`, it is off unless `demo=1`.
 */
export interface Selection {
  taxableEntityId: string | undefined;
  activityIds: string[];
  withDemo: boolean;
  filter: Filter;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const UUIDS = /[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/gi;
const HOLDS_UUID = new RegExp(UUIDS.source, 'i');

export const isUuid = (text: string) => UUID.test(text.trim());

/** Every UUID in a pasted text, lower-cased, without repeats, in order. */
export function parseIds(text: string): string[] {
  return [...new Set((text.match(UUIDS) ?? []).map((id) => id.toLowerCase()))];
}

/** A pasted text read for ids: the UUIDs in it, and the tokens that look like ids but are not UUIDs. */
export interface ParsedIds {
  ids: string[];
  invalid: string[];
}

/**
 * Like `parseIds`, and also finds what was meant as an id but is not a UUID (a truncated
 * or mistyped one), so the form can say so. Free text around ids is fine: a token counts
 * as a would-be id only when it is hex digits in hyphen-separated groups starting with
 * at least six (`8ec86d0a-f3e1-46d5`), or a run of 20 or more hex digits.
 */
export function parseIdsInput(text: string): ParsedIds {
  const ids = parseIds(text);
  const invalid = new Set<string>();
  for (const token of text.split(/[\s,;|"'()[\]{}<>]+/)) {
    if (!token || UUID.test(token)) continue;
    if (/^[0-9a-f]{6,}(-[0-9a-f]*)+$/i.test(token) || /^[0-9a-f]{20,}$/i.test(token)) {
      // A token holding a whole UUID plus more (a URL piece) already gave its id.
      if (!HOLDS_UUID.test(token)) invalid.add(token);
    }
  }
  return { ids, invalid: [...invalid] };
}

/** What is wrong with a taxable entity id typed in, or `undefined` when it is a UUID (or still empty). */
export function entityIdProblem(text: string): string | undefined {
  const trimmed = text.trim();
  if (trimmed === '' || UUID.test(trimmed)) return undefined;
  return `Not a UUID: expected 8-4-4-4-12 hex digits, got "${trimmed.length > 48 ? `${trimmed.slice(0, 48)}…` : trimmed}"`;
}

/** What is wrong with the pasted ids, or `undefined`. */
export function idsProblem(parsed: ParsedIds): string | undefined {
  if (parsed.invalid.length === 0) return undefined;
  const shown = parsed.invalid.slice(0, 3).map((token) => `"${token}"`);
  const more = parsed.invalid.length > 3 ? ` and ${parsed.invalid.length - 3} more` : '';
  return `Not ${parsed.invalid.length === 1 ? 'a UUID' : 'UUIDs'}: ${shown.join(', ')}${more}`;
}

/** Why "Watch" cannot be pressed yet, or `undefined` when it can. */
export function watchBlocker(entity: string, parsed: ParsedIds): string | undefined {
  if (entity.trim() === '') return 'Enter the taxable entity id first';
  if (!isUuid(entity)) return 'The taxable entity id is not a UUID';
  if (parsed.ids.length === 0)
    return parsed.invalid.length > 0 ? 'None of the pasted ids is a UUID' : 'Paste at least one activity id';
  return undefined;
}

export function parseFilter(value: string | null | undefined): Filter {
  return FILTERS.includes(value as Filter) ? (value as Filter) : 'all';
}

export function selectionFromSearch(search: string): Selection {
  const params = new URLSearchParams(search);
  const entity = params.get('entity')?.trim() ?? '';
  const taxableEntityId = isUuid(entity) ? entity.toLowerCase() : undefined;
  const activityIds = taxableEntityId ? parseIds(params.get('ids') ?? '') : [];
  const demo = params.get('demo');
  const withDemo = demo === '1' || (demo !== '0' && activityIds.length === 0);
  return { taxableEntityId, activityIds, withDemo, filter: parseFilter(params.get('show')) };
}

/**
 * The query string of a selection, `?…` or `''`. Only these parameters, never the
 * fragment (it may have carried a JWT) nor anything else: a copied, bookmarked or
 * shared board link carries no credential.
 */
export function selectionToSearch(selection: Selection): string {
  const params = new URLSearchParams();
  const hasIds = selection.taxableEntityId !== undefined && selection.activityIds.length > 0;
  if (selection.taxableEntityId) params.set('entity', selection.taxableEntityId);
  if (hasIds) params.set('ids', selection.activityIds.join(','));
  if (hasIds && selection.withDemo) params.set('demo', '1');
  if (!hasIds && !selection.withDemo) params.set('demo', '0');
  if (selection.filter !== 'all') params.set('show', selection.filter);
  const search = params.toString();
  return search ? `?${search}` : '';
}

/**
 * What the board watches: the demo's ids (when on, for the same entity, minus those the
 * user stopped watching), then the ids chosen by hand. `undefined` when nothing is watched.
 */
export function watchedView(
  selection: Selection,
  demo: View | undefined,
  hidden: ReadonlySet<string> = new Set(),
): View | undefined {
  const entity = selection.taxableEntityId ?? (selection.withDemo ? demo?.taxableEntityId : undefined);
  if (!entity) return undefined;
  const fromDemo =
    selection.withDemo && demo && demo.taxableEntityId === entity
      ? demo.activityIds.filter((id) => !hidden.has(id))
      : [];
  const activityIds = [...new Set([...fromDemo, ...(selection.taxableEntityId ? selection.activityIds : [])])];
  return activityIds.length > 0 ? { taxableEntityId: entity, activityIds } : undefined;
}

/** The selection with ids added by hand (for another entity: those ids only, the demo off). */
export function addIds(
  selection: Selection,
  taxableEntityId: string,
  ids: string[],
  demo: View | undefined,
): Selection {
  const entity = taxableEntityId.trim().toLowerCase();
  const current = selection.taxableEntityId ?? (selection.withDemo ? demo?.taxableEntityId : undefined);
  if (current !== undefined && current !== entity)
    return { ...selection, taxableEntityId: entity, activityIds: ids, withDemo: false };
  return {
    ...selection,
    taxableEntityId: entity,
    activityIds: [...new Set([...(selection.taxableEntityId ? selection.activityIds : []), ...ids])],
  };
}

/** The selection without one id (a demo id is also hidden by the caller, see location.ts). */
export function removeId(selection: Selection, activityId: string): Selection {
  return { ...selection, activityIds: selection.activityIds.filter((id) => id !== activityId) };
}

/** Nothing watched: no ids by hand, no demo. The entity and filter stay for the next ids. */
export function clearSelection(selection: Selection): Selection {
  return { ...selection, activityIds: [], withDemo: false };
}
