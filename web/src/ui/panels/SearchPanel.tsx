import { useState, type FormEvent } from "react";
import { useQuery } from "@tanstack/react-query";
import { api, qs } from "../../api/http";
import { useMembers } from "../../api/queries";
import type { SearchAnswer } from "../../api/types";
import type { Channel, Message } from "../../gateway/types";
import { idAt } from "../../lib/ids";
import { chat, useChat } from "../../state/chat";
import { loadAround } from "../../state/controller";
import { input, primary } from "../common/styles";
import { formatTime } from "../channel/time";
import { SidePanel } from "./SidePanel";

interface Filters {
  q: string;
  here: boolean;
  author: string;
  attachments: boolean;
  after: string;
  before: string;
}

/** Full-text search with filters: this channel or all, author, has attachment, dates. */
export function SearchPanel({ channel, onClose }: { channel: Channel; onClose(): void }) {
  const [form, setForm] = useState<Filters>({ q: "", here: true, author: "", attachments: false, after: "", before: "" });
  const [query, setQuery] = useState<Filters | null>(null);
  const { data: members } = useMembers(channel.id);
  const channels = useChat((s) => s.channels);
  const { data, isFetching, error } = useQuery({
    queryKey: ["search", channel.id, query],
    enabled: query !== null,
    queryFn: () => {
      const f = query as Filters;
      const params = {
        q: f.q.trim(),
        channel_id: f.here ? channel.id : undefined,
        author_id: f.author || undefined,
        has: f.attachments ? "attachment" : undefined,
        after: f.after ? idAt(new Date(f.after).getTime()) : undefined,
        before: f.before ? idAt(new Date(f.before).getTime() + 86_400_000) : undefined,
        limit: 50,
      };
      return api<SearchAnswer>(`/api/chat/search${qs(params)}`);
    },
  });
  const set = (change: Partial<Filters>) => setForm({ ...form, ...change });
  const submit = (e: FormEvent) => {
    e.preventDefault();
    setQuery({ ...form });
  };

  async function open(m: Message) {
    chat.set({ activeId: m.channel_id });
    await loadAround(m.channel_id, m.id);
    setTimeout(() => document.querySelector<HTMLElement>(`[data-message-id="${m.id}"]`)?.focus(), 200);
  }

  return (
    <SidePanel title="Search" onClose={onClose}>
      <form onSubmit={submit} className="space-y-2">
        <input className={input} type="search" aria-label="Search words" placeholder="Search messages" value={form.q} onChange={(e) => set({ q: e.target.value })} />
        <div className="flex flex-wrap gap-x-4 gap-y-1 text-sm">
          <label className="flex items-center gap-1.5"><input type="checkbox" checked={form.here} onChange={(e) => set({ here: e.target.checked })} />This conversation only</label>
          <label className="flex items-center gap-1.5"><input type="checkbox" checked={form.attachments} onChange={(e) => set({ attachments: e.target.checked })} />Has attachment</label>
        </div>
        <label className="block text-xs font-medium text-zinc-500">
          From
          <select className={`${input} mt-0.5`} value={form.author} onChange={(e) => set({ author: e.target.value })}>
            <option value="">Anyone</option>
            {(members ?? []).map((m) => <option key={m.user.id} value={m.user.id}>{m.user.display_name || m.user.username}</option>)}
          </select>
        </label>
        <div className="grid grid-cols-2 gap-2">
          <label className="block text-xs font-medium text-zinc-500">After<input type="date" className={`${input} mt-0.5`} value={form.after} onChange={(e) => set({ after: e.target.value })} /></label>
          <label className="block text-xs font-medium text-zinc-500">Before<input type="date" className={`${input} mt-0.5`} value={form.before} onChange={(e) => set({ before: e.target.value })} /></label>
        </div>
        <button type="submit" className={`${primary} w-full`} disabled={!form.q.trim() && !form.attachments && !form.author}>Search</button>
      </form>
      <div className="mt-4" aria-live="polite">
        {isFetching && <p className="text-sm text-zinc-500">Searching…</p>}
        {error && <p role="alert" className="text-sm text-rose-600">{error.message}</p>}
        {data && <p className="mb-2 text-xs text-zinc-500">{data.total} result{data.total === 1 ? "" : "s"}</p>}
        <ul className="space-y-1" aria-label="Search results">
          {data?.messages.map((m) => (
            <li key={m.id}>
              <button type="button" onClick={() => void open(m)} className="w-full rounded-lg border border-zinc-200 px-3 py-2 text-left hover:bg-zinc-50 dark:border-zinc-800 dark:hover:bg-zinc-800" data-testid="search-result">
                <span className="flex items-baseline gap-2 text-xs text-zinc-500">
                  <strong className="text-zinc-800 dark:text-zinc-200">{m.author.display_name || m.author.username}</strong>
                  {!form.here && <span>in {channels[m.channel_id]?.name ?? "a channel"}</span>}
                  <span className="ml-auto">{formatTime(m.created_at)}</span>
                </span>
                <span className="mt-0.5 line-clamp-3 block text-sm break-words">{m.content}</span>
              </button>
            </li>
          ))}
        </ul>
      </div>
    </SidePanel>
  );
}
