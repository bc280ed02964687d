import { useDmPeer } from "../../api/queries";
import type { Channel } from "../../gateway/types";
import { chat, useChat } from "../../state/chat";
import { Avatar } from "../common/Avatar";
import { BellOffIcon, HashIcon, LockIcon, ThreadIcon } from "../common/icons";

export function ChannelRow({ channel }: { channel: Channel }) {
  const active = useChat((s) => s.activeId === channel.id);
  const peer = useDmPeer(channel);
  const unread = channel.unread_count > 0;
  const label = `${channel.kind === "dm" ? "Direct message with " : ""}${channel.name}${unread ? `, ${channel.unread_count} unread` : ""}${channel.muted ? ", muted" : ""}`;
  return (
    <button
      type="button"
      aria-label={label}
      aria-current={active ? "page" : undefined}
      data-channel={channel.name}
      onClick={() => chat.set({ activeId: channel.id })}
      className={`group flex w-full items-center gap-2.5 rounded-lg px-2.5 py-1.5 text-left text-sm transition-colors ${
        active ? "bg-indigo-600 text-white shadow-sm" : "text-zinc-700 hover:bg-zinc-200/70 dark:text-zinc-300 dark:hover:bg-zinc-800"
      } ${channel.muted && !active ? "opacity-60" : ""}`}
    >
      {channel.kind === "dm" ? (
        <Avatar user={peer ?? { id: channel.id, display_name: channel.name, username: channel.name }} size={24} presence={peer !== undefined} />
      ) : (
        <span className={`flex h-6 w-6 items-center justify-center ${active ? "text-indigo-100" : "text-zinc-400"}`}>
          {channel.kind === "thread" ? <ThreadIcon width={16} /> : channel.visibility === "private" ? <LockIcon width={15} /> : <HashIcon width={16} />}
        </span>
      )}
      <span className={`min-w-0 flex-1 truncate ${unread && !channel.muted ? "font-semibold text-zinc-900 dark:text-white" : ""} ${active ? "!text-white" : ""}`}>{channel.name}</span>
      {channel.muted && <BellOffIcon width={14} className="shrink-0 opacity-70" />}
      {unread && (
        <span
          data-testid="unread"
          className={`min-w-5 rounded-full px-1.5 text-center text-xs leading-5 font-semibold ${
            channel.muted ? "bg-zinc-300 text-zinc-700 dark:bg-zinc-700 dark:text-zinc-300" : active ? "bg-white text-indigo-700" : "bg-rose-500 text-white"
          }`}
        >
          {channel.unread_count > 99 ? "99+" : channel.unread_count}
        </span>
      )}
    </button>
  );
}
