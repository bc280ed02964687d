//! A whole node in one process: the API and the gateway sharing one store, one chat
//! service and the in-process bus. `layer4 dev` runs it; the end-to-end tests start it
//! on ephemeral ports.

use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;

use bus::{DynBus, LocalBus};
use service::{Chat, ChatConfig};
use storage::backend::sqlite::SqliteStore;
use storage::DynStore;
use tokio::sync::oneshot;

/// Settings of a node.
#[derive(Debug, Clone)]
pub struct StackConfig {
    /// Where the API listens (port 0: any free port).
    pub api_addr: SocketAddr,
    /// Chat rules and secrets.
    pub chat: ChatConfig,
    /// API settings.
    pub api: api::ApiConfig,
    /// Gateway settings (its `listen` is the gateway address).
    pub gateway: gateway::GatewayConfig,
}

/// A running node.
pub struct Stack {
    /// The chat service both front doors use.
    pub chat: Chat,
    api_addr: SocketAddr,
    api_stop: Option<oneshot::Sender<()>>,
    api_task: tokio::task::JoinHandle<std::io::Result<()>>,
    gateway: gateway::Gateway,
}

/// Opens (and migrates) the SQLite store under `path`.
pub async fn open_sqlite(path: &Path) -> anyhow::Result<DynStore> {
    let path = path.to_owned();
    let store = tokio::task::spawn_blocking(move || SqliteStore::open(&path)).await??;
    Ok(Arc::new(store))
}

impl Stack {
    /// Starts the API and the gateway on `store`.
    pub async fn start(mut config: StackConfig, store: DynStore) -> anyhow::Result<Self> {
        let bus: DynBus = Arc::new(LocalBus::with_replay(config.gateway.replay_buffer));
        // Every channel's home is a gateway shard: the API's events take the same path.
        config.chat.sequencers = config.gateway.shards.max(1);
        let chat = Chat::new(store, bus, config.chat);
        let gateway = gateway::Gateway::start(config.gateway, chat.clone())?;
        if let Some(web) = config.api.web.as_mut() {
            // The client connects to the port the gateway really got (it may be 0 in
            // the configuration).
            web.gateway_port = gateway.local_addr().port();
        }
        let listener = tokio::net::TcpListener::bind(config.api_addr).await?;
        let api_addr = listener.local_addr()?;
        let state = api::ApiState::new(chat.clone(), config.api);
        let (api_stop, stopped) = oneshot::channel::<()>();
        let api_task = tokio::spawn(api::serve(listener, state, async move {
            let _ = stopped.await;
        }));
        Ok(Self {
            chat,
            api_addr,
            api_stop: Some(api_stop),
            api_task,
            gateway,
        })
    }

    /// The API's address.
    pub fn api_addr(&self) -> SocketAddr {
        self.api_addr
    }

    /// The gateway's address.
    pub fn gateway_addr(&self) -> SocketAddr {
        self.gateway.local_addr()
    }

    /// Stops both: the gateway drains (1001 to every session), the API finishes its
    /// requests.
    pub async fn shutdown(mut self) {
        if let Some(stop) = self.api_stop.take() {
            let _ = stop.send(());
        }
        self.gateway.shutdown().await;
        let _ = self.api_task.await;
    }
}
