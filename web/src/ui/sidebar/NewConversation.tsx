import { useState, type FormEvent } from "react";
import { useQueryClient } from "@tanstack/react-query";
import { api } from "../../api/http";
import { usePublicChannels } from "../../api/queries";
import type { ChannelAnswer } from "../../api/types";
import type { Channel, User } from "../../gateway/types";
import { chat, useChat } from "../../state/chat";
import { upsertChannel } from "../../state/events";
import { joinChannel } from "../../state/controller";
import { Dialog } from "../common/Dialog";
import { HashIcon, XIcon } from "../common/icons";
import { input, primary, secondary } from "../common/styles";
import { UserPicker } from "./UserPicker";

type Tab = "group" | "public" | "dm";

function open(channel: Channel) {
  upsertChannel(channel);
  chat.set({ activeId: channel.id });
}

export function NewConversation({ onClose }: { onClose(): void }) {
  const [tab, setTab] = useState<Tab>("group");
  const tabs: [Tab, string][] = [["group", "New group"], ["public", "Browse channels"], ["dm", "Direct message"]];
  return (
    <Dialog title="New conversation" onClose={onClose}>
      <div role="tablist" aria-label="Kind of conversation" className="mb-4 grid grid-cols-3 gap-1 rounded-lg bg-zinc-100 p-1 dark:bg-zinc-900">
        {tabs.map(([id, label]) => (
          <button key={id} type="button" role="tab" aria-selected={tab === id} onClick={() => setTab(id)}
            className={`rounded-md px-2 py-1.5 text-sm font-medium ${tab === id ? "bg-white shadow-sm dark:bg-zinc-700" : "text-zinc-500 hover:text-zinc-800 dark:hover:text-zinc-200"}`}>
            {label}
          </button>
        ))}
      </div>
      {tab === "group" && <CreateGroup onDone={onClose} />}
      {tab === "public" && <BrowsePublic onDone={onClose} />}
      {tab === "dm" && <UserPicker label="Find a person to message" onPick={(u) => void startDm(u).then(onClose)} />}
    </Dialog>
  );
}

async function startDm(user: User): Promise<void> {
  const { channel } = await api<ChannelAnswer>("/api/chat/dm/create", { method: "POST", body: { user_id: user.id } });
  open(channel);
}

function CreateGroup({ onDone }: { onDone(): void }) {
  const [name, setName] = useState("");
  const [visibility, setVisibility] = useState<"private" | "public">("private");
  const [members, setMembers] = useState<User[]>([]);
  const [error, setError] = useState<string | null>(null);
  async function submit(e: FormEvent) {
    e.preventDefault();
    try {
      const body = { name: name.trim(), visibility, member_ids: members.map((m) => m.id) };
      const { channel } = await api<ChannelAnswer>("/api/chat/channels", { method: "POST", body });
      open(channel);
      onDone();
    } catch (err) {
      setError((err as Error).message);
    }
  }
  return (
    <form onSubmit={submit} className="space-y-4">
      <label className="block text-sm font-medium">
        Group name
        <input className={`${input} mt-1`} value={name} onChange={(e) => setName(e.target.value)} required maxLength={100} placeholder="e.g. lunch" />
      </label>
      <fieldset className="flex gap-4 text-sm">
        <legend className="sr-only">Visibility</legend>
        {(["private", "public"] as const).map((v) => (
          <label key={v} className="flex items-center gap-2">
            <input type="radio" name="visibility" checked={visibility === v} onChange={() => setVisibility(v)} />
            {v === "private" ? "Private (invite only)" : "Public (anyone can join)"}
          </label>
        ))}
      </fieldset>
      <div>
        <span className="text-sm font-medium">Members</span>
        {members.length > 0 && (
          <ul className="my-2 flex flex-wrap gap-1.5">
            {members.map((m) => (
              <li key={m.id} className="flex items-center gap-1 rounded-full bg-indigo-100 py-0.5 pr-1 pl-2.5 text-xs font-medium text-indigo-800 dark:bg-indigo-950 dark:text-indigo-200">
                {m.display_name || m.username}
                <button type="button" aria-label={`Remove ${m.username}`} onClick={() => setMembers(members.filter((x) => x.id !== m.id))}><XIcon width={12} /></button>
              </li>
            ))}
          </ul>
        )}
        <div className="mt-1"><UserPicker label="Add members" exclude={members.map((m) => m.id)} onPick={(u) => setMembers([...members, u])} /></div>
      </div>
      {error && <p role="alert" className="text-sm text-rose-600">{error}</p>}
      <button type="submit" className={`${primary} w-full`} disabled={!name.trim()}>Create group</button>
    </form>
  );
}

function BrowsePublic({ onDone }: { onDone(): void }) {
  const [q, setQ] = useState("");
  const { data } = usePublicChannels(q);
  const mine = useChat((s) => s.channels);
  const queries = useQueryClient();
  async function join(c: Channel) {
    const channel = mine[c.id] ?? (await joinChannel(c.id));
    await queries.invalidateQueries({ queryKey: ["members", c.id] });
    open(channel);
    onDone();
  }
  return (
    <div>
      <input className={input} type="search" aria-label="Search public channels" placeholder="Search public channels" value={q} onChange={(e) => setQ(e.target.value)} />
      <ul className="mt-3 space-y-1">
        {(data ?? []).map((c) => (
          <li key={c.id} className="flex items-center gap-3 rounded-lg px-2 py-2 hover:bg-zinc-50 dark:hover:bg-zinc-700/50">
            <span className="flex h-8 w-8 items-center justify-center rounded-lg bg-zinc-100 text-zinc-500 dark:bg-zinc-700"><HashIcon width={16} /></span>
            <span className="min-w-0 flex-1">
              <span className="block truncate text-sm font-medium">{c.name}</span>
              <span className="text-xs text-zinc-500">{c.member_count} member{c.member_count === 1 ? "" : "s"}</span>
            </span>
            <button type="button" className={secondary} onClick={() => void join(c)} aria-label={`${mine[c.id] ? "Open" : "Join"} ${c.name}`}>{mine[c.id] ? "Open" : "Join"}</button>
          </li>
        ))}
        {data?.length === 0 && <li className="px-2 py-3 text-sm text-zinc-500">No public channels match.</li>}
      </ul>
    </div>
  );
}
