import { useEffect, useId, useLayoutEffect, useMemo, useRef, useState, type KeyboardEvent } from "react";
import { useVirtualizer } from "@tanstack/react-virtual";
import type { Channel, Message } from "../../gateway/types";
import { cmpId } from "../../lib/ids";
import { useChat, type PendingMessage } from "../../state/chat";
import { loadAround, loadOlder, markRead } from "../../state/controller";
import { ArrowDownIcon } from "../common/icons";
import { MessageItem } from "./MessageItem";
import { PendingItem } from "./PendingItem";

type Row = { kind: "message"; message: Message } | { kind: "pending"; pending: PendingMessage };

const GROUP_MS = 5 * 60_000;
const START_HEIGHT = 168;

/** The virtualized history of a channel: older pages load when scrolled to the top, new
 * messages keep it pinned to the bottom, and "Jump to first unread" finds the read mark. */
export function MessageList({ channel, onReply }: { channel: Channel; onReply(m: Message): void }) {
  const list = useChat((s) => s.lists[channel.id]);
  const messages = useChat((s) => s.messages);
  const pending = useChat((s) => s.pending[channel.id]);
  const blocked = useChat((s) => s.blocked);
  const scroller = useRef<HTMLDivElement>(null);
  const keysId = useId();
  const atBottom = useRef(true);
  const loadingOlder = useRef(false);
  const anchor = useRef<{ total: number; top: number } | null>(null);
  // The read mark when the channel was opened: where "new" starts.
  const [readMark] = useState(() => (channel.unread_count > 0 ? (channel.last_read_message_id ?? "0") : null));
  const [showJump, setShowJump] = useState(readMark !== null);
  const [showLatest, setShowLatest] = useState(false);

  const rows: Row[] = useMemo(() => {
    const out: Row[] = [];
    for (const id of list?.ids ?? []) {
      const m = messages[id];
      if (m && !blocked.includes(m.author.id)) out.push({ kind: "message", message: m });
    }
    for (const p of pending ?? []) out.push({ kind: "pending", pending: p });
    return out;
  }, [list, messages, pending, blocked]);

  const firstUnread = useMemo(() => {
    if (readMark === null) return -1;
    return rows.findIndex((r) => r.kind === "message" && cmpId(r.message.id, readMark) > 0);
  }, [rows, readMark]);

  const virtualizer = useVirtualizer({
    count: rows.length,
    getScrollElement: () => scroller.current,
    estimateSize: () => 64,
    overscan: 12,
    paddingStart: list && !list.hasOlder ? START_HEIGHT : 0,
    getItemKey: (i) => {
      const r = rows[i];
      return r ? (r.kind === "message" ? r.message.id : `p-${r.pending.nonce}`) : i;
    },
  });

  // Keep the view still when older messages are put above it.
  const firstId = rows[0]?.kind === "message" ? rows[0].message.id : "";
  useLayoutEffect(() => {
    const el = scroller.current;
    if (el && anchor.current) {
      el.scrollTop = anchor.current.top + (virtualizer.getTotalSize() - anchor.current.total);
      anchor.current = null;
    }
  }, [firstId, virtualizer]);

  // Pinned to the bottom while at the bottom.
  const lastKey = rows.length ? String(virtualizer.options.getItemKey(rows.length - 1)) : "";
  useEffect(() => {
    if (atBottom.current && rows.length) virtualizer.scrollToIndex(rows.length - 1, { align: "end" });
    if (atBottom.current && document.visibilityState === "visible") markRead(channel.id);
  }, [lastKey, rows.length, virtualizer, channel.id]);

  async function onScroll() {
    const el = scroller.current;
    if (!el) return;
    atBottom.current = el.scrollHeight - el.scrollTop - el.clientHeight < 80;
    setShowLatest(!atBottom.current);
    if (atBottom.current) markRead(channel.id);
    if (el.scrollTop < 300 && list?.hasOlder && !loadingOlder.current) {
      loadingOlder.current = true;
      anchor.current = { total: virtualizer.getTotalSize(), top: el.scrollTop };
      try {
        const n = await loadOlder(channel.id);
        if (n === 0) anchor.current = null;
      } finally {
        loadingOlder.current = false;
      }
    }
  }

  async function jumpToUnread() {
    setShowJump(false);
    if (readMark === null) return;
    if (firstUnread < 0 && readMark !== "0") await loadAround(channel.id, readMark);
    const index = Math.max(0, firstUnread);
    atBottom.current = false;
    virtualizer.scrollToIndex(index, { align: "start" });
  }

  /** Arrow keys move between messages (each shows its actions when focused); Escape
   * goes back to the composer. */
  function onKeyDown(e: KeyboardEvent) {
    const el = scroller.current;
    if (!el) return;
    if (e.key === "Escape") {
      el.parentElement?.parentElement?.querySelector<HTMLElement>("textarea")?.focus();
      return;
    }
    if (e.key !== "ArrowUp" && e.key !== "ArrowDown") return;
    const articles = [...el.querySelectorAll<HTMLElement>("article[data-message-id]")];
    const at = articles.findIndex((a) => a.contains(document.activeElement));
    const next = at < 0 ? articles.at(-1) : articles[at + (e.key === "ArrowUp" ? -1 : 1)];
    if (next) {
      e.preventDefault();
      next.focus();
      next.scrollIntoView({ block: "nearest" });
    }
  }

  const items = virtualizer.getVirtualItems();
  return (
    <div className="relative min-h-0 flex-1">
      {showJump && firstUnread !== 0 && (
        <button type="button" onClick={() => void jumpToUnread()} className="absolute top-2 left-1/2 z-10 -translate-x-1/2 rounded-full bg-indigo-600 px-4 py-1.5 text-xs font-semibold text-white shadow-lg hover:bg-indigo-500">
          {channel.unread_count > 0 ? `${channel.unread_count} new · ` : ""}Jump to first unread
        </button>
      )}
      <div ref={scroller} onScroll={() => void onScroll()} onKeyDown={onKeyDown} tabIndex={0} className="h-full overflow-y-auto focus-visible:outline-offset-[-2px]" role="log" aria-label={`Messages in ${channel.name}`} aria-describedby={keysId} data-testid="messages">
        <span id={keysId} className="sr-only">Use the up and down arrow keys to move between messages, Escape to return to the message box.</span>
        <div style={{ height: virtualizer.getTotalSize(), position: "relative" }}>
          {list && !list.hasOlder && <ChannelStart channel={channel} />}
          {items.map((v) => {
            const row = rows[v.index];
            if (!row) return null;
            const prev = rows[v.index - 1];
            return (
              <div key={v.key} data-index={v.index} ref={virtualizer.measureElement} className="absolute left-0 w-full" style={{ transform: `translateY(${v.start}px)` }}>
                {v.index === firstUnread && <UnreadDivider />}
                {row.kind === "message" ? (
                  <MessageItem message={row.message} channel={channel} grouped={grouped(prev, row.message) && v.index !== firstUnread} onReply={onReply} />
                ) : (
                  <PendingItem pending={row.pending} />
                )}
              </div>
            );
          })}
        </div>
        <div className="h-2" />
      </div>
      {showLatest && (
        <button type="button" aria-label="Jump to the newest messages" onClick={() => { atBottom.current = true; virtualizer.scrollToIndex(rows.length - 1, { align: "end" }); }}
          className="absolute right-4 bottom-3 rounded-full bg-white p-2 text-zinc-600 shadow-lg ring-1 ring-zinc-200 hover:bg-zinc-50 dark:bg-zinc-800 dark:text-zinc-300 dark:ring-zinc-700">
          <ArrowDownIcon />
        </button>
      )}
    </div>
  );
}

