/** The credential this tab keeps: a JWT or a ClearTax token, in sessionStorage only. */

const JWT_KEY = 'gateway-jwt';
const TOKEN_KEY = 'cleartax-token';

/**
 * Takes a JWT handed over in the URL fragment (`#jwt=…`, which never reaches a server
 * log) into sessionStorage, and removes it from the address bar at once
 * (`history.replaceState`, no new history entry), so that the address the user copies,
 * bookmarks or shares never holds it. Other fragment parameters stay. Returns whether
 * a JWT was taken. Call it before the first render and on `hashchange`.
 */
export function adoptJwtFromFragment(): boolean {
  const fragment = new URLSearchParams(window.location.hash.slice(1));
  const jwt = fragment.get('jwt');
  if (jwt === null) return false;
  fragment.delete('jwt');
  const url = new URL(window.location.href);
  // An empty hash leaves no bare "#" in href: the address is the page alone.
  url.hash = fragment.toString();
  window.history.replaceState(window.history.state, '', url.href);
  if (jwt.trim()) sessionStorage.setItem(JWT_KEY, jwt.trim());
  return true;
}

/** The credential this tab keeps for the mode: a JWT or a ClearTax token, from sessionStorage. */
export function storedSecret(authMode: 'passthrough' | 'jwt' | 'open' | undefined): string {
  if (authMode === 'jwt') return sessionStorage.getItem(JWT_KEY) ?? '';
  if (authMode === 'passthrough') return sessionStorage.getItem(TOKEN_KEY) ?? '';
  return sessionStorage.getItem(JWT_KEY) ?? sessionStorage.getItem(TOKEN_KEY) ?? '';
}

export function storeSecret(authMode: 'passthrough' | 'jwt', secret: string): void {
  sessionStorage.setItem(authMode === 'jwt' ? JWT_KEY : TOKEN_KEY, secret);
}
