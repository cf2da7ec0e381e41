/** What the board shows, read from and written to the URL so a view can be bookmarked and shared. */
export interface View {
  taxableEntityId: string;
  activityIds: string[];
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Every UUID in a pasted text, lower-cased, without repeats. */
export function parseIds(text: string): string[] {
  return [...new Set((text.match(/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/gi) ?? []).map((id) => id.toLowerCase()))];
}

export const isUuid = (text: string) => UUID.test(text.trim());

export function viewFromUrl(): View | undefined {
  const params = new URLSearchParams(window.location.search);
  const taxableEntityId = params.get('entity')?.trim() ?? '';
  const activityIds = parseIds(params.get('ids') ?? '');
  return isUuid(taxableEntityId) && activityIds.length > 0 ? { taxableEntityId: taxableEntityId.toLowerCase(), activityIds } : undefined;
}

export function viewToUrl(view: View): void {
  const url = new URL(window.location.href);
  url.searchParams.set('entity', view.taxableEntityId);
  url.searchParams.set('ids', view.activityIds.join(','));
  window.history.pushState(null, '', url);
}

/** A JWT from the URL fragment (#jwt=…), which never reaches a server log. */
export function jwtFromFragment(): string | undefined {
  return new URLSearchParams(window.location.hash.slice(1)).get('jwt') ?? undefined;
}
