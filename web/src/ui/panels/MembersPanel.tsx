import { useState } from "react";
import { useQueryClient } from "@tanstack/react-query";
import { api } from "../../api/http";
import { useMembers } from "../../api/queries";
import type { ChannelAnswer, Member } from "../../api/types";
import type { Channel } from "../../gateway/types";
import { chat, useChat } from "../../state/chat";
import { upsertChannel } from "../../state/events";
import { Avatar } from "../common/Avatar";
import { secondary } from "../common/styles";
import { UserPicker } from "../sidebar/UserPicker";
import { SidePanel } from "./SidePanel";

export function MembersPanel({ channel, onClose }: { channel: Channel; onClose(): void }) {
  const { data, isLoading, error } = useMembers(channel.id);
  const me = useChat((s) => s.me?.id);
  const queries = useQueryClient();
  const [adding, setAdding] = useState(false);
  const myRole = data?.find((m) => m.user.id === me)?.role;
  const canAdd = channel.kind === "group" && (myRole === "owner" || myRole === "admin");

  async function add(userId: string) {
    await api(`/api/chat/channels/${channel.id}/members`, { method: "POST", body: { user_ids: [userId] } });
    await queries.invalidateQueries({ queryKey: ["members", channel.id] });
  }

  return (
    <SidePanel title="Members" onClose={onClose}>
      {canAdd && (
        <div className="mb-3">
          {adding ? <UserPicker label="Add a member" exclude={(data ?? []).map((m) => m.user.id)} onPick={(u) => void add(u.id)} /> : <button type="button" className={`${secondary} w-full`} onClick={() => setAdding(true)}>Add members</button>}
        </div>
      )}
      {isLoading && <p className="text-sm text-zinc-500">Loading…</p>}
      {error && <p role="alert" className="text-sm text-rose-600">{error.message}</p>}
      <ul className="space-y-0.5" aria-label="Members">
        {(data ?? []).map((m) => <MemberRow key={m.user.id} member={m} self={m.user.id === me} />)}
      </ul>
    </SidePanel>
  );
}

function MemberRow({ member, self }: { member: Member; self: boolean }) {
  const blocked = useChat((s) => s.blocked.includes(member.user.id));
  const [open, setOpen] = useState(false);
  const queries = useQueryClient();
  const u = member.user;

  async function message() {
    const { channel } = await api<ChannelAnswer>("/api/chat/dm/create", { method: "POST", body: { user_id: u.id } });
    upsertChannel(channel);
    chat.set({ activeId: channel.id });
  }
  async function toggleBlock() {
    await api(`/api/chat/users/${u.id}/block`, { method: blocked ? "DELETE" : "PUT" });
    chat.set((s) => ({ blocked: blocked ? s.blocked.filter((id) => id !== u.id) : [...s.blocked, u.id] }));
    await queries.invalidateQueries({ queryKey: ["blocked"] });
  }

  return (
    <li>
      <button type="button" onClick={() => setOpen(!open)} aria-expanded={open} className="flex w-full items-center gap-3 rounded-lg px-2 py-1.5 text-left hover:bg-zinc-100 dark:hover:bg-zinc-800">
        <Avatar user={u} size={32} presence />
        <span className="min-w-0 flex-1">
          <span className={`block truncate text-sm font-medium ${blocked ? "line-through opacity-60" : ""}`}>{u.display_name || u.username}{self && <span className="text-zinc-400"> (you)</span>}</span>
          <span className="block truncate text-xs text-zinc-500">@{u.username}</span>
        </span>
        {member.role !== "member" && <span className="rounded bg-zinc-100 px-1.5 py-0.5 text-[10px] font-semibold text-zinc-600 uppercase dark:bg-zinc-800 dark:text-zinc-300">{member.role}</span>}
      </button>
      {open && !self && (
        <div className="flex gap-2 px-2 pt-1 pb-2 pl-13">
          <button type="button" className={secondary} onClick={() => void message()}>Message</button>
          <button type="button" className={`${secondary} ${blocked ? "" : "text-rose-600"}`} onClick={() => void toggleBlock()}>{blocked ? "Unblock" : "Block"}</button>
        </div>
      )}
    </li>
  );
}
