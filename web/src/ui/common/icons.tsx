/** Inline icons (no icon font or CDN). Decorative: the controls carry the names. */

import type { SVGProps } from "react";

function Icon({ d, ...props }: SVGProps<SVGSVGElement> & { d: string }) {
  return (
    <svg viewBox="0 0 24 24" width="18" height="18" fill="none" stroke="currentColor" strokeWidth={2} strokeLinecap="round" strokeLinejoin="round" aria-hidden="true" {...props}>
      <path d={d} />
    </svg>
  );
}

type P = SVGProps<SVGSVGElement>;
export const HashIcon = (p: P) => <Icon d="M4 9h16M4 15h16M10 3 8 21M16 3l-2 18" {...p} />;
export const PlusIcon = (p: P) => <Icon d="M12 5v14M5 12h14" {...p} />;
export const SearchIcon = (p: P) => <Icon d="M11 19a8 8 0 1 0 0-16 8 8 0 0 0 0 16Zm10 2-4.3-4.3" {...p} />;
export const UsersIcon = (p: P) => <Icon d="M16 21v-2a4 4 0 0 0-4-4H6a4 4 0 0 0-4 4v2M9 11a4 4 0 1 0 0-8 4 4 0 0 0 0 8Zm13 10v-2a4 4 0 0 0-3-3.9M16 3.1a4 4 0 0 1 0 7.8" {...p} />;
export const BellOffIcon = (p: P) => <Icon d="M13.7 21a2 2 0 0 1-3.4 0M18.6 13A18 18 0 0 1 18 8M6.3 6.3A6 6 0 0 0 6 8c0 7-3 9-3 9h14M18 8a6 6 0 0 0-9.3-5M2 2l20 20" {...p} />;
export const BellIcon = (p: P) => <Icon d="M6 8a6 6 0 0 1 12 0c0 7 3 9 3 9H3s3-2 3-9M10.3 21a2 2 0 0 0 3.4 0" {...p} />;
export const SmileIcon = (p: P) => <Icon d="M12 22a10 10 0 1 0 0-20 10 10 0 0 0 0 20ZM8 14s1.5 2 4 2 4-2 4-2M9 9h.01M15 9h.01" {...p} />;
export const ReplyIcon = (p: P) => <Icon d="M9 17 4 12l5-5M20 18v-2a4 4 0 0 0-4-4H4" {...p} />;
export const EditIcon = (p: P) => <Icon d="M12 20h9M16.5 3.5a2.1 2.1 0 0 1 3 3L7 19l-4 1 1-4Z" {...p} />;
export const TrashIcon = (p: P) => <Icon d="M3 6h18M8 6V4h8v2m3 0-1 14H6L5 6" {...p} />;
export const ThreadIcon = (p: P) => <Icon d="M21 15a2 2 0 0 1-2 2H7l-4 4V5a2 2 0 0 1 2-2h14a2 2 0 0 1 2 2Z" {...p} />;
export const PaperclipIcon = (p: P) => <Icon d="m21.4 11-9.2 9.2a6 6 0 0 1-8.5-8.5l9.2-9.2a4 4 0 0 1 5.7 5.7l-9.2 9.2a2 2 0 0 1-2.8-2.8l8.5-8.5" {...p} />;
export const SendIcon = (p: P) => <Icon d="M22 2 11 13M22 2l-7 20-4-9-9-4Z" {...p} />;
export const XIcon = (p: P) => <Icon d="M18 6 6 18M6 6l12 12" {...p} />;
export const BackIcon = (p: P) => <Icon d="M15 18l-6-6 6-6" {...p} />;
export const LogoutIcon = (p: P) => <Icon d="M9 21H5a2 2 0 0 1-2-2V5a2 2 0 0 1 2-2h4M16 17l5-5-5-5M21 12H9" {...p} />;
export const LockIcon = (p: P) => <Icon d="M5 11h14v10H5zM8 11V7a4 4 0 0 1 8 0v4" {...p} />;
export const ArrowDownIcon = (p: P) => <Icon d="M12 5v14M19 12l-7 7-7-7" {...p} />;
