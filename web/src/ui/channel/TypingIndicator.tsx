import { useEffect, useState } from "react";
import { useChat } from "../../state/chat";

/** "Ben is typing…" for typists whose 10 s have not run out. */
export function TypingIndicator({ channelId }: { channelId: string }) {
  const typing = useChat((s) => s.typing[channelId]);
  const users = useChat((s) => s.users);
  const blocked = useChat((s) => s.blocked);
  const [now, setNow] = useState(Date.now());
  useEffect(() => {
    const t = setInterval(() => setNow(Date.now()), 1000);
    return () => clearInterval(t);
  }, []);
  const names = Object.entries(typing ?? {})
    .filter(([id, until]) => until > now && !blocked.includes(id))
    .map(([id]) => users[id]?.display_name || users[id]?.username || "Someone");
  const text =
    names.length === 0 ? "" : names.length === 1 ? `${names[0]} is typing…` : names.length < 4 ? `${names.join(", ")} are typing…` : "Several people are typing…";
  return (
    <div aria-live="polite" data-testid="typing" className="h-5 shrink-0 truncate px-4 text-xs text-zinc-500 dark:text-zinc-400">
      {text && (
        <span className="inline-flex items-center gap-1.5">
          <span className="inline-flex gap-0.5" aria-hidden="true">
            {[0, 150, 300].map((d) => <span key={d} className="h-1 w-1 animate-bounce rounded-full bg-zinc-400" style={{ animationDelay: `${d}ms` }} />)}
          </span>
          {text}
        </span>
      )}
    </div>
  );
}
