//! Channel locks held across both phases of a batch.

use deadpool_postgres::Object;

use crate::backend::postgres::rows::execute;
use crate::error::{Result, StoreError};

/// A pooled connection holding session-level advisory locks on a batch's channels
/// (keyed by channel id) from before phase 1 until its history writes are done, so the
/// next batch of these channels, on any node, reads history only once this one's rows
/// are there. Locks are taken in id order (no deadlock between batches). A connection
/// whose locks may still be held (an unlock that failed, a call cancelled midway) is
/// never given back to the pool: dropping it ends its session, which frees them.
pub(crate) struct ChannelLocks {
    client: Option<Object>,
    channels: Vec<i64>,
}

impl ChannelLocks {
    /// Waits for the channels' locks (`channels` sorted, without duplicates).
    pub(crate) async fn lock(client: Object, channels: Vec<i64>) -> Result<Self> {
        let mut locks = Self {
            client: Some(client),
            channels,
        };
        let channels = locks.channels.clone();
        execute(
            &*locks.client()?,
            "SELECT pg_advisory_lock(c) FROM unnest($1::bigint[]) AS c",
            &[&channels],
        )
        .await?;
        Ok(locks)
    }

    /// The connection.
    pub(crate) fn client(&mut self) -> Result<&mut Object> {
        self.client
            .as_mut()
            .ok_or_else(|| StoreError::Internal("channel locks already released".into()))
    }

    /// Frees the locks and gives the connection back (or drops it, see the type).
    pub(crate) async fn release(mut self) {
        let Some(client) = self.client.take() else {
            return;
        };
        let unlocked = execute(
            &client,
            "SELECT pg_advisory_unlock(c) FROM unnest($1::bigint[]) AS c",
            &[&self.channels],
        )
        .await;
        match unlocked {
            Ok(_) => drop(client),
            Err(err) => {
                tracing::warn!(error = %err, "channel unlock failed: closing the connection");
                drop(Object::take(client));
            }
        }
    }
}

impl Drop for ChannelLocks {
    fn drop(&mut self) {
        if let Some(client) = self.client.take() {
            drop(Object::take(client));
        }
    }
}
