import { useEffect, useMemo, useRef, useState } from "react";
import type { Channel } from "../../gateway/types";
import { cmpId } from "../../lib/ids";
import { useChat } from "../../state/chat";
import { useSession } from "../../state/session";
import { Avatar } from "../common/Avatar";
import { LogoutIcon, PlusIcon } from "../common/icons";
import { iconButton } from "../common/styles";
import { ChannelRow } from "./ChannelRow";
import { NewConversation } from "./NewConversation";

function byRecent(a: Channel, b: Channel): number {
  return cmpId(b.last_message_id ?? b.id, a.last_message_id ?? a.id);
}

export function Sidebar() {
  const channels = useChat((s) => s.channels);
  const me = useChat((s) => s.me);
  const signOut = useSession((s) => s.signOut);
  const [dialog, setDialog] = useState(false);
  const [filter, setFilter] = useState("");
  const find = useRef<HTMLInputElement>(null);
  useEffect(() => {
    // Ctrl/Cmd+K: find a conversation.
    const onKey = (e: KeyboardEvent) => {
      if ((e.ctrlKey || e.metaKey) && e.key.toLowerCase() === "k") {
        e.preventDefault();
        find.current?.focus();
      }
    };
    window.addEventListener("keydown", onKey);
    return () => window.removeEventListener("keydown", onKey);
  }, []);

  const { groups, dms, threads } = useMemo(() => {
    const all = Object.values(channels).filter((c) => c.name.toLowerCase().includes(filter.toLowerCase()));
    return {
      groups: all.filter((c) => c.kind === "group").sort(byRecent),
      dms: all.filter((c) => c.kind === "dm").sort(byRecent),
      threads: all.filter((c) => c.kind === "thread").sort(byRecent),
    };
  }, [channels, filter]);

  return (
    <>
      <div className="flex items-center gap-2 px-4 pt-4 pb-3">
        <div className="flex h-8 w-8 items-center justify-center rounded-lg bg-indigo-600 text-xs font-bold text-white">L4</div>
        <span className="flex-1 font-semibold tracking-tight">Layer4 Chat</span>
        <button type="button" className={iconButton} aria-label="New conversation" title="New conversation" onClick={() => setDialog(true)}>
          <PlusIcon />
        </button>
      </div>
      <div className="px-3 pb-2">
        <input
          ref={find}
          type="search"
          aria-keyshortcuts="Control+K"
          aria-label="Filter conversations"
          placeholder="Find a conversation (Ctrl+K)"
          value={filter}
          onChange={(e) => setFilter(e.target.value)}
          className="w-full rounded-lg border-0 bg-zinc-200/70 px-3 py-1.5 text-sm placeholder-zinc-500 focus:ring-2 focus:ring-indigo-500 focus:outline-none dark:bg-zinc-800"
        />
      </div>
      <nav aria-label="Channels" className="min-h-0 flex-1 space-y-4 overflow-y-auto px-2 py-2">
        <Section title="Channels" channels={groups} />
        <Section title="Direct messages" channels={dms} />
        {threads.length > 0 && <Section title="Threads" channels={threads} />}
        {groups.length + dms.length === 0 && (
          <p className="px-3 text-sm text-zinc-500">No conversations yet. Press + to create a group, join a public channel or message someone.</p>
        )}
      </nav>
      {me && (
        <div className="flex items-center gap-3 border-t border-zinc-200 px-3 py-3 dark:border-zinc-800">
          <Avatar user={me} size={34} presence />
          <div className="min-w-0 flex-1">
            <div className="truncate text-sm font-semibold" data-testid="me">{me.display_name || me.username}</div>
            <div className="truncate text-xs text-zinc-500">@{me.username}</div>
          </div>
          <button type="button" className={iconButton} aria-label="Sign out" title="Sign out" onClick={signOut}>
            <LogoutIcon />
          </button>
        </div>
      )}
      {dialog && <NewConversation onClose={() => setDialog(false)} />}
    </>
  );
}

function Section({ title, channels }: { title: string; channels: Channel[] }) {
  if (channels.length === 0) return null;
  return (
    <section aria-label={title}>
      <h3 className="px-3 pb-1 text-xs font-semibold tracking-wide text-zinc-500 uppercase">{title}</h3>
      <ul className="space-y-0.5">
        {channels.map((c) => (
          <li key={c.id}>
            <ChannelRow channel={c} />
          </li>
        ))}
      </ul>
    </section>
  );
}
