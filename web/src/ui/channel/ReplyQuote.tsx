import { useChat } from "../../state/chat";
import { ReplyIcon } from "../common/icons";

export function ReplyQuote({ messageId }: { messageId: string }) {
  const target = useChat((s) => s.messages[messageId]);
  const jump = () => document.querySelector<HTMLElement>(`[data-message-id="${messageId}"]`)?.focus();
  return (
    <button type="button" onClick={jump} className="mb-0.5 flex max-w-full items-center gap-1.5 text-left text-xs text-zinc-500 hover:text-zinc-800 dark:hover:text-zinc-200" aria-label="Replying to a message">
      <ReplyIcon width={12} className="shrink-0 -scale-x-100" />
      {target ? (
        <>
          <span className="font-semibold">{target.author.display_name || target.author.username}</span>
          <span className="truncate">{target.content}</span>
        </>
      ) : (
        <span className="italic">an earlier message</span>
      )}
    </button>
  );
}
