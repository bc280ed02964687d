//! One simulated client: connect, IDENTIFY, PING, send what the plan says, check every
//! channel event, reconnect with `positions` when the contract says so, settle, drain.
//!
//! One task owns its WebSocket (no split, no lock) and its checks; it touches shared
//! state only through relaxed counters, batched histograms and, once at the end, the
//! worker's totals. Requests carry ids and replies are matched by id; READY is taken as
//! IDENTIFY's reply with or without the id (the gateway does not echo it yet).
//!
//! With several `--gateway` addresses (a cluster), connection `i` first connects to
//! gateway `i % n` and each reconnect moves on to the next one, as a client behind a load
//! balancer would land anywhere: resuming with `positions` is checked across nodes.

use std::collections::{BTreeMap, HashMap};
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{anyhow, bail, Context};
use futures_util::{SinkExt, StreamExt};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use tokio::time::{sleep_until, Instant};
use tokio_tungstenite::tungstenite::Message as WsMessage;

use crate::checks::{Failures, Tracks, Verdict};
use crate::client::{self, Ws};
use crate::metrics::{now_micros, Batch, Counters};
use crate::plan::{ConnPlan, SendMode};
use crate::wire::{self, Request};
use crate::worker::{Phase, Shared};

/// Close codes after which PROTOCOL.md section 8 says to reconnect.
const RECONNECT_CODES: [u16; 5] = [1001, 1006, 4000, 4009, 4010];
const EMOJI: [&str; 5] = ["👍", "🎉", "😂", "❤️", "🚀"];
/// Far enough to mean "never" for a timer.
const NEVER: Duration = Duration::from_secs(86_400);

/// The gateway of connection `index`'s connect attempt `attempt` (0: the first): member
/// `i` starts on gateway `i % n`, each reconnect moves to the next one.
pub fn gateway_for(index: usize, attempt: usize, gateways: &[SocketAddr]) -> Option<SocketAddr> {
    (!gateways.is_empty()).then(|| gateways[(index + attempt) % gateways.len()])
}

/// What an outstanding request was.
#[derive(Debug)]
struct Pending {
    kind: &'static str,
    sent_us: u64,
    /// A SEND_MESSAGE to resend with the same nonce after a reconnect.
    resend: Option<(u64, String, String)>,
}

/// A connection's state across reconnects.
pub struct Session {
    shared: Arc<Shared>,
    plan: ConnPlan,
    rng: StdRng,
    tracks: Tracks,
    pending: HashMap<u32, Pending>,
    next_id: u32,
    user: u64,
    heartbeat: Duration,
    buf: Vec<u8>,
    /// Connect attempts so far (the gateway of each is picked from it).
    attempts: usize,
    /// Acked own messages not yet received back, and received ones not yet acked.
    acked_unseen: HashMap<u64, ()>,
    seen_unacked: HashMap<u64, (u64, u64)>,
    highest_acked: HashMap<u64, u64>,
    recent: HashMap<u64, u64>,
    own_recent: HashMap<u64, u64>,
    sent: u64,
    latency: Batch,
    arrival: Batch,
    ack: Batch,
    counts: BTreeMap<String, u64>,
    closes: BTreeMap<u16, u64>,
    failures: Failures,
    load_started: Option<Instant>,
    last_event: Option<Instant>,
    max_silence: Duration,
    events_in_load: u64,
    settled_sent: bool,
}

impl Session {
    /// A session for `plan`.
    pub fn new(shared: Arc<Shared>, plan: ConnPlan) -> Self {
        let rng = StdRng::seed_from_u64(plan.index as u64 ^ 0x5eed);
        Self {
            shared,
            plan,
            rng,
            tracks: Tracks::default(),
            pending: HashMap::new(),
            next_id: 1,
            attempts: 0,
            user: 0,
            heartbeat: Duration::from_secs(30),
            buf: Vec::with_capacity(256),
            acked_unseen: HashMap::new(),
            seen_unacked: HashMap::new(),
            highest_acked: HashMap::new(),
            recent: HashMap::new(),
            own_recent: HashMap::new(),
            sent: 0,
            latency: Batch::default(),
            arrival: Batch::default(),
            ack: Batch::default(),
            counts: BTreeMap::new(),
            closes: BTreeMap::new(),
            failures: Failures::default(),
            load_started: None,
            last_event: None,
            max_silence: Duration::ZERO,
            events_in_load: 0,
            settled_sent: false,
        }
    }

