//! The subcommands: build the configuration values, open storage, start servers, wait
//! for a signal, drain.

use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{bail, Context};
use bus::{DynBus, LocalBus, RedisBus, RedisConfig};
use layer4::seed::{self, DEMO_PASSWORD};
use layer4::stack::{Database, Stack, StackConfig};
use rand::RngCore;
use service::{Chat, ChatConfig, ClusterConfig, Presence};
use storage::DynStore;

use crate::cli::{DevArgs, ServeArgs, StoreArgs};

/// Shortest accepted `JWT_SECRET`, in bytes.
const MIN_SECRET_BYTES: usize = 32;

/// `layer4 dev`.
pub async fn dev(args: DevArgs) -> anyhow::Result<()> {
    std::fs::create_dir_all(&args.store.data_dir)
        .with_context(|| format!("creating {}", args.store.data_dir.display()))?;
    let db = match Database::from_url(args.store.database_url.as_deref(), &args.store.data_dir) {
        Ok(db) => db,
        Err(err) => {
            tracing::warn!("{err:#}; `layer4 dev` uses SQLite under DATA_DIR");
            Database::Sqlite(args.store.data_dir.join("layer4.db"))
        }
    }
    .with_scylla(
        args.store.scylla_uri.as_deref(),
        &args.store.scylla_keyspace,
    )?;
    let store = db.open().await?;
    let secret = match args.jwt_secret {
        Some(secret) => checked_secret(secret)?,
        None => dev_secret(&args.store.data_dir)?,
    };
    let mut chat = ChatConfig {
        worker_id: args.store.effective_worker_id()?,
        jwt_secret: secret,
        ..Default::default()
    };
    args.chat.apply(&mut chat);
    let mut api = api::ApiConfig::default();
    api.register_per_min = args.api.auth_rate_per_min.unwrap_or(1000);
    apply_api_args(&mut api, &args.api);
    api.media = args.api.media(&args.store.data_dir);
    api.web = Some(api::web::WebConfig {
        dist: args.web_dir.clone(),
        gateway_port: args.gateway.ws_port, // the real port once bound (Stack::start)
        gateway_tls: args.gateway.tls_cert.is_some(),
    });
    let config = StackConfig {
        api_addr: SocketAddr::new(args.bind, args.api.api_port),
        chat,
        api,
        gateway: args.gateway.config(args.bind),
    };
    let stack = Stack::start(config, store).await?;
    if args.demo && seed::seed(&stack.chat).await? {
        println!("demo data: users alice, bob, carol with password {DEMO_PASSWORD}; group #general; a DM between alice and bob");
    }
    let (api_addr, ws_addr) = (stack.api_addr(), stack.gateway_addr());
    let scheme = if args.gateway.tls_cert.is_some() {
        "wss"
    } else {
        "ws"
    };
    println!("layer4 dev: API on http://{api_addr}, gateway on {scheme}://{ws_addr}/gateway?v=1, data in {}", db.describe());
    if args.web_dir.join("index.html").is_file() {
        println!("web client: open http://{api_addr}/ in a browser");
    } else {
        println!("web client: not built ({} is missing); run scripts/web.sh, then open http://{api_addr}/", args.web_dir.join("index.html").display());
    }
    println!("try: curl -s http://{api_addr}/api/auth/login -H 'content-type: application/json' -d '{{\"username\":\"alice\",\"password\":\"{DEMO_PASSWORD}\"}}'");
    println!("then connect a WebSocket client to {scheme}://{ws_addr}/gateway?v=1&encoding=json and send {{\"t\":\"IDENTIFY\",\"d\":{{\"token\":\"...\"}}}} (README: Try it)");
    shutdown_signal().await;
    println!("layer4 dev: draining");
    stack.shutdown().await;
    Ok(())
}

