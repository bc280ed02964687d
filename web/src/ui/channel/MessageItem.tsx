import { memo, useState } from "react";
import type { Channel, Message } from "../../gateway/types";
import { useChat } from "../../state/chat";
import { Avatar } from "../common/Avatar";
import { Attachments } from "./Attachments";
import { EditHistory } from "./EditHistory";
import { MessageEditor } from "./MessageEditor";
import { MessageToolbar } from "./MessageToolbar";
import { Reactions } from "./Reactions";
import { Receipts } from "./Receipts";
import { ReplyQuote } from "./ReplyQuote";
import { formatTime } from "./time";

export const MessageItem = memo(function MessageItem({ message, channel, grouped, onReply }: { message: Message; channel: Channel; grouped: boolean; onReply(m: Message): void }) {
  const mine = useChat((s) => s.me?.id === message.author.id);
  const [editing, setEditing] = useState(false);
  const [history, setHistory] = useState(false);
  const name = message.author.display_name || message.author.username;
  return (
    <article
      tabIndex={-1}
      aria-label={`${name}, ${formatTime(message.created_at)}: ${message.content}`}
      data-message-id={message.id}
      className={`group relative flex gap-3 px-4 hover:bg-zinc-50 focus:bg-zinc-50 focus:outline-none dark:hover:bg-zinc-800/40 dark:focus:bg-zinc-800/40 ${grouped ? "py-0.5" : "mt-2 pt-1.5 pb-0.5"}`}
    >
      <div className="w-9 shrink-0">
        {grouped ? (
          <time className="hidden pt-1 text-[10px] text-zinc-400 group-hover:block">{new Date(message.created_at).toLocaleTimeString(undefined, { hour: "2-digit", minute: "2-digit" })}</time>
        ) : (
          <Avatar user={message.author} presence />
        )}
      </div>
      <div className="min-w-0 flex-1">
        {message.reply_to && <ReplyQuote messageId={message.reply_to} />}
        {!grouped && (
          <div className="flex items-baseline gap-2">
            <span className="font-semibold">{name}</span>
            <time className="text-xs text-zinc-400" dateTime={new Date(message.created_at).toISOString()}>{formatTime(message.created_at)}</time>
          </div>
        )}
        {editing ? (
          <MessageEditor message={message} onDone={() => setEditing(false)} />
        ) : (
          <div className="text-[15px] leading-relaxed break-words whitespace-pre-wrap" data-testid="message-content">
            {message.content}
            {message.edited_at && (
              <button type="button" className="ml-1.5 align-baseline text-[11px] text-zinc-400 hover:underline" onClick={() => setHistory(true)} aria-label="edited: show the edit history">
                (edited)
              </button>
            )}
          </div>
        )}
        <Attachments attachments={message.attachments} />
        <Reactions message={message} />
        {channel.member_count <= 50 && <Receipts channelId={channel.id} message={message} />}
      </div>
      {!editing && <MessageToolbar message={message} mine={mine} onReply={() => onReply(message)} onEdit={() => setEditing(true)} />}
      {history && <EditHistory message={message} onClose={() => setHistory(false)} />}
    </article>
  );
});
