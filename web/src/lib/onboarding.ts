// The first run after sign-up: the welcome screen (name, picture, find people) is shown once.
// Creating an account marks it due for that account on this device; showing it takes the mark,
// so a reload, a later sign-in or another account never shows it again.

/** Where the marks live (localStorage in the app; a Map in tests). */
export interface MarkStore {
  getItem(key: string): string | null;
  setItem(key: string, value: string): void;
  removeItem(key: string): void;
}

const key = (userId: string) => `justus.onboarding.${userId}`;

function store(s?: MarkStore): MarkStore | null {
  if (s) return s;
  try {
    return globalThis.localStorage ?? null;
  } catch {
    return null;
  }
}

/** A new account was created here: its first run is due. */
export function markNewAccount(userId: string, s?: MarkStore): void {
  try {
    store(s)?.setItem(key(userId), 'due');
  } catch {
    /* storage full or blocked: no welcome screen, nothing else lost */
  }
}

/** Whether the first run is due for this account; true at most once (the mark is taken). */
export function takeOnboarding(userId: string, s?: MarkStore): boolean {
  const st = store(s);
  try {
    if (st?.getItem(key(userId)) !== 'due') return false;
    st.removeItem(key(userId));
    return true;
  } catch {
    return false;
  }
}
