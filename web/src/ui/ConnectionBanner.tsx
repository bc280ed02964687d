import { reconnect } from "../state/controller";
import { useChat } from "../state/chat";

/** A thin bar while the gateway is not ready (nothing is lost meanwhile: sends wait). */
export function ConnectionBanner() {
  const state = useChat((s) => s.connection);
  const detail = useChat((s) => s.connectionDetail);
  if (state === "ready") return null;
  const closed = state === "closed";
  return (
    <div role="status" data-connection={state} className={`flex items-center justify-center gap-2 px-3 py-1.5 text-xs font-medium text-white ${closed ? "bg-rose-600" : "bg-amber-500"}`}>
      {!closed && <span className="h-2 w-2 animate-pulse rounded-full bg-white" aria-hidden="true" />}
      {state === "connecting" && "Connecting…"}
      {state === "reconnecting" && "Reconnecting… messages you send now go out when the connection is back"}
      {closed && (
        <>
          {detail ?? "Disconnected"}
          <button type="button" className="rounded bg-white/20 px-2 py-0.5 hover:bg-white/30" onClick={reconnect}>Reconnect</button>
        </>
      )}
    </div>
  );
}
