//! Users and channels made through the HTTP API (API.md), kept in a file so that
//! repeated runs skip registration (argon2id makes each one cost tens of milliseconds
//! of server CPU, minutes for 10 000 users).
//!
//! The file holds the API URL, a random name prefix, every user's id and token, and every
//! channel the scenarios asked for, keyed by what it is for (`fanout-10000`). A file whose
//! first token the API refuses (a fresh data directory) is started again. Registrations
//! run in parallel; 429 answers are retried after `Retry-After`.

use std::collections::BTreeMap;
use std::path::Path;
use std::time::Duration;

use anyhow::{bail, Context};
use futures_util::{stream, StreamExt};
use rand::Rng;
use reqwest::StatusCode;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

/// Members a group may be created with or added per request (the service's cap).
const MEMBERS_PER_REQUEST: usize = 100;
/// The test users' password.
const PASSWORD: &str = "loadtest-password";

/// One registered user.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct UserEntry {
    /// User id.
    pub id: u64,
    /// JWT from register or login.
    pub token: String,
}

/// One channel made for a scenario.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ChannelEntry {
    /// Channel id.
    pub id: u64,
    /// Indices of its members in `users` (the first is the owner).
    pub members: Vec<usize>,
}

/// The provision file.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Provisioned {
    /// API base URL these users belong to.
    pub api: String,
    /// Username prefix (`lt<prefix>_<n>`), random per file.
    pub prefix: String,
    /// Users, in order.
    pub users: Vec<UserEntry>,
    /// Channels by purpose.
    pub channels: BTreeMap<String, ChannelEntry>,
    #[serde(skip)]
    http: reqwest::Client,
}

impl Provisioned {
    /// Loads `path`, or starts a new file when it is missing, for another API, or stale.
    pub async fn load(path: &Path, api: &str) -> anyhow::Result<Self> {
        let http = reqwest::Client::new();
        if let Ok(text) = std::fs::read_to_string(path) {
            let mut file: Provisioned = serde_json::from_str(&text)
                .with_context(|| format!("reading {}", path.display()))?;
            file.http = http.clone();
            if file.api == api && file.valid().await? {
                return Ok(file);
            }
            eprintln!(
                "{}: made for another server (API or data directory); provisioning again",
                path.display()
            );
        }
        let prefix = format!("{:06x}", rand::thread_rng().gen::<u32>() & 0xff_ffff);
        Ok(Self {
            api: api.to_owned(),
            prefix,
            users: Vec::new(),
            channels: BTreeMap::new(),
            http,
        })
    }

    async fn valid(&self) -> anyhow::Result<bool> {
        let Some(first) = self.users.first() else {
            return Ok(true);
        };
        let response = self
            .http
            .get(format!("{}/api/users/me", self.api))
            .bearer_auth(&first.token)
            .send()
            .await
            .context("API unreachable")?;
        Ok(response.status().is_success())
    }

    /// Writes the file.
    pub fn save(&self, path: &Path) -> anyhow::Result<()> {
        let tmp = path.with_extension("tmp");
        std::fs::write(&tmp, serde_json::to_vec(self)?)?;
        std::fs::rename(&tmp, path).with_context(|| format!("writing {}", path.display()))
    }

    /// Registers users until there are `n`, `concurrency` at a time.
    pub async fn ensure_users(
        &mut self,
        n: usize,
        concurrency: usize,
        path: &Path,
    ) -> anyhow::Result<()> {
        if self.users.len() >= n {
            return Ok(());
        }
        let start = self.users.len();
        eprintln!(
            "registering users {start}..{n} through {} ({concurrency} at a time)",
            self.api
        );
        let bar = indicatif::ProgressBar::new((n - start) as u64);
        let mut results = stream::iter(start..n)
            .map(|i| self.register(i))
            .buffered(concurrency.max(1));
        let mut fresh = Vec::new();
        while let Some(user) = results.next().await {
            fresh.push(user?);
            bar.inc(1);
        }
        drop(results);
        bar.finish_and_clear();
        self.users.extend(fresh);
        self.save(path)
    }

