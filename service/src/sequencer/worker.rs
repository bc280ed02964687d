//! One sequencer's loop: gather, commit as one batch, publish in offset order, reply.

use std::sync::Arc;
use std::time::Instant;

use bus::{DynBus, Publication};
use protocol::events::server::ChannelData;
use protocol::events::ServerEvent;
use storage::{DynStore, EventWrite, Outcome};
use tokio::sync::mpsc;

use super::nonce::NonceWindow;
use super::{event, Committed, Job, Limiter, MAX_BATCH};
use crate::chat::now_ms;
use crate::error::{Result, ServiceError};
use crate::members_cache::MembersCache;

/// The longest a loaded sequencer waits for more events before it commits.
const LINGER: std::time::Duration = std::time::Duration::from_millis(1);

/// Nonces remembered per sequencer; older ones are answered by storage's index.
const NONCE_CAPACITY: usize = 100_000;

/// A sequencer's worker: run it on the runtime of the channels' home.
pub struct Worker {
    rx: mpsc::Receiver<Job>,
    store: DynStore,
    bus: DynBus,
    limiter: Limiter,
    nonces: NonceWindow,
    members: Arc<MembersCache>,
}

/// A job that passed the nonce window and the rate limit, waiting for its commit.
struct Pending {
    job: Job,
    write: EventWrite,
}

impl Worker {
    pub(crate) fn new(
        rx: mpsc::Receiver<Job>,
        store: DynStore,
        bus: DynBus,
        limiter: Limiter,
        nonce_window_ms: u64,
        members: Arc<MembersCache>,
    ) -> Self {
        Self {
            rx,
            store,
            bus,
            limiter,
            nonces: NonceWindow::new(nonce_window_ms, NONCE_CAPACITY),
            members,
        }
    }

    /// Runs until every sender is gone.
    pub async fn run(mut self) {
        let mut jobs = Vec::with_capacity(MAX_BATCH);
        let mut last_batch = 0;
        while let Some(first) = self.rx.recv().await {
            jobs.push(first);
            self.gather(&mut jobs);
            if last_batch > 1 {
                // Under load (the last commit carried several events), wait for the
                // senders the last replies woke, so the commit is shared by more: until
                // as many events as last time are here, for at most LINGER (the cost
                // of one commit).
                let deadline = tokio::time::Instant::now() + LINGER;
                while jobs.len() < last_batch.min(MAX_BATCH) {
                    match tokio::time::timeout_at(deadline, self.rx.recv()).await {
                        Ok(Some(job)) => {
                            jobs.push(job);
                            self.gather(&mut jobs);
                        }
                        // Out of time, or every sender is gone: commit what is here.
                        Ok(None) | Err(_) => break,
                    }
                }
            }
            last_batch = jobs.len();
            let pending = self.admit(&mut jobs);
            if !pending.is_empty() {
                self.commit(pending).await;
            }
        }
    }

    /// Takes what is queued, up to a full batch.
    fn gather(&mut self, jobs: &mut Vec<Job>) {
        while jobs.len() < MAX_BATCH {
            match self.rx.try_recv() {
                Ok(job) => jobs.push(job),
                Err(_) => break,
            }
        }
    }

    /// Answers rate-limited sends now (not resends of a recent nonce); the rest goes on.
    fn admit(&mut self, jobs: &mut Vec<Job>) -> Vec<Pending> {
        let now = now_ms();
        let mut pending = Vec::with_capacity(jobs.len());
        for job in jobs.drain(..) {
            // A resend of a recent nonce is not rate limited: storage answers it with
            // the first message (no event, no offset).
            let resend = match &job.write {
                EventWrite::CreateMessage(new) => new.nonce.as_deref().is_some_and(|nonce| {
                    self.nonces
                        .contains(new.channel_id, new.author_id, nonce, now)
                }),
                _ => false,
            };
            if let Some(key) = job.rate_key.as_ref().filter(|_| !resend) {
                if let Err(retry) = self.limiter.check(key) {
                    let ms = u64::try_from(retry.as_millis()).unwrap_or(u64::MAX);
                    let _ = job.reply.send(Err(ServiceError::rate_limited(ms)));
                    continue;
                }
            }
            let write = job.write.clone();
            pending.push(Pending { job, write });
        }
        pending
    }

