import { useCallback, useState } from "react";
import type { Message } from "../../gateway/types";
import { useChat } from "../../state/chat";
import { toggleReaction } from "../../state/controller";
import { SmileIcon } from "../common/icons";
import { EmojiPicker } from "./EmojiPicker";

export function Reactions({ message }: { message: Message }) {
  const mine = useChat((s) => s.mine[message.id]);
  const [picker, setPicker] = useState<{ x: number; y: number } | null>(null);
  const pick = useCallback((emoji: string) => void toggleReaction(message.id, emoji).catch(() => undefined), [message.id]);
  const close = useCallback(() => setPicker(null), []);
  if (message.reactions.length === 0) return null;
  return (
    <ul className="mt-1 flex flex-wrap items-center gap-1" aria-label="Reactions">
      {message.reactions.map((r) => {
        const pressed = mine?.includes(r.emoji) ?? false;
        return (
          <li key={r.emoji}>
            <button
              type="button"
              aria-pressed={pressed}
              aria-label={`${r.emoji} ${r.count}, ${pressed ? "remove your reaction" : "react"}`}
              data-testid="reaction"
              onClick={() => pick(r.emoji)}
              className={`flex items-center gap-1 rounded-full border px-2 py-0.5 text-sm transition-colors ${
                pressed ? "border-indigo-400 bg-indigo-50 text-indigo-700 dark:border-indigo-500 dark:bg-indigo-950 dark:text-indigo-200" : "border-zinc-200 bg-zinc-50 hover:border-zinc-300 dark:border-zinc-700 dark:bg-zinc-800"
              }`}
            >
              <span className="emoji">{r.emoji}</span>
              <span className="text-xs font-semibold tabular-nums">{r.count}</span>
            </button>
          </li>
        );
      })}
      <li>
        <button type="button" aria-label="Add reaction" onClick={(e) => setPicker({ x: e.clientX, y: e.clientY })} className="rounded-full p-1 text-zinc-400 opacity-0 group-hover:opacity-100 hover:bg-zinc-100 hover:text-zinc-700 focus:opacity-100 dark:hover:bg-zinc-700">
          <SmileIcon width={16} />
        </button>
      </li>
      {picker && <EmojiPicker at={picker} onPick={pick} onClose={close} />}
    </ul>
  );
}
