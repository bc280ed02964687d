/** TanStack Query hooks for API data that is not live chat state. */

import { useQuery } from "@tanstack/react-query";
import type { Channel, User } from "../gateway/types";
import { rememberUsers, useChat } from "../state/chat";
import { api, qs } from "./http";
import type { ChannelsAnswer, EditsAnswer, MembersAnswer, UsersAnswer } from "./types";

export function useMembers(channelId: string, enabled = true) {
  return useQuery({
    queryKey: ["members", channelId],
    enabled,
    queryFn: async () => {
      const { members } = await api<MembersAnswer>(`/api/chat/channels/${channelId}/members${qs({ limit: 100 })}`);
      rememberUsers(members.map((m) => m.user));
      return members;
    },
  });
}

/** The other member of a DM. */
export function useDmPeer(channel: Channel): User | undefined {
  const me = useChat((s) => s.me?.id);
  const { data } = useMembers(channel.id, channel.kind === "dm");
  return data?.find((m) => m.user.id !== me)?.user;
}

export function useUserSearch(q: string) {
  return useQuery({
    queryKey: ["users", q],
    enabled: q.trim().length > 0,
    queryFn: async () => (await api<UsersAnswer>(`/api/chat/users/search${qs({ q: q.trim(), limit: 10 })}`)).users,
  });
}

export function usePublicChannels(q: string) {
  return useQuery({
    queryKey: ["public", q],
    queryFn: async () => (await api<ChannelsAnswer>(`/api/chat/channels/public${qs({ q: q.trim(), limit: 30 })}`)).channels,
  });
}

export function useEdits(messageId: string) {
  return useQuery({
    queryKey: ["edits", messageId],
    queryFn: async () => (await api<EditsAnswer>(`/api/chat/messages/${messageId}/edits`)).edits,
  });
}

export function useBlocked() {
  return useQuery({
    queryKey: ["blocked"],
    queryFn: async () => (await api<UsersAnswer>(`/api/chat/users/blocked`)).users,
  });
}
