import { useEffect, useRef, useState, type KeyboardEvent } from "react";
import type { Channel, Message } from "../../gateway/types";
import { sendMessage, stopTyping, typing } from "../../state/controller";
import { PaperclipIcon, SendIcon, XIcon } from "../common/icons";
import { formatSize } from "./Attachments";
import { useUploads } from "./useUploads";

const MAX = 4000;

/** Enter sends, Shift+Enter breaks the line; files are picked, pasted or dropped. */
export function Composer({ channel, replyTo, clearReply, dropped, clearDropped }: { channel: Channel; replyTo: Message | null; clearReply(): void; dropped: File[]; clearDropped(): void }) {
  const [text, setText] = useState("");
  const area = useRef<HTMLTextAreaElement>(null);
  const files = useRef<HTMLInputElement>(null);
  const { uploads, add, remove, clear, busy, ready } = useUploads();

  useEffect(() => {
    if (dropped.length) {
      add(dropped);
      clearDropped();
    }
  }, [dropped, add, clearDropped]);
  useEffect(() => {
    if (replyTo) area.current?.focus();
  }, [replyTo]);
  useEffect(() => {
    const el = area.current;
    if (el) {
      el.style.height = "auto";
      el.style.height = `${Math.min(el.scrollHeight, 200)}px`;
    }
  }, [text]);

  const content = text.trim() || ready.map((a) => a.filename).join(", ");
  const canSend = content.length > 0 && text.length <= MAX && !busy;

  function send() {
    if (!canSend) return;
    sendMessage(channel.id, content, replyTo?.id, ready);
    setText("");
    clear();
    clearReply();
  }

  const onKey = (e: KeyboardEvent) => {
    if (e.key === "Enter" && !e.shiftKey && !e.nativeEvent.isComposing) {
      e.preventDefault();
      send();
    } else if (e.key === "Escape" && replyTo) clearReply();
  };

  return (
    <div className="shrink-0 px-3 pb-3 sm:px-4 sm:pb-4">
      <div className="rounded-2xl border border-zinc-300 bg-white shadow-sm focus-within:border-indigo-500 focus-within:ring-2 focus-within:ring-indigo-500/20 dark:border-zinc-700 dark:bg-zinc-800">
        {replyTo && (
          <div className="flex items-center gap-2 border-b border-zinc-200 px-3 py-1.5 text-xs text-zinc-500 dark:border-zinc-700">
            <span className="min-w-0 flex-1 truncate">
              Replying to <strong className="text-zinc-700 dark:text-zinc-200">{replyTo.author.display_name || replyTo.author.username}</strong>: {replyTo.content}
            </span>
            <button type="button" aria-label="Cancel reply" onClick={clearReply} className="rounded p-0.5 hover:bg-zinc-100 dark:hover:bg-zinc-700"><XIcon width={14} /></button>
          </div>
        )}
        {uploads.length > 0 && (
          <ul className="flex flex-wrap gap-2 border-b border-zinc-200 p-2 dark:border-zinc-700" aria-label="Attachments">
            {uploads.map((u) => (
              <li key={u.key} className="relative flex w-40 items-center gap-2 overflow-hidden rounded-lg bg-zinc-100 p-1.5 dark:bg-zinc-900">
                {u.preview ? <img src={u.preview} alt="" className="h-10 w-10 rounded object-cover" /> : <PaperclipIcon className="h-10 w-6 text-zinc-400" />}
                <span className="min-w-0 flex-1 text-xs">
                  <span className="block truncate font-medium">{u.file.name}</span>
                  <span className={u.error ? "text-rose-600" : "text-zinc-500"}>{u.error ?? (u.attachment ? formatSize(u.file.size) : `${Math.round(u.progress * 100)}%`)}</span>
                </span>
                <button type="button" aria-label={`Remove ${u.file.name}`} onClick={() => remove(u.key)} className="self-start rounded p-0.5 text-zinc-500 hover:bg-zinc-200 dark:hover:bg-zinc-700"><XIcon width={12} /></button>
                {!u.attachment && !u.error && (
                  <span className="absolute bottom-0 left-0 h-0.5 bg-indigo-500 transition-all" style={{ width: `${u.progress * 100}%` }} role="progressbar" aria-label={`Uploading ${u.file.name}`} aria-valuenow={Math.round(u.progress * 100)} />
                )}
              </li>
            ))}
          </ul>
        )}
        <div className="flex items-end gap-1 p-1.5">
          <button type="button" aria-label="Attach files" title="Attach files" onClick={() => files.current?.click()} className="rounded-xl p-2 text-zinc-500 hover:bg-zinc-100 hover:text-zinc-800 dark:hover:bg-zinc-700 dark:hover:text-zinc-100">
            <PaperclipIcon />
          </button>
          <input ref={files} type="file" multiple hidden data-testid="file-input" onChange={(e) => { add([...(e.target.files ?? [])]); e.target.value = ""; }} />
          <textarea
            ref={area}
            rows={1}
            value={text}
            aria-label={`Message ${channel.kind === "dm" ? "@" : "#"}${channel.name}`}
            placeholder={`Message ${channel.kind === "dm" ? "@" : "#"}${channel.name}`}
            onChange={(e) => { setText(e.target.value); if (e.target.value) typing(channel.id); else stopTyping(channel.id); }}
            onKeyDown={onKey}
            onPaste={(e) => { const pasted = [...e.clipboardData.files]; if (pasted.length) { e.preventDefault(); add(pasted); } }}
            className="max-h-[200px] min-h-[40px] flex-1 resize-none bg-transparent px-2 py-2 text-[15px] placeholder-zinc-400 focus:outline-none"
          />
          {text.length > MAX - 200 && <span className={`self-center text-xs ${text.length > MAX ? "text-rose-600" : "text-zinc-400"}`}>{MAX - text.length}</span>}
          <button type="button" aria-label="Send message" disabled={!canSend} onClick={send} className="rounded-xl bg-indigo-600 p-2 text-white hover:bg-indigo-500 disabled:bg-zinc-200 disabled:text-zinc-400 dark:disabled:bg-zinc-700 dark:disabled:text-zinc-500">
            <SendIcon />
          </button>
        </div>
      </div>
    </div>
  );
}