    async fn register(&self, i: usize) -> anyhow::Result<UserEntry> {
        let username = format!("lt{}_{i}", self.prefix);
        let body = json!({"username": username, "password": PASSWORD});
        let response = self
            .call(|| {
                self.http
                    .post(format!("{}/api/auth/register", self.api))
                    .json(&body)
            })
            .await;
        let value =
            match response {
                Ok(v) => v,
                // Registered by an earlier run whose file was lost midway: log in instead.
                Err(err) if err.to_string().contains("409") => {
                    self.call(|| {
                        self.http
                            .post(format!("{}/api/auth/login", self.api))
                            .json(&body)
                    })
                    .await?
                }
                Err(err) => return Err(err.context(
                    "register (the API's AUTH_RATE_PER_MIN must allow it; `layer4 dev` raises it)",
                )),
            };
        Ok(UserEntry {
            id: id_of(&value["user"]["id"])?,
            token: value["token"].as_str().context("token")?.to_owned(),
        })
    }

    /// A group of exactly these members (the first owns it), made once per `key`.
    pub async fn ensure_group(
        &mut self,
        key: &str,
        members: Vec<usize>,
        public: bool,
        path: &Path,
    ) -> anyhow::Result<u64> {
        if let Some(c) = self.channels.get(key) {
            if c.members == members {
                return Ok(c.id);
            }
        }
        let owner = &self.users[members[0]].token;
        let ids: Vec<String> = members[1..]
            .iter()
            .map(|&m| self.users[m].id.to_string())
            .collect();
        let (first, rest) = ids.split_at(ids.len().min(MEMBERS_PER_REQUEST - 1));
        let visibility = if public { "public" } else { "private" };
        let body = json!({"name": format!("{key} {}", self.prefix), "visibility": visibility, "member_ids": first});
        let created = self
            .call(|| {
                self.http
                    .post(format!("{}/api/chat/channels", self.api))
                    .bearer_auth(owner)
                    .json(&body)
            })
            .await
            .with_context(|| format!("creating channel {key}"))?;
        let id = id_of(&created["channel"]["id"])?;
        for chunk in rest.chunks(MEMBERS_PER_REQUEST) {
            let body = json!({"user_ids": chunk});
            self.call(|| {
                self.http
                    .post(format!("{}/api/chat/channels/{id}/members", self.api))
                    .bearer_auth(owner)
                    .json(&body)
            })
            .await
            .with_context(|| format!("adding members to {key}"))?;
        }
        self.channels
            .insert(key.to_owned(), ChannelEntry { id, members });
        self.save(path)?;
        Ok(id)
    }

    /// The DM between users `a` and `b`, made once per `key`.
    pub async fn ensure_dm(
        &mut self,
        key: &str,
        a: usize,
        b: usize,
        path: &Path,
    ) -> anyhow::Result<u64> {
        if let Some(c) = self.channels.get(key) {
            return Ok(c.id);
        }
        let body = json!({"user_id": self.users[b].id.to_string()});
        let token = &self.users[a].token;
        let dm = self
            .call(|| {
                self.http
                    .post(format!("{}/api/chat/dm/create", self.api))
                    .bearer_auth(token)
                    .json(&body)
            })
            .await
            .context("creating a DM")?;
        let id = id_of(&dm["channel"]["id"])?;
        self.channels.insert(
            key.to_owned(),
            ChannelEntry {
                id,
                members: vec![a, b],
            },
        );
        if self.channels.len().is_multiple_of(50) {
            self.save(path)?;
        }
        Ok(id)
    }

    /// One request, retried on 429 after `Retry-After`.
    async fn call(&self, request: impl Fn() -> reqwest::RequestBuilder) -> anyhow::Result<Value> {
        for _ in 0..30 {
            let response = request().send().await.context("API unreachable")?;
            let status = response.status();
            if status == StatusCode::TOO_MANY_REQUESTS {
                let wait = response
                    .headers()
                    .get("retry-after")
                    .and_then(|v| v.to_str().ok())
                    .and_then(|v| v.parse::<u64>().ok())
                    .unwrap_or(1);
                tokio::time::sleep(Duration::from_secs(wait.clamp(1, 10))).await;
                continue;
            }
            let text = response.text().await?;
            if !status.is_success() {
                bail!("HTTP {status}: {text:.300}");
            }
            return Ok(serde_json::from_str(&text).unwrap_or(Value::Null));
        }
        bail!("still rate limited after 30 tries")
    }
}

/// An id: a decimal string in JSON (API.md), a number tolerated.
fn id_of(v: &Value) -> anyhow::Result<u64> {
    match v {
        Value::String(s) => s.parse().with_context(|| format!("id {s:?}")),
        Value::Number(n) => n.as_u64().context("id"),
        _ => bail!("no id in {v}"),
    }
}
