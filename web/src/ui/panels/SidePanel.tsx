import type { ReactNode } from "react";
import { XIcon } from "../common/icons";
import { iconButton } from "../common/styles";

/** The right-hand panel (members, search); full screen on a phone. */
export function SidePanel({ title, onClose, children }: { title: string; onClose(): void; children: ReactNode }) {
  return (
    <aside aria-label={title} className="fixed inset-0 z-30 flex flex-col bg-white lg:static lg:w-80 lg:border-l lg:border-zinc-200 dark:bg-zinc-900 lg:dark:border-zinc-800">
      <div className="flex h-14 shrink-0 items-center justify-between border-b border-zinc-200 px-4 dark:border-zinc-800">
        <h2 className="font-semibold">{title}</h2>
        <button type="button" className={iconButton} aria-label={`Close ${title.toLowerCase()}`} onClick={onClose}><XIcon /></button>
      </div>
      <div className="min-h-0 flex-1 overflow-y-auto p-3">{children}</div>
    </aside>
  );
}
