import type { PendingMessage } from "../../state/chat";
import { useChat } from "../../state/chat";
import { discardPending, sendMessage } from "../../state/controller";
import { Avatar } from "../common/Avatar";

/** A message sent but not yet confirmed: dimmed until its ACK, with retry on error. */
export function PendingItem({ pending }: { pending: PendingMessage }) {
  const me = useChat((s) => s.me);
  if (!me) return null;
  const retry = () => {
    discardPending(pending.channel_id, pending.nonce);
    sendMessage(pending.channel_id, pending.content, pending.reply_to, pending.attachments);
  };
  return (
    <article className="mt-2 flex gap-3 px-4 pt-1.5 pb-0.5" data-pending={pending.error ? "failed" : "sending"} aria-label={`Sending: ${pending.content}`}>
      <Avatar user={me} />
      <div className="min-w-0 flex-1">
        <div className="flex items-baseline gap-2">
          <span className="font-semibold">{me.display_name || me.username}</span>
          <span className="text-xs text-zinc-400">{pending.error ? "not sent" : "sending…"}</span>
        </div>
        <div className={`text-[15px] leading-relaxed break-words whitespace-pre-wrap ${pending.error ? "text-rose-600" : "opacity-60"}`}>{pending.content}</div>
        {pending.error && (
          <p className="text-xs text-rose-600">
            {pending.error} ·{" "}
            <button type="button" className="font-semibold hover:underline" onClick={retry}>Retry</button> ·{" "}
            <button type="button" className="hover:underline" onClick={() => discardPending(pending.channel_id, pending.nonce)}>Discard</button>
          </p>
        )}
      </div>
    </article>
  );
}
