const KEY = 'farm.apiToken';

/** The API token this browser signed in with, or null. */
export function loadToken(): string | null {
  try {
    return window.localStorage.getItem(KEY);
  } catch {
    return null;
  }
}

/** Remembers (or, with null, forgets) the API token. */
export function saveToken(token: string | null): void {
  try {
    if (token) window.localStorage.setItem(KEY, token);
    else window.localStorage.removeItem(KEY);
  } catch {
    // Private windows may refuse storage; the token then lasts until the page closes.
  }
}