    fn count(&mut self, key: &str) {
        *self.counts.entry(key.to_owned()).or_default() += 1;
    }

    fn fail(&mut self, text: String) {
        Counters::bump(&self.shared.counters.errors);
        self.failures
            .add(format!("conn {}: {text}", self.plan.index));
    }

    /// Runs the whole life of the connection; never panics, reports everything.
    pub async fn run(mut self) {
        let mut phase = self.shared.phase.subscribe();
        let started = Instant::now();
        let shared = self.shared.clone();
        let permit = shared.gate.acquire().await;
        let ws = self.connect(false).await;
        drop(permit);
        if ws.is_ok() {
            self.shared
                .ready
                .record(started.elapsed().as_micros() as u64);
        }
        let _ = self.shared.connected_tx.send(());
        let result = match ws {
            Ok(ws) => self.drive(ws, &mut phase).await,
            Err(err) => Err(err.context("connect")),
        };
        if let Err(err) = result {
            self.fail(format!("{err:#}"));
        }
        self.finish();
    }

    /// Connects and identifies (with positions on a reconnect); sets the heartbeat.
    async fn connect(&mut self, resume: bool) -> anyhow::Result<Ws> {
        let source = client::source_for(self.plan.index, &self.shared.plan.sources);
        let gateway = gateway_for(self.plan.index, self.attempts, &self.shared.plan.gateways)
            .context("no gateway address")?;
        self.attempts += 1;
        let mut ws = client::open(gateway, source, self.shared.plan.arrival_stamps).await?;
        let positions = if resume {
            self.tracks.positions()
        } else {
            Vec::new()
        };
        let identify_id = self.take_id();
        self.buf.clear();
        wire::encode(
            &Request::Identify {
                token: &self.plan.token,
                positions: &positions,
            },
            identify_id,
            &mut self.buf,
        );
        ws.send(WsMessage::Binary(self.buf.clone())).await?;
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            let msg = tokio::time::timeout_at(deadline, ws.next())
                .await
                .context("no READY within 60 s")?
                .context("closed before READY")??;
            let bytes = match msg {
                WsMessage::Binary(b) => b,
                WsMessage::Close(frame) => {
                    bail!(
                        "closed before READY: {:?}",
                        frame.map(|f| u16::from(f.code))
                    )
                }
                WsMessage::Text(_) => bail!("text frame on a msgpack connection"),
                _ => continue,
            };
            let inbound = wire::decode(&bytes).context("frame before READY")?;
            if inbound.t == "READY" {
                if inbound.id.is_some_and(|id| id != identify_id) {
                    bail!(
                        "READY carries id {:?}, IDENTIFY had {identify_id}",
                        inbound.id
                    );
                }
                let ready = wire::ready(&inbound.d)?;
                self.user = ready.user;
                self.heartbeat = Duration::from_millis(ready.heartbeat_ms.max(100));
                let (resynced, problem) = self.tracks.on_ready(&ready);
                for _ in 0..resynced {
                    self.count("resync");
                }
                if let Some(problem) = problem {
                    self.fail(problem);
                }
                Counters::bump(&self.shared.counters.identified);
                self.count(&format!("READY from gateway {gateway}"));
                return Ok(ws);
            }
            if inbound.t == "ERROR" {
                bail!(
                    "ERROR before READY: {:?}",
                    wire::path_str(&inbound.d, &["code"])
                );
            }
            // Replayed channel events come after READY; anything else before it is odd.
            self.count("frames before READY");
        }
    }

    fn take_id(&mut self) -> u32 {
        let id = self.next_id;
        self.next_id = self.next_id.wrapping_add(1).max(1);
        id
    }

    async fn send(
        &mut self,
        ws: &mut Ws,
        request: Request<'_>,
        resend: Option<(u64, String, String)>,
    ) -> anyhow::Result<()> {
        let id = self.take_id();
        self.buf.clear();
        wire::encode(&request, id, &mut self.buf);
        let kind = request.name();
        self.pending.insert(
            id,
            Pending {
                kind,
                sent_us: now_micros(),
                resend,
            },
        );
        if kind != "PING" {
            self.sent += 1;
            Counters::bump(&self.shared.counters.sent);
        }
        ws.send(WsMessage::Binary(self.buf.clone())).await?;
        Ok(())
    }

    fn outstanding(&self) -> usize {
        self.pending.values().filter(|p| p.kind != "PING").count()
    }

    /// The main loop: load, settle, drain.
    async fn drive(
        &mut self,
        mut ws: Ws,
        phase_rx: &mut tokio::sync::watch::Receiver<Phase>,
    ) -> anyhow::Result<()> {
        let mode = self.shared.plan.load.mode;
        let mix = self.shared.plan.load.mix;
        let now = Instant::now();
        let mut next_ping = now + self.heartbeat.mul_f64(self.rng.gen_range(0.2..1.0));
        let mut next_send = now;
        let mut next_reconnect = match mix {
            Some(m) if m.reconnect_every_ms > 0 => {
                now + Duration::from_millis(self.rng.gen_range(0..m.reconnect_every_ms * 2))
            }
            _ => now + NEVER,
        };
        let mut settled = false;
        let mut settle_deadline = now + NEVER;
        let mut drain_deadline = now + NEVER;
        let mut required: Option<Arc<HashMap<u64, u64>>> = None;
        // One timer for the earliest deadline and one pending phase watch, kept across
        // turns: a delivery costs a read and the checks, not five timer registrations
        // and a watch subscription (the client shares the cores with the server).
        let mut phase = phase_rx.borrow().clone();
        let mut changed = Box::pin(phase_changed(phase_rx.clone()));
        let mut timer = Box::pin(sleep_until(next_ping));
        loop {
            let loading = matches!(phase, Phase::Load);
            if !matches!(phase, Phase::Connect | Phase::Load) && !settled {
                let answered = self.outstanding() == 0 && self.acked_unseen.is_empty();
                if answered || Instant::now() >= settle_deadline {
                    if !answered {
                        let (n, m) = (self.outstanding(), self.acked_unseen.len());
                        self.fail(format!("settle deadline: {n} requests unanswered, {m} acknowledged messages never received back by their sender"));
                    }
                    settled = true;
                    self.settled_sent = true;
                    let _ = self.shared.settled_tx.send(self.highest_acked.clone());
                }
            }
            if let (true, Some(required)) = (settled, &required) {
                if self.tracks.caught_up(required) {
                    break;
                }
            }
            let can_send = loading
                && !self.plan.send_to.is_empty()
                && match mode {
                    SendMode::Quiet => false,
                    SendMode::Window(w) => self.outstanding() < w as usize,
                    SendMode::EveryMicros(_) => true,
                };
            let mut wake = next_ping.min(drain_deadline);
            if can_send {
                wake = wake.min(next_send);
            }
            if loading {
                wake = wake.min(next_reconnect);
            }
            if !settled {
                wake = wake.min(settle_deadline);
            }
            if timer.deadline() != wake {
                timer.as_mut().reset(wake);
            }
            tokio::select! {
                biased;
                (rx, ok) = &mut changed => {
                    if !ok {
                        bail!("worker went away");
                    }
                    phase = rx.borrow().clone();
                    changed = Box::pin(phase_changed(rx));
                    match &phase {
                        Phase::Load => {
                            let now = Instant::now();
                            self.load_started = Some(now);
                            self.last_event = Some(now);
                            next_send = now + match mode {
                                SendMode::EveryMicros(us) => Duration::from_micros(self.rng.gen_range(0..us.max(1))),
                                _ => Duration::ZERO,
                            };
                        }
                        Phase::Settle => {
                            settle_deadline = Instant::now() + Duration::from_secs(self.shared.plan.drain_secs);
                            if self.events_in_load == 0 && !self.tracks.positions().is_empty() {
                                self.count("members silent through the load phase");
                            }
                        }
                        Phase::Drain(r) => {
                            required = Some(r.clone());
                            drain_deadline = Instant::now() + Duration::from_secs(self.shared.plan.drain_secs);
                        }
                        Phase::Connect => {}
                    }
                }
                msg = ws.next() => {
                    let closed = match msg {
                        Some(Ok(WsMessage::Binary(bytes))) => { self.on_frame(&bytes, ws.get_ref().last_rx_us())?; None }
                        Some(Ok(WsMessage::Close(frame))) => Some(frame.map_or(1005, |f| u16::from(f.code))),
                        Some(Ok(WsMessage::Text(_))) => bail!("text frame on a msgpack connection"),
                        Some(Ok(_)) => None,
                        Some(Err(_)) | None => Some(1006),
                    };
                    if let Some(code) = closed {
                        *self.closes.entry(code).or_default() += 1;
                        if !(self.shared.plan.reconnect && RECONNECT_CODES.contains(&code)) {
                            bail!("closed by the server with {code}");
                        }
                        ws = self.reconnect().await?;
                    }
                }
                () = &mut timer => {
                    // Whatever is due, in the order the old branches had.
                    let now = Instant::now();
                    if now >= next_ping {
                        self.send(&mut ws, Request::Ping, None).await?;
                        next_ping += self.heartbeat;
                    }
                    if can_send && now >= next_send {
                        self.act(&mut ws).await?;
                        if let SendMode::EveryMicros(us) = mode {
                            next_send += Duration::from_micros(us);
                            // Fell behind by more than a second: do not burst to catch up.
                            next_send = next_send.max(Instant::now() - Duration::from_secs(1));
                        }
                    }
                    if loading && now >= next_reconnect {
                        let _ = ws.close(None).await;
                        self.count("deliberate reconnects");
                        ws = self.reconnect().await?;
                        let every = mix.map_or(0, |m| m.reconnect_every_ms).max(1);
                        next_reconnect = Instant::now() + Duration::from_millis(self.rng.gen_range(0..every * 2));
                    }
                    // A passed settle deadline is handled at the top of the loop.
                    if now >= drain_deadline {
                        let missing = required.as_ref().map(|r| self.tracks.missing(r)).unwrap_or_default();
                        for (channel, last, need) in missing {
                            self.fail(format!("drain deadline: channel {channel} received up to offset {last}, acknowledged messages up to {need}"));
                        }
                        break;
                    }
                }
            }
        }
        if let Some(last) = self.last_event {
            if required.as_ref().is_some_and(|r| !self.tracks.caught_up(r)) {
                self.max_silence = self.max_silence.max(last.elapsed());
            }
        }
        let _ = ws.close(None).await;
        Ok(())
    }

    /// Reconnects with positions and resends unanswered messages with their nonces.
    async fn reconnect(&mut self) -> anyhow::Result<Ws> {
        Counters::bump_down(&self.shared.counters.identified);
        let resend: Vec<_> = self.pending.drain().filter_map(|(_, p)| p.resend).collect();
        let mut delay = Duration::from_millis(100);
        let mut ws = None;
        for _ in 0..6 {
            tokio::time::sleep(delay).await;
            match self.connect(true).await {
                Ok(w) => {
                    ws = Some(w);
                    break;
                }
                Err(err) => {
                    self.count("failed reconnect attempts");
                    delay *= 2;
                    if delay > Duration::from_secs(3) {
                        return Err(err.context("reconnect"));
                    }
                }
            }
        }
        let mut ws = ws.ok_or_else(|| anyhow!("reconnect failed"))?;
        self.count("reconnects");
        for (channel, content, nonce) in resend {
            self.count("resent with the same nonce");
            let request = Request::Send {
                channel,
                content: &content,
                nonce: &nonce,
            };
            self.send(
                &mut ws,
                request,
                Some((channel, content.clone(), nonce.clone())),
            )
            .await?;
        }
        Ok(ws)
    }

    /// One action of the load phase: a message, or for the chat mix something else.
    async fn act(&mut self, ws: &mut Ws) -> anyhow::Result<()> {
        let channel = self.plan.send_to[self.rng.gen_range(0..self.plan.send_to.len())];
        let choice = match self.shared.plan.load.mix {
            None => 0,
            Some(m) => {
                let weights = [m.message, m.typing, m.react, m.edit, m.read];
                let total: u32 = weights.iter().sum::<u32>().max(1);
                let mut pick = self.rng.gen_range(0..total);
                let mut i = 0;
                while i < weights.len() - 1 && pick >= weights[i] {
                    pick -= weights[i];
                    i += 1;
                }
                i
            }
        };
        let recent = self.recent.get(&channel).copied();
        let own = self.own_recent.get(&channel).copied();
        match (choice, recent, own) {
            (1, _, _) => self.send(ws, Request::Typing { channel }, None).await,
            (2, Some(message), _) => {
                let emoji = EMOJI[self.rng.gen_range(0..EMOJI.len())];
                self.send(ws, Request::React { message, emoji }, None).await
            }
            (3, _, Some(message)) => {
                let content = format!("edited by the load test {}", self.sent);
                let request = Request::Edit {
                    message,
                    content: &content,
                };
                self.send(ws, request, None).await
            }
            (4, Some(message), _) => {
                self.send(ws, Request::Read { channel, message }, None)
                    .await
            }
            _ => {
                let run = &self.shared.plan.run;
                let content = wire::content(now_micros(), run, self.shared.plan.load.content_len);
                let nonce = format!("{run}-{}-{}", self.plan.index, self.sent);
                let request = Request::Send {
                    channel,
                    content: &content,
                    nonce: &nonce,
                };
                let resend = Some((channel, content.clone(), nonce.clone()));
                self.send(ws, request, resend).await
            }
        }
    }

    /// Handles one server frame, which the kernel received at `arrived_us` (0: unknown).
    fn on_frame(&mut self, bytes: &[u8], arrived_us: u64) -> anyhow::Result<()> {
        let now_us = now_micros();
        let inbound = wire::decode(bytes).context("server frame breaks the envelope")?;
        if let Some(s) = inbound.s {
            let channel = wire::event_channel(&inbound.d)
                .with_context(|| format!("{} with `s` but no channel id", inbound.t))?;
            Counters::bump(&self.shared.counters.deliveries);
            let now = Instant::now();
            if self.load_started.is_some() {
                self.events_in_load += 1;
                if let Some(last) = self.last_event {
                    self.max_silence = self.max_silence.max(now - last);
                }
                self.last_event = Some(now);
            }
            match self.tracks.on_event(channel, s) {
                Verdict::InOrder => {}
                Verdict::NewChannel => self.count("channels first seen in an event"),
                Verdict::Duplicate => self.fail(format!(
                    "duplicate or reordered offset {s} in channel {channel}"
                )),
                Verdict::Gap => self.fail(format!("offset gap before {s} in channel {channel}")),
            }
            if inbound.t == "MESSAGE_RECEIVED" {
                let message = wire::path_u64(&inbound.d, &["message", "id"])
                    .context("MESSAGE_RECEIVED without message.id")?;
                self.recent.insert(channel, message);
                let content = wire::path_str(&inbound.d, &["message", "content"]).unwrap_or("");
                if let Some(sent) = wire::sent_micros(content, &self.shared.plan.run) {
                    let micros = now_us.saturating_sub(sent);
                    self.latency.record(micros, &self.shared.latency);
                    if arrived_us != 0 {
                        let arrival = arrived_us.saturating_sub(sent);
                        self.arrival.record(arrival, &self.shared.arrival);
                    }
                    let c = &self.shared.counters;
                    c.latency_sum_us
                        .fetch_add(micros, std::sync::atomic::Ordering::Relaxed);
                    Counters::bump(&c.latency_count);
                    if self.shared.sample_frame.get().is_none() {
                        let _ = self.shared.sample_frame.set(bytes.to_vec());
                    }
                }
                if wire::path_u64(&inbound.d, &["message", "author", "id"]) == Some(self.user) {
                    self.own_recent.insert(channel, message);
                    if self.acked_unseen.remove(&message).is_some() {
                        self.raise_highest(channel, s);
                    } else {
                        self.seen_unacked.insert(message, (channel, s));
                    }
                }
            }
            return Ok(());
        }
        match inbound.t {
            "ACK" | "ERROR" | "PONG" | "MESSAGES_LOADED" => {
                let Some(pending) = inbound.id.and_then(|id| self.pending.remove(&id)) else {
                    self.count(&format!("{} without a matching request id", inbound.t));
                    return Ok(());
                };
                if inbound.t == "ERROR" {
                    let code = wire::path_str(&inbound.d, &["code"]).unwrap_or("?");
                    let hint = match code {
                        "RATE_LIMITED" => " (raise the server's --messages-per-window)",
                        _ => "",
                    };
                    self.fail(format!("ERROR {code} for {}{hint}", pending.kind));
                    return Ok(());
                }
                if pending.kind == "SEND_MESSAGE" {
                    Counters::bump(&self.shared.counters.acked);
                    self.ack
                        .record(now_us.saturating_sub(pending.sent_us), &self.shared.ack);
                    let message = wire::path_u64(&inbound.d, &["message", "id"])
                        .context("ACK of SEND_MESSAGE without message.id")?;
                    match self.seen_unacked.remove(&message) {
                        Some((channel, s)) => self.raise_highest(channel, s),
                        None => {
                            self.acked_unseen.insert(message, ());
                        }
                    }
                } else if pending.kind != "PING" {
                    Counters::bump(&self.shared.counters.acked);
                }
            }
            "READY" => self.fail("READY after READY".into()),
            other => {
                // The events without an offset of PROTOCOL.md section 7 by name; anything
                // else under one key (the server's names cannot grow the map).
                let key = match other {
                    "TYPING_STARTED"
                    | "TYPING_STOPPED"
                    | "READ_RECEIPT_UPDATED"
                    | "USER_STATUS_CHANGED"
                    | "CHANNEL_CREATED"
                    | "CHANNEL_UPDATED"
                    | "CHANNEL_DELETED" => format!("received {other}"),
                    _ => "received other ephemeral events".to_owned(),
                };
                self.count(&key);
            }
        }
        Ok(())
    }

    fn raise_highest(&mut self, channel: u64, s: u64) {
        let e = self.highest_acked.entry(channel).or_default();
        *e = (*e).max(s);
    }

    /// Hands this connection's figures to the worker.
    fn finish(mut self) {
        if !self.settled_sent {
            // A connection that died early still answers the settle round.
            let _ = self.shared.settled_tx.send(self.highest_acked.clone());
        }
        self.latency.flush(&self.shared.latency);
        self.arrival.flush(&self.shared.arrival);
        self.ack.flush(&self.shared.ack);
        if self.load_started.is_some() {
            self.shared
                .silence
                .record(self.max_silence.as_micros() as u64);
        }
        let mut totals = self.shared.totals.lock().unwrap_or_else(|p| p.into_inner());
        for (k, v) in std::mem::take(&mut self.counts) {
            *totals.counts.entry(k).or_default() += v;
        }
        for (k, v) in std::mem::take(&mut self.closes) {
            *totals.closes.entry(k).or_default() += v;
        }
        totals.failures.merge(std::mem::take(&mut self.failures));
    }
}

/// Waits for the next phase and hands the receiver back (a future that owns it can be
/// kept across turns of the session's loop).
async fn phase_changed(
    mut rx: tokio::sync::watch::Receiver<Phase>,
) -> (tokio::sync::watch::Receiver<Phase>, bool) {
    let ok = rx.changed().await.is_ok();
    (rx, ok)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn members_spread_over_gateways_and_reconnects_move_on() {
        let g: Vec<SocketAddr> = ["127.0.0.1:1", "127.0.0.1:2", "127.0.0.1:3"]
            .iter()
            .map(|a| a.parse().unwrap())
            .collect();
        let first: Vec<_> = (0..6).filter_map(|i| gateway_for(i, 0, &g)).collect();
        assert_eq!(first, [g[0], g[1], g[2], g[0], g[1], g[2]]);
        // Member 1 reconnects to gateway 2, then 0, then back to 1.
        let later: Vec<_> = (1..4).filter_map(|a| gateway_for(1, a, &g)).collect();
        assert_eq!(later, [g[2], g[0], g[1]]);
        assert_eq!(gateway_for(7, 3, &g[..1]), Some(g[0]));
        assert_eq!(gateway_for(0, 0, &[]), None);
    }
}
