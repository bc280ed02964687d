import { useEffect, useState } from "react";
import { connect, disconnect } from "../state/controller";
import { useChat } from "../state/chat";
import { ChannelView } from "./channel/ChannelView";
import { ConnectionBanner } from "./ConnectionBanner";
import { Sidebar } from "./sidebar/Sidebar";
import { HashIcon } from "./common/icons";

export type Panel = "members" | "search" | null;

/** The signed-in layout: sidebar, the open channel, and a thread beside it. On a phone
 * the sidebar and the channel take turns. */
export function ChatApp() {
  const activeId = useChat((s) => s.activeId);
  const threadId = useChat((s) => s.threadId);
  const ready = useChat((s) => s.me !== null);
  const [panel, setPanel] = useState<Panel>(null);

  useEffect(() => {
    void connect();
    return () => disconnect();
  }, []);

  return (
    <div className="flex h-full flex-col">
      <ConnectionBanner />
      <div className="flex min-h-0 flex-1">
        <aside aria-label="Conversations" className={`${activeId ? "hidden md:flex" : "flex"} w-full shrink-0 flex-col border-r border-zinc-200 bg-zinc-50 md:w-72 dark:border-zinc-800 dark:bg-zinc-950`}>
          <Sidebar />
        </aside>
        <main className={`${activeId ? "flex" : "hidden md:flex"} min-w-0 flex-1`}>
          {activeId ? (
            <ChannelView key={activeId} channelId={activeId} panel={panel} setPanel={setPanel} />
          ) : (
            <Welcome ready={ready} />
          )}
        </main>
        {threadId && threadId !== activeId && (
          <section aria-label="Thread" className="fixed inset-0 z-30 flex bg-white lg:static lg:w-[26rem] lg:border-l lg:border-zinc-200 dark:bg-zinc-900 lg:dark:border-zinc-800">
            <ChannelView key={threadId} channelId={threadId} compact />
          </section>
        )}
      </div>
    </div>
  );
}

function Welcome({ ready }: { ready: boolean }) {
  return (
    <div className="flex flex-1 flex-col items-center justify-center gap-3 p-8 text-center text-zinc-500 dark:text-zinc-400">
      <div className="flex h-16 w-16 items-center justify-center rounded-2xl bg-indigo-100 text-indigo-600 dark:bg-indigo-950 dark:text-indigo-300">
        <HashIcon width={28} height={28} />
      </div>
      <h2 className="text-lg font-semibold text-zinc-800 dark:text-zinc-200">{ready ? "Pick a conversation" : "Connecting…"}</h2>
      <p className="max-w-xs text-sm">Choose a channel or a direct message on the left, or start a new one with the + button.</p>
    </div>
  );
}