/// `layer4 gateway`.
pub async fn gateway(args: ServeArgs) -> anyhow::Result<()> {
    let chat = production_chat(&args).await?;
    if let Some(port) = args.gateway.metrics_port {
        let listener = tokio::net::TcpListener::bind(SocketAddr::new(args.bind, port)).await?;
        tracing::info!(addr = %listener.local_addr()?, "gateway metrics at /metrics");
        tokio::spawn(serve_metrics(listener, args.api.metrics_token.clone()));
    }
    let config = args.gateway.config(args.bind);
    gateway::run(config, chat, shutdown_signal()).await?;
    Ok(())
}

/// `layer4 api`.
pub async fn api(args: ServeArgs) -> anyhow::Result<()> {
    let chat = production_chat(&args).await?;
    let mut config = api::ApiConfig::default();
    if let Some(rate) = args.api.auth_rate_per_min {
        config.register_per_min = rate;
    }
    apply_api_args(&mut config, &args.api);
    config.media = args.api.media(&args.store.data_dir);
    let listener =
        tokio::net::TcpListener::bind(SocketAddr::new(args.bind, args.api.api_port)).await?;
    tracing::info!(addr = %listener.local_addr()?, "api listening");
    api::serve(
        listener,
        api::ApiState::new(chat, config),
        shutdown_signal(),
    )
    .await?;
    Ok(())
}

/// Serves GET /metrics (Prometheus text), guarded by `token` when set.
async fn serve_metrics(listener: tokio::net::TcpListener, token: Option<String>) {
    use axum::http::{header, HeaderMap, StatusCode};
    // Installed at start (`main`); this only takes the handle.
    let handle = api::metrics::prometheus();
    let app = axum::Router::new().route(
        "/metrics",
        axum::routing::get(move |headers: HeaderMap| {
            let (handle, token) = (handle.clone(), token.clone());
            async move {
                let authorized = token.as_deref().is_none_or(|want| {
                    headers
                        .get(header::AUTHORIZATION)
                        .and_then(|v| v.to_str().ok())
                        .and_then(|v| v.strip_prefix("Bearer "))
                        == Some(want)
                });
                if authorized {
                    (StatusCode::OK, handle.render())
                } else {
                    (
                        StatusCode::UNAUTHORIZED,
                        "metrics token required\n".to_owned(),
                    )
                }
            }
        }),
    );
    if let Err(err) = axum::serve(listener, app).await {
        tracing::warn!("metrics server stopped: {err}");
    }
}

/// `layer4 migrate`.
pub async fn migrate(args: StoreArgs) -> anyhow::Result<()> {
    let db = database(&args)?;
    let applied = db.migrate().await?;
    println!("{applied} migration(s) applied to {}", db.describe());
    Ok(())
}

/// `layer4 seed`.
pub async fn seed(args: StoreArgs) -> anyhow::Result<()> {
    let store = database(&args)?.open().await?;
    let chat = Chat::new(store, Arc::new(LocalBus::new()), ChatConfig::default());
    if seed::seed(&chat).await? {
        println!("seeded: users alice, bob, carol with password {DEMO_PASSWORD}");
    } else {
        println!("the store already has users: nothing seeded");
    }
    Ok(())
}

async fn production_chat(args: &ServeArgs) -> anyhow::Result<Chat> {
    let Some(secret) = args.jwt_secret.clone() else {
        bail!("JWT_SECRET is required (at least {MIN_SECRET_BYTES} bytes, shared by every API and gateway node); `layer4 dev` generates one");
    };
    let secret = checked_secret(secret)?;
    std::fs::create_dir_all(&args.store.data_dir)?;
    let store: DynStore = database(&args.store)?.open().await?;
    let bus = production_bus(args).await?;
    let mut config = ChatConfig {
        worker_id: args.store.effective_worker_id()?,
        jwt_secret: secret,
        // One sequencer per gateway shard, each run by its shard (`layer4 api` runs
        // them on its own runtime).
        sequencers: args.gateway.config(args.bind).shards,
        ..Default::default()
    };
    args.chat.apply(&mut config);
    let presence = production_presence(args, &store, &bus, &config).await?;
    Ok(Chat::with_presence(store, bus, config, presence))
}

