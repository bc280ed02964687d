import { useEdits } from "../../api/queries";
import type { Message } from "../../gateway/types";
import { Dialog } from "../common/Dialog";
import { formatTime } from "./time";

/** The previous versions of a message (oldest first), then the current one. */
export function EditHistory({ message, onClose }: { message: Message; onClose(): void }) {
  const { data, error, isLoading } = useEdits(message.id);
  return (
    <Dialog title="Edit history" onClose={onClose}>
      {isLoading && <p className="text-sm text-zinc-500">Loading…</p>}
      {error && <p role="alert" className="text-sm text-rose-600">{error.message}</p>}
      <ol className="space-y-3">
        {(data ?? []).map((e, i) => (
          <li key={i} className="rounded-lg bg-zinc-50 px-3 py-2 dark:bg-zinc-900">
            <p className="text-sm break-words whitespace-pre-wrap text-zinc-500 line-through decoration-zinc-300 dark:decoration-zinc-600">{e.content}</p>
            <p className="mt-1 text-xs text-zinc-400">replaced {formatTime(e.edited_at)}</p>
          </li>
        ))}
        {data && (
          <li className="rounded-lg border border-indigo-200 px-3 py-2 dark:border-indigo-900">
            <p className="text-sm break-words whitespace-pre-wrap">{message.content}</p>
            <p className="mt-1 text-xs text-zinc-400">current{message.edited_at ? `, since ${formatTime(message.edited_at)}` : ""}</p>
          </li>
        )}
      </ol>
    </Dialog>
  );
}