function grouped(prev: Row | undefined, m: Message): boolean {
  return prev?.kind === "message" && prev.message.author.id === m.author.id && m.created_at - prev.message.created_at < GROUP_MS && !m.reply_to;
}

function UnreadDivider() {
  return (
    <div className="my-2 flex items-center gap-2 px-4" role="separator" aria-label="New messages">
      <span className="h-px flex-1 bg-rose-400" />
      <span className="text-xs font-semibold text-rose-500">New</span>
    </div>
  );
}

function ChannelStart({ channel }: { channel: Channel }) {
  return (
    <div className="absolute top-0 left-0 w-full overflow-hidden px-4 pt-8" style={{ height: START_HEIGHT }}>
      <div className="mb-3 flex h-14 w-14 items-center justify-center rounded-full bg-indigo-100 text-2xl font-bold text-indigo-600 dark:bg-indigo-950 dark:text-indigo-300">
        {channel.kind === "dm" ? "@" : "#"}
      </div>
      <h2 className="text-xl font-bold">{channel.kind === "dm" ? channel.name : `Welcome to ${channel.name}`}</h2>
      <p className="text-sm text-zinc-500">
        {channel.kind === "dm" ? `This is the beginning of your conversation with ${channel.name}.` : channel.kind === "thread" ? "This is the start of the thread." : "This is the start of the channel."}
      </p>
    </div>
  );
}