    /// One transaction for the whole batch; then publication, then the replies.
    async fn commit(&mut self, pending: Vec<Pending>) {
        let started = Instant::now();
        let size = pending.len();
        let writes = pending.iter().map(|p| p.write.clone()).collect();
        // The one place channel events are written.
        #[allow(clippy::disallowed_methods)]
        let results = match self.store.append_events(writes).await {
            Ok(results) if results.len() == size => results,
            Ok(results) => {
                let err = ServiceError::internal(format!(
                    "append_events answered {} results for {size} events",
                    results.len()
                ));
                return fail_all(pending, &err);
            }
            Err(err) => return fail_all(pending, &ServiceError::from(err)),
        };
        metrics::histogram!("sequencer_batch_events").record(size as f64);
        metrics::histogram!("sequencer_commit_seconds").record(started.elapsed().as_secs_f64());

        let now = now_ms();
        let mut publications = Vec::with_capacity(size);
        let mut replies = Vec::with_capacity(size);
        for (Pending { job, write }, result) in pending.into_iter().zip(results) {
            let answer = match result {
                Ok(Outcome::Event { offset, message }) => {
                    self.published(&write, offset, message, job.joined, now, &mut publications)
                        .await
                }
                Ok(Outcome::Unchanged) => Ok(Committed {
                    offset: None,
                    message: None,
                    event: None,
                }),
                Ok(Outcome::Duplicate(first)) => Ok(Committed {
                    offset: None,
                    message: Some(first),
                    event: None,
                }),
                Err(err) => Err(ServiceError::from(err)),
            };
            replies.push((job.reply, answer));
        }
        metrics::counter!("sequencer_events_total").increment(publications.len() as u64);
        // The one place committed events are published, in offset order.
        #[allow(clippy::disallowed_methods)]
        if let Err(err) = self.bus.publish(publications).await {
            // Committed, so acknowledged: clients that miss the events heal from
            // storage (a gap in offsets makes them reconnect with `positions`).
            tracing::error!(error = %err, "committed events not published");
        }
        for (reply, answer) in replies {
            let _ = reply.send(answer);
        }
    }

    /// Queues the publications of one committed event; its reply.
    async fn published(
        &mut self,
        write: &EventWrite,
        offset: u64,
        message: Option<protocol::Message>,
        joined: Option<protocol::User>,
        now: u64,
        publications: &mut Vec<Publication>,
    ) -> Result<Committed> {
        if let Some(message) = message.as_ref().filter(|m| m.nonce.is_some()) {
            if matches!(write, EventWrite::CreateMessage(_)) {
                self.nonces.insert(message, now);
            }
        }
        let joiner = joined.as_ref().map(|u| u.id);
        let Some(event) = event::of(write, message.clone(), joined) else {
            return Err(ServiceError::internal(format!(
                "committed {write:?} at {offset} without the data of its event"
            )));
        };
        let channel = write.channel();
        if let EventWrite::AddMember { user, .. } | EventWrite::RemoveMember { user, .. } = write {
            self.members.forget(channel, *user);
        }
        let publication = Publication::channel_event(channel, offset, event);
        let encoded = publication.msgpack.clone();
        publications.push(publication);
        // The joiner's sessions learn the channel in the same batch, right after the
        // join, so they follow it from exactly that offset.
        if let Some(user) = joiner {
            match self.store.channel_for(channel, user).await {
                Ok(Some(view)) => publications.push(Publication::to_users(
                    vec![user],
                    ServerEvent::ChannelCreated(Box::new(ChannelData { channel: view })),
                )),
                Ok(None) => {}
                Err(err) => tracing::warn!(error = %err, "joined channel's view unavailable"),
            }
        }
        Ok(Committed {
            offset: Some(offset),
            message,
            event: Some(encoded),
        })
    }
}

