import type { Status, User } from "../../gateway/types";
import { useChat } from "../../state/chat";

const COLORS = ["bg-indigo-500", "bg-rose-500", "bg-emerald-500", "bg-amber-500", "bg-sky-500", "bg-fuchsia-500", "bg-teal-500", "bg-orange-500"];

function colorOf(id: string): string {
  let h = 0;
  for (const ch of id) h = (h * 31 + ch.charCodeAt(0)) >>> 0;
  return COLORS[h % COLORS.length] as string;
}

export function initials(name: string): string {
  const parts = name.trim().split(/\s+/).filter(Boolean);
  return ((parts[0]?.[0] ?? "?") + (parts[1]?.[0] ?? "")).toUpperCase();
}

const DOT: Record<Status, string> = {
  online: "bg-emerald-500",
  idle: "bg-amber-400",
  away: "bg-amber-400",
  offline: "bg-zinc-400",
};

export function PresenceDot({ userId, className = "" }: { userId: string; className?: string }) {
  const status = useChat((s) => s.presence[userId]) ?? "offline";
  return (
    <span
      className={`block rounded-full ring-2 ring-white dark:ring-zinc-900 ${DOT[status]} ${className}`}
      role="img"
      aria-label={status}
      title={status}
      data-presence={status}
    />
  );
}

export function Avatar({ user, size = 36, presence = false }: { user: Pick<User, "id" | "display_name" | "username">; size?: number; presence?: boolean }) {
  const name = user.display_name || user.username;
  return (
    <span className="relative inline-block shrink-0" style={{ width: size, height: size }}>
      <span
        className={`flex h-full w-full items-center justify-center rounded-full font-semibold text-white ${colorOf(user.username || user.id)}`}
        style={{ fontSize: size * 0.4 }}
        aria-hidden="true"
      >
        {initials(name)}
      </span>
      {presence && (
        <span className="absolute -right-0.5 -bottom-0.5" style={{ width: Math.max(8, size * 0.32), height: Math.max(8, size * 0.32) }}>
          <PresenceDot userId={user.id} className="h-full w-full" />
        </span>
      )}
    </span>
  );
}
