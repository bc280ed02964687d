import { useCallback, useState } from "react";
import { api } from "../../api/http";
import type { ChannelAnswer } from "../../api/types";
import type { Message } from "../../gateway/types";
import { chat } from "../../state/chat";
import { upsertChannel } from "../../state/events";
import { deleteMessage, toggleReaction } from "../../state/controller";
import { EditIcon, ReplyIcon, SmileIcon, ThreadIcon, TrashIcon } from "../common/icons";
import { EmojiPicker } from "./EmojiPicker";

const btn = "rounded-md p-1.5 text-zinc-500 hover:bg-zinc-100 hover:text-zinc-900 dark:text-zinc-400 dark:hover:bg-zinc-700 dark:hover:text-zinc-100";

/** The actions on a message, shown on hover and on keyboard focus. */
export function MessageToolbar({ message, mine, onReply, onEdit }: { message: Message; mine: boolean; onReply(): void; onEdit(): void }) {
  const [picker, setPicker] = useState<{ x: number; y: number } | null>(null);
  const pick = useCallback((emoji: string) => void toggleReaction(message.id, emoji).catch(() => undefined), [message.id]);
  const close = useCallback(() => setPicker(null), []);

  async function thread() {
    const name = message.content.slice(0, 40).trim() || "Thread";
    const { channel } = await api<ChannelAnswer>(`/api/chat/messages/${message.id}/thread`, { method: "POST", body: { name } });
    upsertChannel(channel);
    chat.set({ threadId: channel.id });
  }

  return (
    <div className={`absolute -top-3 right-4 z-10 items-center gap-0.5 rounded-lg border border-zinc-200 bg-white p-0.5 shadow-sm dark:border-zinc-700 dark:bg-zinc-800 ${picker ? "flex" : "hidden group-focus-within:flex group-hover:flex"}`} role="toolbar" aria-label="Message actions">
      <button type="button" className={btn} aria-label="Add reaction" title="Add reaction" onClick={(e) => setPicker({ x: e.clientX, y: e.clientY })}><SmileIcon /></button>
      <button type="button" className={btn} aria-label="Reply" title="Reply" onClick={onReply}><ReplyIcon /></button>
      <button type="button" className={btn} aria-label="Start a thread" title="Start a thread" onClick={() => void thread().catch((e: Error) => alert(e.message))}><ThreadIcon /></button>
      {mine && (
        <>
          <button type="button" className={btn} aria-label="Edit message" title="Edit" onClick={onEdit}><EditIcon /></button>
          <button type="button" className={`${btn} hover:!text-rose-600`} aria-label="Delete message" title="Delete" onClick={() => confirm("Delete this message?") && void deleteMessage(message.id).catch((e: Error) => alert(e.message))}><TrashIcon /></button>
        </>
      )}
      {picker && <EmojiPicker at={picker} onPick={pick} onClose={close} />}
    </div>
  );
}
