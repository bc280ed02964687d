import type { Message } from "../../gateway/types";
import { useChat } from "../../state/chat";
import { Avatar } from "../common/Avatar";

/** "Seen by": the members whose last read message is this one (small channels only). */
export function Receipts({ channelId, message }: { channelId: string; message: Message }) {
  const receipts = useChat((s) => s.receipts[channelId]);
  const users = useChat((s) => s.users);
  const me = useChat((s) => s.me?.id);
  const readers = Object.entries(receipts ?? {})
    .filter(([user, last]) => last === message.id && user !== me && user !== message.author.id)
    .map(([user]) => users[user] ?? { id: user, username: "?", display_name: "Someone" });
  if (readers.length === 0) return null;
  const names = readers.map((u) => u.display_name || u.username).join(", ");
  return (
    <div className="mt-1 flex items-center justify-end gap-1" aria-label={`Seen by ${names}`} data-testid="receipts" title={`Seen by ${names}`}>
      <span className="text-[10px] text-zinc-400">Seen</span>
      {readers.slice(0, 5).map((u) => <Avatar key={u.id} user={u} size={16} />)}
    </div>
  );
}
