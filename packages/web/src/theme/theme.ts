export type ThemeChoice = 'light' | 'dark' | 'system';

const KEY = 'farm.theme';

/** The theme the user picked, `system` (follow prefers-color-scheme) when none. */
export function loadTheme(): ThemeChoice {
  const stored = window.localStorage.getItem(KEY);
  return stored === 'light' || stored === 'dark' ? stored : 'system';
}

/** Applies and remembers a theme; `system` leaves it to the CSS media query. */
export function applyTheme(choice: ThemeChoice): void {
  if (choice === 'system') {
    delete document.documentElement.dataset.theme;
    window.localStorage.removeItem(KEY);
  } else {
    document.documentElement.dataset.theme = choice;
    window.localStorage.setItem(KEY, choice);
  }
}

/** The next theme in the toggle's cycle: system, light, dark. */
export function nextTheme(choice: ThemeChoice): ThemeChoice {
  return choice === 'system' ? 'light' : choice === 'light' ? 'dark' : 'system';
}
