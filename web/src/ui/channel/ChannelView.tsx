import { useEffect, useState, type DragEvent } from "react";
import { useMembers } from "../../api/queries";
import type { Message } from "../../gateway/types";
import { useChat } from "../../state/chat";
import { loadLatest, loadReceipts } from "../../state/controller";
import type { Panel } from "../ChatApp";
import { MembersPanel } from "../panels/MembersPanel";
import { SearchPanel } from "../panels/SearchPanel";
import { ChannelHeader } from "./ChannelHeader";
import { Composer } from "./Composer";
import { MessageList } from "./MessageList";
import { TypingIndicator } from "./TypingIndicator";

/** One conversation: header, messages, who is typing, the composer; files dropped
 * anywhere on it are attached. `compact` is the thread pane. */
export function ChannelView({ channelId, compact = false, panel = null, setPanel }: { channelId: string; compact?: boolean; panel?: Panel; setPanel?(p: Panel): void }) {
  const channel = useChat((s) => s.channels[channelId]);
  const loaded = useChat((s) => s.lists[channelId]?.loaded ?? false);
  const connected = useChat((s) => s.connection === "ready");
  const [replyTo, setReplyTo] = useState<Message | null>(null);
  const [dropped, setDropped] = useState<File[]>([]);
  const [dragging, setDragging] = useState(false);
  const [error, setError] = useState<string | null>(null);

  useEffect(() => {
    if (!loaded) loadLatest(channelId).catch((e: Error) => setError(e.message));
  }, [channelId, loaded]);
  const small = (channel?.member_count ?? 0) <= 50;
  // Names and presence of the members (typing, receipts), in channels small enough.
  useMembers(channelId, small);
  useEffect(() => {
    if (connected && small) loadReceipts(channelId).catch(() => undefined);
  }, [channelId, connected, small]);

  if (!channel) return null;

  const onDrop = (e: DragEvent) => {
    e.preventDefault();
    setDragging(false);
    const files = [...e.dataTransfer.files];
    if (files.length) setDropped(files);
  };

  return (
    <div className="flex min-w-0 flex-1">
      <div
        className="relative flex min-w-0 flex-1 flex-col"
        onDragOver={(e) => { e.preventDefault(); setDragging(true); }}
        onDragLeave={(e) => e.currentTarget === e.target && setDragging(false)}
        onDrop={onDrop}
      >
        <ChannelHeader channel={channel} compact={compact} panel={panel} setPanel={setPanel} />
        {error && <p role="alert" className="bg-rose-50 px-4 py-2 text-sm text-rose-700 dark:bg-rose-950 dark:text-rose-300">{error}</p>}
        <MessageList channel={channel} onReply={setReplyTo} />
        <TypingIndicator channelId={channelId} />
        <Composer channel={channel} replyTo={replyTo} clearReply={() => setReplyTo(null)} dropped={dropped} clearDropped={() => setDropped([])} />
        {dragging && (
          <div className="pointer-events-none absolute inset-2 z-20 flex items-center justify-center rounded-2xl border-2 border-dashed border-indigo-400 bg-indigo-50/90 text-lg font-semibold text-indigo-700 dark:bg-indigo-950/90 dark:text-indigo-200">
            Drop files to send them in {channel.name}
          </div>
        )}
      </div>
      {!compact && panel === "members" && <MembersPanel channel={channel} onClose={() => setPanel?.(null)} />}
      {!compact && panel === "search" && <SearchPanel channel={channel} onClose={() => setPanel?.(null)} />}
    </div>
  );
}
