import { useState } from "react";
import { api } from "../../api/http";
import type { Channel } from "../../gateway/types";
import { chat } from "../../state/chat";
import { leaveChannel } from "../../state/controller";
import type { Panel } from "../ChatApp";
import { BackIcon, BellIcon, BellOffIcon, HashIcon, LockIcon, SearchIcon, ThreadIcon, UsersIcon, XIcon } from "../common/icons";
import { iconButton } from "../common/styles";

export function ChannelHeader({ channel, compact, panel, setPanel }: { channel: Channel; compact: boolean; panel: Panel; setPanel?(p: Panel): void }) {
  const [busy, setBusy] = useState(false);
  const toggle = (p: Panel) => setPanel?.(panel === p ? null : p);

  async function mute() {
    setBusy(true);
    try {
      await api(`/api/chat/channels/${channel.id}/mute`, { method: channel.muted ? "DELETE" : "PUT", body: channel.muted ? undefined : {} });
      chat.set((s) => ({ channels: { ...s.channels, [channel.id]: { ...channel, muted: !channel.muted, muted_until: null } } }));
    } finally {
      setBusy(false);
    }
  }

  const Icon = channel.kind === "thread" ? ThreadIcon : channel.visibility === "private" && channel.kind === "group" ? LockIcon : HashIcon;
  return (
    <header className="flex h-14 shrink-0 items-center gap-1 border-b border-zinc-200 px-2 sm:px-4 dark:border-zinc-800">
      {!compact && (
        <button type="button" className={`${iconButton} md:hidden`} aria-label="Back to conversations" onClick={() => chat.set({ activeId: null })}>
          <BackIcon />
        </button>
      )}
      {channel.kind !== "dm" && <Icon className="mr-1 text-zinc-400" />}
      <h1 className="min-w-0 truncate font-semibold" data-testid="channel-title">{channel.name}</h1>
      {channel.kind !== "dm" && <span className="ml-2 hidden text-xs text-zinc-500 sm:inline">{channel.member_count} member{channel.member_count === 1 ? "" : "s"}</span>}
      <div className="ml-auto flex items-center">
        {!compact && (
          <>
            <button type="button" className={iconButton} aria-label="Search messages" aria-pressed={panel === "search"} title="Search" onClick={() => toggle("search")}><SearchIcon /></button>
            <button type="button" className={iconButton} aria-label="Members" aria-pressed={panel === "members"} title="Members" onClick={() => toggle("members")}><UsersIcon /></button>
          </>
        )}
        <button type="button" className={iconButton} disabled={busy} aria-label={channel.muted ? "Unmute channel" : "Mute channel"} title={channel.muted ? "Unmute" : "Mute"} onClick={() => void mute()}>
          {channel.muted ? <BellOffIcon /> : <BellIcon />}
        </button>
        {channel.kind !== "dm" && !compact && (
          <button type="button" className={`${iconButton} text-xs font-medium`} aria-label={`Leave ${channel.name}`} title="Leave" onClick={() => confirm(`Leave ${channel.name}?`) && void leaveChannel(channel.id)}>
            Leave
          </button>
        )}
        {compact && (
          <button type="button" className={iconButton} aria-label="Close thread" onClick={() => chat.set({ threadId: null })}><XIcon /></button>
        )}
      </div>
    </header>
  );
}
