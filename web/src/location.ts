import { selectionFromSearch, selectionToSearch, type Selection } from './view';

/** The selection in the address bar. */
export function currentSelection(): Selection {
  return selectionFromSearch(window.location.search);
}

/** The address of a selection: this page with its query string and nothing else (never the fragment). */
export function selectionHref(selection: Selection): string {
  return new URL(`${window.location.pathname}${selectionToSearch(selection)}`, window.location.origin).href;
}

/** Puts a selection in the address bar: a new history entry (`push`) or in place of this one. */
export function showSelection(selection: Selection, how: 'push' | 'replace'): void {
  const href = selectionHref(selection);
  if (href === window.location.href) return;
  if (how === 'push') window.history.pushState(null, '', href);
  else window.history.replaceState(window.history.state, '', href);
}

const HIDDEN_KEY = 'upload-board-hidden';
/** Enough for any demo (the simulator lists its last 12); older entries go first. */
const HIDDEN_MAX = 500;

/**
 * Demo ids the user stopped watching, per entity, in localStorage: the demo's ids come
 * from the server, not the URL, so a removed demo row stays removed after a reload only
 * if the board remembers it.
 */
export function hiddenIds(taxableEntityId: string | undefined): Set<string> {
  if (!taxableEntityId) return new Set();
  return new Set(readHidden()[taxableEntityId] ?? []);
}

export function setHidden(taxableEntityId: string, activityId: string, isHidden: boolean): void {
  const all = readHidden();
  const ids = (all[taxableEntityId] ?? []).filter((id) => id !== activityId);
  if (isHidden) ids.push(activityId);
  all[taxableEntityId] = ids.slice(-HIDDEN_MAX);
  try {
    localStorage.setItem(HIDDEN_KEY, JSON.stringify(all));
  } catch {
    // Storage full or blocked: the row is removed for this page only.
  }
}

function readHidden(): Record<string, string[]> {
  try {
    const value: unknown = JSON.parse(localStorage.getItem(HIDDEN_KEY) ?? '{}');
    return value && typeof value === 'object' ? (value as Record<string, string[]>) : {};
  } catch {
    return {};
  }
}
