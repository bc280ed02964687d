/** Files being attached to the next message: each uploads at once, with progress. */

import { useCallback, useEffect, useRef, useState } from "react";
import { upload } from "../../api/http";
import type { AttachmentAnswer } from "../../api/types";
import type { Attachment } from "../../gateway/types";

export interface Upload {
  key: string;
  file: File;
  preview: string | null;
  progress: number;
  attachment?: Attachment;
  error?: string;
}

export function useUploads() {
  const [uploads, setUploads] = useState<Upload[]>([]);
  const live = useRef(uploads);
  live.current = uploads;

  const patch = (key: string, change: Partial<Upload>) => setUploads((all) => all.map((u) => (u.key === key ? { ...u, ...change } : u)));

  const add = useCallback((files: File[]) => {
    for (const file of files) {
      const key = crypto.randomUUID();
      const preview = file.type.startsWith("image/") ? URL.createObjectURL(file) : null;
      setUploads((all) => [...all, { key, file, preview, progress: 0 }]);
      upload<AttachmentAnswer>(file, (progress) => patch(key, { progress }))
        .then(({ attachment }) => patch(key, { attachment, progress: 1 }))
        .catch((err: Error) => patch(key, { error: err.message }));
    }
  }, []);

  const remove = useCallback((key: string) => {
    setUploads((all) => {
      const gone = all.find((u) => u.key === key);
      if (gone?.preview) URL.revokeObjectURL(gone.preview);
      return all.filter((u) => u.key !== key);
    });
  }, []);

  const clear = useCallback(() => setUploads([]), []);
  useEffect(() => () => live.current.forEach((u) => u.preview && URL.revokeObjectURL(u.preview)), []);

  const busy = uploads.some((u) => !u.attachment && !u.error);
  const ready = uploads.flatMap((u) => (u.attachment ? [u.attachment] : []));
  return { uploads, add, remove, clear, busy, ready };
}
