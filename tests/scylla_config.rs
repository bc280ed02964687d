//! `SCYLLA_URI` / `--scylla-uri` on the real binary, with no ScyllaDB anywhere: refused
//! beside SQLite, refused when malformed, and a cluster that cannot be reached stops
//! every command with one line and a non-zero exit, never a panic.
#![allow(clippy::unwrap_used)]

mod common;

use std::process::{Command, Output};
use std::time::{Duration, Instant};

const SECRET: &str = "0123456789abcdef0123456789abcdef";

fn layer4(dir: &std::path::Path, args: &[&str]) -> Command {
    let mut cmd = common::process::layer4();
    cmd.args(args)
        .arg("--data-dir")
        .arg(dir)
        .env("JWT_SECRET", SECRET)
        // Logs off: what is left on stderr is the error itself.
        .env("RUST_LOG", "off");
    cmd
}

/// Runs to completion (within a minute); asserts a failure reported on one line and
/// answers that line.
fn fails_in_one_line(mut cmd: Command, what: &str) -> String {
    let started = Instant::now();
    let out: Output = cmd.output().unwrap();
    assert!(
        started.elapsed() < Duration::from_secs(60),
        "{what}: too slow"
    );
    assert!(
        !out.status.success(),
        "{what}: exit status {:?}",
        out.status
    );
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(!stderr.contains("panicked"), "{what}: {stderr}");
    let lines: Vec<&str> = stderr.lines().filter(|l| !l.trim().is_empty()).collect();
    assert_eq!(lines.len(), 1, "{what}: not one line: {stderr:?}");
    assert!(lines[0].starts_with("Error: "), "{what}: {stderr}");
    lines[0].to_owned()
}

#[test]
fn scylla_beside_sqlite_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    for command in [&["migrate"][..], &["api"], &["gateway"], &["dev"]] {
        let mut cmd = layer4(dir.path(), command);
        cmd.env("SCYLLA_URI", "scylla://127.0.0.1:1");
        let line = fails_in_one_line(cmd, command[0]);
        assert!(
            line.contains("SCYLLA_URI") && line.contains("postgres://"),
            "{command:?}: {line}"
        );
    }
    // The flag is the same setting.
    let line = fails_in_one_line(
        {
            let mut cmd = layer4(dir.path(), &["migrate"]);
            cmd.args(["--scylla-uri", "scylla://127.0.0.1:1"]);
            cmd
        },
        "migrate --scylla-uri",
    );
    assert!(line.contains("SCYLLA_URI"), "{line}");
}

#[test]
fn an_unreachable_cluster_is_one_line() {
    let dir = tempfile::tempdir().unwrap();
    // Port 1 on the loopback refuses at once; ScyllaDB is connected before
    // PostgreSQL, so no database is needed either.
    for command in [&["migrate"][..], &["api"], &["gateway"]] {
        let mut cmd = layer4(dir.path(), command);
        cmd.env("DATABASE_URL", "postgres://postgres@127.0.0.1:1/none")
            .env("SCYLLA_URI", "scylla://user:hunter2@127.0.0.1:1");
        let line = fails_in_one_line(cmd, command[0]);
        assert!(
            line.contains("ScyllaDB") && line.contains("127.0.0.1:1"),
            "{command:?}: {line}"
        );
        assert!(!line.contains("hunter2"), "password in {line}");
    }
}

#[test]
fn a_malformed_uri_is_one_line() {
    let dir = tempfile::tempdir().unwrap();
    let mut cmd = layer4(dir.path(), &["migrate"]);
    cmd.env("DATABASE_URL", "postgres://postgres@127.0.0.1:1/none")
        .env("SCYLLA_URI", "cassandra://db:9042");
    let line = fails_in_one_line(cmd, "migrate");
    assert!(line.contains("SCYLLA_URI: unknown scheme"), "{line}");
    let mut cmd = layer4(dir.path(), &["migrate"]);
    cmd.env("DATABASE_URL", "postgres://postgres@127.0.0.1:1/none")
        .env("SCYLLA_URI", "scylla://db")
        .env("SCYLLA_KEYSPACE", "Bad-Name");
    let line = fails_in_one_line(cmd, "migrate");
    assert!(line.contains("keyspace"), "{line}");
}
