//! The Lua scripts of cluster presence: each read-modify-write of a user's presence
//! runs in Redis as one script, so two nodes can neither both publish a change nor
//! both miss it, and every node decides "shown" by one rule, on Redis's clock.
//!
//! The rule (`shown` below): a user's hash maps node -> `"{set_at_ms}:{status}"`;
//! the shown status is that of the most recently set field whose node is live (its
//! heartbeat in the nodes set is younger than the TTL), ties broken by the greater
//! node id; `offline` if there is none.
//!
//! Every script takes `ARGV[1]` = the node TTL in ms.

use sha1::{Digest, Sha1};

/// A script and its SHA-1 (for `EVALSHA`).
#[derive(Debug)]
pub(super) struct Script {
    pub(super) source: &'static str,
    pub(super) sha: String,
}

impl Script {
    fn new(source: &'static str) -> Self {
        let sha = Sha1::digest(source.as_bytes())
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        Self { source, sha }
    }
}

/// The scripts cluster presence runs.
#[derive(Debug)]
pub(super) struct Scripts {
    /// Sets, keeps, removes or reaps one node's field of one user: see [`APPLY`].
    pub(super) apply: Script,
    /// Refreshes a node's heartbeat and lists dead nodes: see [`HEARTBEAT`].
    pub(super) heartbeat: Script,
    /// Drops a reaped node: see [`FORGET`].
    pub(super) forget: Script,
    /// The shown status of many users: see [`READ`].
    pub(super) read: Script,
}

impl Scripts {
    pub(super) fn new() -> Self {
        Self {
            apply: Script::new(APPLY),
            heartbeat: Script::new(HEARTBEAT),
            forget: Script::new(FORGET),
            read: Script::new(READ),
        }
    }

    pub(super) fn all(&self) -> [&Script; 4] {
        [&self.apply, &self.heartbeat, &self.forget, &self.read]
    }
}

/// `now` (Redis's clock, ms), `live(nodes, node)` and `shown(key, nodes, assume_live)`.
macro_rules! prelude {
    () => {
        r#"
local ttl = tonumber(ARGV[1])
local clock = redis.call('TIME')
local now = tonumber(clock[1]) * 1000 + math.floor(tonumber(clock[2]) / 1000)
local function live(nodes, node)
  local beat = redis.call('ZSCORE', nodes, node)
  return beat and tonumber(beat) >= now - ttl
end
local function shown(key, nodes, assume_live)
  local fields = redis.call('HGETALL', key)
  local best, best_at, best_node = 'offline', -1, ''
  for i = 1, #fields, 2 do
    local node, value = fields[i], fields[i + 1]
    local sep = string.find(value, ':', 1, true)
    if sep and (node == assume_live or live(nodes, node)) then
      local at = tonumber(string.sub(value, 1, sep - 1)) or 0
      if at > best_at or (at == best_at and node > best_node) then
        best, best_at, best_node = string.sub(value, sep + 1), at, node
      end
    end
  end
  return best
end
"#
    };
}

/// KEYS: `presence:{user}`, `nodes`, `node-users:{node}`. ARGV: ttl, node, op, user,
/// status. `op`: `set` (write with a new time: this status becomes the newest),
/// `keep` (write only if the node's field is missing or has another status), `del`
/// (this node's grace expired), `reap` (the node is dead; does nothing and answers
/// `{-1, ''}` if it is live again). The node itself counts as live before and after.
/// Answers `{changed, shown}`: 1 if the shown status changed, and the shown status.
const APPLY: &str = concat!(
    prelude!(),
    r#"
local key, nodes, members = KEYS[1], KEYS[2], KEYS[3]
local node, op, user, status = ARGV[2], ARGV[3], ARGV[4], ARGV[5]
if op == 'reap' and live(nodes, node) then
  return {-1, ''}
end
local before = shown(key, nodes, node)
if op == 'set' or op == 'keep' then
  local current = redis.call('HGET', key, node)
  local sep = current and string.find(current, ':', 1, true)
  if op == 'set' or not sep or string.sub(current, sep + 1) ~= status then
    redis.call('HSET', key, node, string.format('%.0f', now) .. ':' .. status)
  end
  redis.call('SADD', members, user)
else
  redis.call('HDEL', key, node)
  redis.call('SREM', members, user)
end
local after = shown(key, nodes, node)
if after == before then
  return {0, after}
end
return {1, after}
"#
);

/// KEYS: `nodes`. ARGV: ttl, node. Sets the node's heartbeat to now; answers
/// `{fresh, dead}`: 1 if the node was live before (0: new, or Redis lost or reaped
/// it), and up to 16 dead nodes.
const HEARTBEAT: &str = concat!(
    prelude!(),
    r#"
local fresh = live(KEYS[1], ARGV[2]) and 1 or 0
redis.call('ZADD', KEYS[1], string.format('%.0f', now), ARGV[2])
local dead = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', '(' .. string.format('%.0f', now - ttl), 'LIMIT', 0, 16)
return {fresh, dead}
"#
);

/// KEYS: `nodes`, `node-users:{dead}`, `reaper:{dead}`. ARGV: ttl, dead. Removes a
/// dead node that has no users left; 1 if it did.
const FORGET: &str = concat!(
    prelude!(),
    r#"
if live(KEYS[1], ARGV[2]) or redis.call('SCARD', KEYS[2]) > 0 then
  return 0
end
redis.call('ZREM', KEYS[1], ARGV[2])
redis.call('DEL', KEYS[3])
return 1
"#
);

/// KEYS: `nodes`, then `presence:{user}` for each user. ARGV: ttl. Answers the shown
/// status of each user, in order.
const READ: &str = concat!(
    prelude!(),
    r#"
local out = {}
for i = 2, #KEYS do
  out[i - 1] = shown(KEYS[i], KEYS[1], nil)
end
return out
"#
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shas_are_hex_sha1_of_the_source() {
        let scripts = Scripts::new();
        for script in scripts.all() {
            assert_eq!(script.sha.len(), 40);
            assert!(script.sha.bytes().all(|b| b.is_ascii_hexdigit()));
        }
        // SHA-1("abc"), the FIPS 180 test vector.
        assert_eq!(
            Script::new("abc").sha,
            "a9993e364706816aba3e25717850c26c9cd0d89d"
        );
    }
}
