import { useEffect, useRef } from "react";
import { createPortal } from "react-dom";
import "emoji-picker-element";
import dataSource from "emoji-picker-element-data/en/emojibase/data.json?url";

/** emoji-picker-element with its emoji data bundled (never fetched from a CDN), shown
 * as a popover at a point on the screen, clamped into the viewport. */
export function EmojiPicker({ at, onPick, onClose }: { at: { x: number; y: number }; onPick(emoji: string): void; onClose(): void }) {
  const host = useRef<HTMLDivElement>(null);
  useEffect(() => {
    const picker = document.createElement("emoji-picker");
    picker.setAttribute("data-source", dataSource);
    const onClick = (e: Event) => {
      const unicode = (e as CustomEvent<{ unicode?: string }>).detail.unicode;
      if (unicode) onPick(unicode);
      onClose();
    };
    picker.addEventListener("emoji-click", onClick);
    host.current?.appendChild(picker);
    const onKey = (e: KeyboardEvent) => e.key === "Escape" && onClose();
    window.addEventListener("keydown", onKey);
    return () => {
      picker.removeEventListener("emoji-click", onClick);
      picker.remove();
      window.removeEventListener("keydown", onKey);
    };
  }, [onPick, onClose]);
  const width = Math.min(352, window.innerWidth - 16);
  const left = Math.max(8, Math.min(at.x - width / 2, window.innerWidth - width - 8));
  const top = Math.max(8, Math.min(at.y - 360, window.innerHeight - 368));
  // In a portal: a `fixed` overlay inside a transformed (virtualized) row would be
  // placed relative to the row, not the window.
  return createPortal(
    <div className="fixed inset-0 z-50" onMouseDown={(e) => e.target === e.currentTarget && onClose()}>
      <div ref={host} role="dialog" aria-label="Pick an emoji" className="absolute overflow-hidden rounded-xl shadow-2xl" style={{ left, top, width }} />
    </div>,
    document.body,
  );
}
