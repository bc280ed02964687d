import { useState, type FormEvent } from "react";
import { api } from "../../api/http";
import type { AuthAnswer } from "../../api/types";
import { useSession } from "../../state/session";
import { input, primary } from "../common/styles";

export function AuthScreen() {
  const [mode, setMode] = useState<"login" | "register">("login");
  const [username, setUsername] = useState("");
  const [password, setPassword] = useState("");
  const [displayName, setDisplayName] = useState("");
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const signIn = useSession((s) => s.signIn);

  async function submit(e: FormEvent) {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      const body = mode === "login" ? { username, password } : { username, password, display_name: displayName || undefined };
      const answer = await api<AuthAnswer>(`/api/auth/${mode}`, { method: "POST", body });
      signIn(answer.token, answer.user);
    } catch (err) {
      setError((err as Error).message);
    } finally {
      setBusy(false);
    }
  }

  return (
    <main className="flex min-h-full items-center justify-center bg-gradient-to-br from-indigo-50 via-white to-sky-50 p-4 dark:from-zinc-950 dark:via-zinc-900 dark:to-indigo-950">
      <div className="w-full max-w-sm">
        <div className="mb-8 text-center">
          <div className="mx-auto mb-4 flex h-14 w-14 items-center justify-center rounded-2xl bg-indigo-600 text-xl font-bold text-white shadow-lg shadow-indigo-600/30">L4</div>
          <h1 className="text-2xl font-bold tracking-tight">{mode === "login" ? "Welcome back" : "Create your account"}</h1>
          <p className="mt-1 text-sm text-zinc-500 dark:text-zinc-400">Layer4 Chat</p>
        </div>
        <form onSubmit={submit} className="space-y-4 rounded-2xl border border-zinc-200 bg-white/80 p-6 shadow-xl backdrop-blur dark:border-zinc-800 dark:bg-zinc-900/80">
          <label className="block text-sm font-medium">
            Username
            <input className={`${input} mt-1`} name="username" autoComplete="username" value={username} onChange={(e) => setUsername(e.target.value.toLowerCase())} required minLength={3} maxLength={32} pattern="[a-z0-9_.]+" />
          </label>
          {mode === "register" && (
            <label className="block text-sm font-medium">
              Display name <span className="font-normal text-zinc-400">(optional)</span>
              <input className={`${input} mt-1`} name="display_name" value={displayName} onChange={(e) => setDisplayName(e.target.value)} maxLength={64} />
            </label>
          )}
          <label className="block text-sm font-medium">
            Password
            <input className={`${input} mt-1`} name="password" type="password" autoComplete={mode === "login" ? "current-password" : "new-password"} value={password} onChange={(e) => setPassword(e.target.value)} required minLength={8} />
          </label>
          {error && <p role="alert" className="rounded-lg bg-rose-50 px-3 py-2 text-sm text-rose-700 dark:bg-rose-950 dark:text-rose-300">{error}</p>}
          <button type="submit" className={`${primary} w-full py-2.5`} disabled={busy}>
            {mode === "login" ? "Log in" : "Create account"}
          </button>
        </form>
        <p className="mt-6 text-center text-sm text-zinc-500 dark:text-zinc-400">
          {mode === "login" ? "New here?" : "Already have an account?"}{" "}
          <button type="button" className="font-semibold text-indigo-600 hover:underline dark:text-indigo-400" onClick={() => { setMode(mode === "login" ? "register" : "login"); setError(null); }}>
            {mode === "login" ? "Create an account" : "Log in"}
          </button>
        </p>
      </div>
    </main>
  );
}
