//! The web client's own suites, run by the README's test command: the Vitest unit tests
//! (frame codec, reconnect and replay logic, stores) and the browser tests (Playwright
//! driving Debian's Chromium against a real `layer4 dev`, web/e2e/). Each says
//! "skipped: ..." when what it needs is missing: Node.js, the installed packages
//! (`npm --prefix web ci`) or, for the browser tests, /usr/bin/chromium.

use std::path::{Path, PathBuf};
use std::process::Command;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Why the web suites cannot run here, if they cannot.
fn missing_node() -> Option<String> {
    let node = Command::new("node").arg("--version").output();
    if !node.is_ok_and(|out| out.status.success()) {
        return Some("node is not installed".into());
    }
    if !root().join("web/node_modules/.package-lock.json").is_file() {
        return Some("web/node_modules is missing (run npm --prefix web ci)".into());
    }
    None
}

fn chromium() -> PathBuf {
    std::env::var_os("CHROMIUM_PATH")
        .map_or_else(|| PathBuf::from("/usr/bin/chromium"), PathBuf::from)
}

/// Runs `npm --prefix web <args>`, echoing its output; panics when it fails.
fn npm(args: &[&str], env: &[(&str, &Path)]) {
    let mut cmd = Command::new("npm");
    cmd.arg("--prefix")
        .arg(root().join("web"))
        .args(args)
        .current_dir(root());
    for (key, value) in env {
        cmd.env(key, value);
    }
    let out = cmd
        .output()
        .unwrap_or_else(|err| panic!("running npm {args:?}: {err}"));
    println!("{}", String::from_utf8_lossy(&out.stdout));
    eprintln!("{}", String::from_utf8_lossy(&out.stderr));
    assert!(out.status.success(), "npm {args:?} failed ({})", out.status);
}

#[test]
fn web_unit_tests() {
    if let Some(reason) = missing_node() {
        println!("skipped: {reason}");
        return;
    }
    npm(&["test"], &[]);
}

#[test]
fn web_end_to_end_in_chromium() {
    if let Some(reason) = missing_node() {
        println!("skipped: {reason}");
        return;
    }
    let chromium = chromium();
    if !chromium.is_file() {
        println!(
            "skipped: no Chromium at {} (apt-get install chromium)",
            chromium.display()
        );
        return;
    }
    // Builds the client from the current sources, then drives it against this build
    // of the server.
    npm(&["run", "build"], &[]);
    let bin = PathBuf::from(env!("CARGO_BIN_EXE_layer4"));
    npm(
        &["run", "test:e2e"],
        &[("LAYER4_BIN", &bin), ("CHROMIUM_PATH", &chromium)],
    );
}
