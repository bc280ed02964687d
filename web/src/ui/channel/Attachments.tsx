import type { Attachment } from "../../gateway/types";
import { PaperclipIcon } from "../common/icons";

export function formatSize(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(1)} KB`;
  return `${(bytes / 1024 / 1024).toFixed(1)} MB`;
}

/** Images as thumbnails (opening the full file), other files as cards. */
export function Attachments({ attachments }: { attachments: Attachment[] }) {
  if (attachments.length === 0) return null;
  return (
    <div className="mt-1.5 flex flex-wrap gap-2">
      {attachments.map((a) =>
        a.thumbnail_url || a.content_type.startsWith("image/") ? (
          <a key={a.id} href={a.url} target="_blank" rel="noreferrer" className="block overflow-hidden rounded-lg border border-zinc-200 dark:border-zinc-700">
            <img
              src={a.thumbnail_url ?? a.url}
              alt={a.filename}
              data-testid="thumbnail"
              loading="lazy"
              className="max-h-72 max-w-full object-contain"
              style={a.width && a.height ? { aspectRatio: `${a.width} / ${a.height}`, width: Math.min(a.width, 360) } : undefined}
            />
          </a>
        ) : (
          <a key={a.id} href={a.url} target="_blank" rel="noreferrer" className="flex max-w-xs items-center gap-3 rounded-lg border border-zinc-200 bg-zinc-50 px-3 py-2 hover:bg-zinc-100 dark:border-zinc-700 dark:bg-zinc-800 dark:hover:bg-zinc-700">
            <PaperclipIcon className="shrink-0 text-indigo-500" />
            <span className="min-w-0">
              <span className="block truncate text-sm font-medium text-indigo-600 dark:text-indigo-400">{a.filename}</span>
              <span className="text-xs text-zinc-500">{formatSize(a.size)}</span>
            </span>
          </a>
        ),
      )}
    </div>
  );
}
