import { useState, type KeyboardEvent } from "react";
import type { Message } from "../../gateway/types";
import { editMessage } from "../../state/controller";

/** Inline edit: Enter saves, Escape cancels. */
export function MessageEditor({ message, onDone }: { message: Message; onDone(): void }) {
  const [text, setText] = useState(message.content);
  const [error, setError] = useState<string | null>(null);
  async function save() {
    const content = text.trim();
    if (!content || content === message.content) return onDone();
    try {
      await editMessage(message.id, content);
      onDone();
    } catch (err) {
      setError((err as Error).message);
    }
  }
  const onKey = (e: KeyboardEvent) => {
    if (e.key === "Enter" && !e.shiftKey) {
      e.preventDefault();
      void save();
    } else if (e.key === "Escape") onDone();
  };
  return (
    <div className="mt-1">
      <textarea
        autoFocus
        aria-label="Edit message"
        value={text}
        onChange={(e) => setText(e.target.value)}
        onKeyDown={onKey}
        rows={Math.min(6, text.split("\n").length)}
        className="w-full resize-none rounded-lg border border-indigo-400 bg-white px-3 py-2 text-[15px] focus:ring-2 focus:ring-indigo-500/30 focus:outline-none dark:bg-zinc-900"
      />
      <p className="text-xs text-zinc-500">
        Enter to <button type="button" className="text-indigo-600 hover:underline dark:text-indigo-400" onClick={() => void save()}>save</button>, Escape to{" "}
        <button type="button" className="text-indigo-600 hover:underline dark:text-indigo-400" onClick={onDone}>cancel</button>
        {error && <span role="alert" className="ml-2 text-rose-600">{error}</span>}
      </p>
    </div>
  );
}