/// Presence in Redis with `REDIS_URL` (cluster mode, under the bus's prefix), else
/// this process's own.
async fn production_presence(
    args: &ServeArgs,
    store: &DynStore,
    bus: &DynBus,
    config: &ChatConfig,
) -> anyhow::Result<Presence> {
    let grace = Duration::from_millis(config.presence_grace_ms);
    match args.redis_url.as_deref() {
        Some(url) if !url.is_empty() => {
            let cluster = ClusterConfig::new(
                url,
                &args.redis_prefix,
                config.worker_id,
                Duration::from_millis(config.presence_ttl_ms),
            );
            Presence::cluster(
                store.clone(),
                bus.clone(),
                config.large_threshold,
                grace,
                cluster,
            )
            .await
            .map_err(|e| {
                anyhow::anyhow!("presence: {e} (REDIS_URL {})", layer4::stack::redact(url))
            })
        }
        _ => Ok(Presence::new(
            store.clone(),
            bus.clone(),
            config.large_threshold,
            grace,
        )),
    }
}

/// The Redis bus with `REDIS_URL` (cluster mode), else the in-process one.
async fn production_bus(args: &ServeArgs) -> anyhow::Result<DynBus> {
    let replay = args.gateway.config(args.bind).replay_buffer;
    match args.redis_url.as_deref() {
        Some(url) if !url.is_empty() => {
            let bus = RedisBus::connect(RedisConfig {
                url: url.to_owned(),
                prefix: args.redis_prefix.clone(),
                replay_capacity: replay,
            })
            .await
            .map_err(|e| anyhow::anyhow!("{e} (REDIS_URL {})", layer4::stack::redact(url)))?;
            tracing::info!(prefix = %args.redis_prefix, "cluster mode: Redis bus");
            Ok(Arc::new(bus))
        }
        _ => {
            tracing::warn!("no REDIS_URL: changes made through another process (e.g. a separate `layer4 api`) do not reach this process's clients; run `layer4 dev` for one node, or set REDIS_URL for a cluster");
            Ok(Arc::new(LocalBus::with_replay(replay)))
        }
    }
}

fn apply_api_args(config: &mut api::ApiConfig, args: &crate::cli::ApiArgs) {
    config.per_user_per_sec = args.user_rate_per_sec;
    config.metrics_token = args.metrics_token.clone();
    config.cors_origins = args.cors_origins.clone();
}

/// The database of `DATABASE_URL`, or SQLite under `DATA_DIR`; with `SCYLLA_URI`,
/// history in ScyllaDB beside PostgreSQL.
fn database(args: &StoreArgs) -> anyhow::Result<Database> {
    Database::from_url(args.database_url.as_deref(), &args.data_dir)?
        .with_scylla(args.scylla_uri.as_deref(), &args.scylla_keyspace)
}

fn checked_secret(secret: String) -> anyhow::Result<Vec<u8>> {
    if secret.len() < MIN_SECRET_BYTES {
        bail!(
            "JWT_SECRET is too short: {} bytes, at least {MIN_SECRET_BYTES} needed",
            secret.len()
        );
    }
    Ok(secret.into_bytes())
}

/// The dev secret: generated once, kept in DATA_DIR/dev-secret so tokens survive restarts.
fn dev_secret(data_dir: &Path) -> anyhow::Result<Vec<u8>> {
    let path = data_dir.join("dev-secret");
    if let Ok(existing) = std::fs::read_to_string(&path) {
        if existing.trim().len() >= MIN_SECRET_BYTES {
            return Ok(existing.trim().as_bytes().to_vec());
        }
    }
    let mut bytes = [0u8; 32];
    rand::thread_rng().fill_bytes(&mut bytes);
    let secret: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    std::fs::write(&path, &secret).with_context(|| format!("writing {}", path.display()))?;
    println!(
        "generated a development JWT secret in {} (set JWT_SECRET to choose one)",
        path.display()
    );
    Ok(secret.into_bytes())
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {}
        () = term => {}
    }
}
