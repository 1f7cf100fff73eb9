const KEY = 'farm.sessionCsrf';

/**
 * The CSRF token of this browser's web session, or null. The session itself is an httpOnly cookie
 * the page cannot read; the CSRF token alone is worthless to anyone without that cookie.
 */
export function loadSessionCsrf(): string | null {
  try {
    return window.localStorage.getItem(KEY);
  } catch {
    return null;
  }
}

/** Remembers (or, with null, forgets) the session's CSRF token. */
export function saveSessionCsrf(csrf: string | null): void {
  try {
    if (csrf) window.localStorage.setItem(KEY, csrf);
    else window.localStorage.removeItem(KEY);
  } catch {
    // Private windows may refuse storage; the session then lasts until the page closes.
  }
}
