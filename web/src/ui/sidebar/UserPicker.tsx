import { useState } from "react";
import { useUserSearch } from "../../api/queries";
import type { User } from "../../gateway/types";
import { useChat } from "../../state/chat";
import { Avatar } from "../common/Avatar";
import { input } from "../common/styles";

/** Searches users by name; `onPick` gets the chosen one. */
export function UserPicker({ onPick, label, exclude = [] }: { onPick(user: User): void; label: string; exclude?: string[] }) {
  const [q, setQ] = useState("");
  const me = useChat((s) => s.me?.id);
  const { data, isFetching } = useUserSearch(q);
  const users = (data ?? []).filter((u) => u.id !== me && !exclude.includes(u.id));
  return (
    <div>
      <input className={input} type="search" aria-label={label} placeholder="Search people by name" value={q} onChange={(e) => setQ(e.target.value)} />
      <ul className="mt-2 max-h-56 overflow-y-auto" aria-label="People found">
        {users.map((u) => (
          <li key={u.id}>
            <button type="button" onClick={() => onPick(u)} className="flex w-full items-center gap-3 rounded-lg px-2 py-2 text-left hover:bg-zinc-100 dark:hover:bg-zinc-700">
              <Avatar user={u} size={30} />
              <span className="min-w-0 flex-1">
                <span className="block truncate text-sm font-medium">{u.display_name || u.username}</span>
                <span className="block truncate text-xs text-zinc-500">@{u.username}</span>
              </span>
            </button>
          </li>
        ))}
        {q.trim() && !isFetching && users.length === 0 && <li className="px-2 py-2 text-sm text-zinc-500">Nobody found.</li>}
      </ul>
    </div>
  );
}
