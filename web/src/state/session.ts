/** The signed-in user's token, kept in localStorage so a reload stays signed in. */

import { create } from "zustand";
import type { User } from "../gateway/types";

const KEY = "layer4.session";

interface Session {
  token: string | null;
  user: User | null;
  signIn(token: string, user: User): void;
  signOut(): void;
}

function load(): { token: string | null; user: User | null } {
  try {
    const raw = globalThis.localStorage?.getItem(KEY);
    if (raw) return JSON.parse(raw) as { token: string; user: User };
  } catch {
    // unreadable: start signed out
  }
  return { token: null, user: null };
}

export const useSession = create<Session>((set) => ({
  ...load(),
  signIn(token, user) {
    globalThis.localStorage?.setItem(KEY, JSON.stringify({ token, user }));
    set({ token, user });
  },
  signOut() {
    globalThis.localStorage?.removeItem(KEY);
    set({ token: null, user: null });
  },
}));

export const session = { get: useSession.getState };