fn fail_all(pending: Vec<Pending>, err: &ServiceError) {
    for p in pending {
        let _ = p.job.reply.send(Err(err.clone()));
    }
}

/// Builds the workers of a [`super::Sequencers`] over one store and bus.
pub(crate) fn maker(
    store: DynStore,
    bus: DynBus,
    limiter: Limiter,
    nonce_window_ms: u64,
    members: Arc<MembersCache>,
) -> impl Fn(mpsc::Receiver<Job>) -> Worker {
    move |rx| {
        Worker::new(
            rx,
            store.clone(),
            bus.clone(),
            Arc::clone(&limiter),
            nonce_window_ms,
            members.clone(),
        )
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use bus::LocalBus;
    use protocol::{ChannelId, ChannelKind, MessageId, UserId, Visibility};
    use storage::backend::sqlite::SqliteStore;
    use storage::{NewChannel, NewMessage, NewUser};
    use tokio::time::Instant;

    use super::*;
    use crate::sequencer::reply;
    use crate::RateLimiter;

    const ANN: UserId = UserId::new(1);
    const CHANNEL: ChannelId = ChannelId::new(2);

    async fn worker() -> (mpsc::Sender<Job>, Worker) {
        let store: DynStore = Arc::new(SqliteStore::open_in_memory().unwrap());
        store
            .create_user(NewUser {
                id: ANN,
                username: "ann".into(),
                display_name: "Ann".into(),
                password_hash: "h".into(),
                created_at: 0,
            })
            .await
            .unwrap();
        store
            .create_channel(NewChannel {
                id: CHANNEL,
                kind: ChannelKind::Group,
                name: "g".into(),
                visibility: Visibility::Private,
                parent_id: None,
                root_message_id: None,
                owner_id: ANN,
                member_ids: Vec::new(),
                created_at: 0,
            })
            .await
            .unwrap();
        let (tx, rx) = mpsc::channel(16);
        let limiter = Arc::new(RateLimiter::new(u32::MAX, Duration::from_secs(1), 16));
        let worker = Worker::new(
            rx,
            store,
            Arc::new(LocalBus::new()),
            limiter,
            0,
            Arc::new(MembersCache::new()),
        );
        (tx, worker)
    }

    /// Queues new messages `ids` at once; their replies.
    async fn send(
        tx: &mpsc::Sender<Job>,
        ids: std::ops::Range<u64>,
    ) -> Vec<tokio::sync::oneshot::Receiver<Result<Committed>>> {
        let mut replies = Vec::new();
        for n in ids {
            let (answer, replied) = reply();
            let write = EventWrite::CreateMessage(NewMessage {
                id: MessageId::new(n),
                channel_id: CHANNEL,
                author_id: ANN,
                content: format!("m{n}"),
                created_at: n,
                reply_to: None,
                nonce: None,
                attachment_ids: Vec::new(),
            });
            tx.send(Job {
                write,
                joined: None,
                rate_key: None,
                reply: answer,
            })
            .await
            .unwrap();
            replies.push(replied);
        }
        replies
    }

    /// A loaded sequencer commits as soon as as many events as its last batch are
    /// queued, and waits at most LINGER for them when fewer come (paused clock: time
    /// only moves while the sequencer waits on it).
    #[tokio::test(start_paused = true)]
    async fn lingers_until_as_many_events_as_last_time() {
        let (tx, worker) = worker().await;
        let first = send(&tx, 10..12).await;
        tokio::spawn(worker.run());
        for replied in first {
            replied.await.unwrap().unwrap();
        }

        let start = Instant::now();
        for replied in send(&tx, 12..14).await {
            assert!(replied.await.unwrap().unwrap().offset.is_some());
        }
        assert_eq!(
            start.elapsed(),
            Duration::ZERO,
            "as many as last time: no wait"
        );

        let start = Instant::now();
        for replied in send(&tx, 14..15).await {
            assert_eq!(replied.await.unwrap().unwrap().offset, Some(5));
        }
        assert_eq!(
            start.elapsed(),
            LINGER,
            "fewer than last time: waited for more"
        );
    }
}
