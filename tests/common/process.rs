//! The `layer4` binary as a child process: started on ephemeral ports, its output
//! collected, killed when the test ends however it ends.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{json, Value};

/// `layer4` without the environment a developer's shell (or a test runner) may carry.
pub fn layer4() -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_layer4"));
    for var in [
        "JWT_SECRET",
        "DATABASE_URL",
        "SCYLLA_URI",
        "SCYLLA_KEYSPACE",
        "REDIS_URL",
        "DATA_DIR",
        "API_PORT",
        "WS_PORT",
        // An operator's shell has no backtrace settings; a test runner's may.
        "RUST_BACKTRACE",
        "RUST_LIB_BACKTRACE",
    ] {
        cmd.env_remove(var);
    }
    cmd
}

/// Anonymous resident memory (the heap) of process `pid` (`"self"` for this one), KiB.
pub fn rss_anon_kib(pid: impl std::fmt::Display) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    status
        .lines()
        .find_map(|line| line.strip_prefix("RssAnon:"))
        .and_then(|rest| rest.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap()
}

/// A `layer4 dev` process whose combined output is collected by a thread.
pub struct Dev {
    pub child: Child,
    lines: std::sync::mpsc::Receiver<String>,
    pub log: Vec<String>,
}

impl Dev {
    pub fn start(dir: &std::path::Path, extra: &[&str]) -> (Self, String, String) {
        Self::start_logging(dir, extra, "trace")
    }

    /// [`Dev::start`] with `RUST_LOG` at `level` (a busy test at `trace` would measure
    /// the logging).
    pub fn start_logging(
        dir: &std::path::Path,
        extra: &[&str],
        level: &str,
    ) -> (Self, String, String) {
        let mut cmd = layer4();
        cmd.args(["dev", "--api-port", "0", "--ws-port", "0", "--data-dir"])
            .arg(dir)
            .args(extra)
            .env("RUST_LOG", level);
        let mut dev = Self::spawn(cmd);
        let banner = dev.wait_for("layer4 dev: API on http://");
        let api = banner
            .split("API on http://")
            .nth(1)
            .unwrap()
            .split(',')
            .next()
            .unwrap()
            .to_owned();
        let ws = banner
            .split("gateway on ws://")
            .nth(1)
            .unwrap()
            .split('/')
            .next()
            .unwrap()
            .to_owned();
        (dev, api, ws)
    }

    pub fn spawn(mut cmd: Command) -> Self {
        let mut child = cmd
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let (tx, lines) = std::sync::mpsc::channel();
        for pipe in [
            Box::new(child.stdout.take().unwrap()) as Box<dyn std::io::Read + Send>,
            Box::new(child.stderr.take().unwrap()),
        ] {
            let tx = tx.clone();
            std::thread::spawn(move || {
                for line in BufReader::new(pipe).lines().map_while(Result::ok) {
                    let _ = tx.send(line);
                }
            });
        }
        Self {
            child,
            lines,
            log: Vec::new(),
        }
    }

    pub fn wait_for(&mut self, needle: &str) -> String {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let line = self
                .lines
                .recv_timeout(deadline.saturating_duration_since(Instant::now()))
                .unwrap_or_else(|_| panic!("no line with {needle:?}; got {:#?}", self.log));
            self.log.push(line.clone());
            if line.contains(needle) {
                return line;
            }
        }
    }

    pub fn stop(mut self) -> Vec<String> {
        let _ = self.child.kill();
        let _ = self.child.wait();
        while let Ok(line) = self.lines.recv_timeout(Duration::from_millis(200)) {
            self.log.push(line);
        }
        std::mem::take(&mut self.log)
    }
}

/// A test that fails midway must not leave its server running.
impl Drop for Dev {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// POSTs `body` as JSON, as `token`'s user when given, and parses the answer.
pub async fn post(http: &reqwest::Client, url: String, token: Option<&str>, body: Value) -> Value {
    let mut req = http.post(url).json(&body);
    if let Some(token) = token {
        req = req.bearer_auth(token);
    }
    req.send().await.unwrap().json().await.unwrap()
}

/// Registers `name` through the API: its id and token.
pub async fn register(http: &reqwest::Client, api: &str, name: &str) -> (String, String) {
    let body = json!({"username": name, "password": "password123"});
    let user = post(http, format!("http://{api}/api/auth/register"), None, body).await;
    (
        user["user"]["id"].as_str().unwrap().to_owned(),
        user["token"].as_str().unwrap().to_owned(),
    )
}

/// Creates a group of `token`'s user and `members`: its id.
pub async fn group(
    http: &reqwest::Client,
    api: &str,
    token: &str,
    name: &str,
    members: &[&str],
) -> String {
    let body = json!({"name": name, "member_ids": members});
    let url = format!("http://{api}/api/chat/channels");
    let created = post(http, url, Some(token), body).await;
    created["channel"]["id"].as_str().unwrap().to_owned()
}
