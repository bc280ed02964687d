//! The deploy files cannot drift from the binary: every file parses, every flag and
//! environment variable they give `layer4` exists in `layer4 <command> --help`, and
//! the compose file and HAProxy configuration agree on services and ports.
#![allow(clippy::unwrap_used)]

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::process::Command;

use yaml_rust2::{Yaml, YamlLoader};

/// Read by the tracing subscriber, not by clap.
const NOT_FLAGS: &[&str] = &["RUST_LOG"];

fn deploy(path: &str) -> String {
    let full = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("deploy")
        .join(path);
    std::fs::read_to_string(&full).unwrap_or_else(|e| panic!("{}: {e}", full.display()))
}

fn yaml(path: &str) -> Vec<Yaml> {
    YamlLoader::load_from_str(&deploy(path)).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// `layer4 <command> --help`.
fn help(command: &str) -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_layer4"))
        .args([command, "--help"])
        .output()
        .unwrap();
    assert!(out.status.success(), "layer4 {command} --help");
    String::from_utf8(out.stdout).unwrap()
}

/// What the deploy files ask of `layer4`: per command, flags and environment names,
/// each with the file it came from.
#[derive(Default)]
struct Uses {
    flags: BTreeMap<String, BTreeSet<(String, String)>>,
    env: BTreeMap<String, BTreeSet<(String, String)>>,
}

impl Uses {
    fn args(&mut self, file: &str, args: &[String]) {
        let Some((command, rest)) = args.split_first() else {
            panic!("{file}: layer4 without a command");
        };
        for arg in rest.iter().filter(|a| a.starts_with("--")) {
            let flag = arg.split('=').next().unwrap().to_owned();
            self.flags
                .entry(command.clone())
                .or_default()
                .insert((flag, file.to_owned()));
        }
    }

    fn env(&mut self, file: &str, command: &str, name: &str) {
        if !NOT_FLAGS.contains(&name) {
            self.env
                .entry(command.to_owned())
                .or_default()
                .insert((name.to_owned(), file.to_owned()));
        }
    }

    fn check(&self) {
        let mut missing = Vec::new();
        let commands: BTreeSet<&String> = self.flags.keys().chain(self.env.keys()).collect();
        for command in commands {
            let help = help(command);
            for (flag, file) in self.flags.get(command).into_iter().flatten() {
                if !help.contains(&format!("{flag} ")) && !help.contains(&format!("{flag}\n")) {
                    missing.push(format!("{file}: `layer4 {command}` has no flag {flag}"));
                }
            }
            for (name, file) in self.env.get(command).into_iter().flatten() {
                if !help.contains(&format!("[env: {name}=")) {
                    missing.push(format!("{file}: `layer4 {command}` reads no {name}"));
                }
            }
        }
        assert!(missing.is_empty(), "{}", missing.join("\n"));
    }
}

fn strings(y: &Yaml) -> Vec<String> {
    y.as_vec()
        .map(|v| {
            v.iter()
                .filter_map(|s| s.as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default()
}

fn keys(y: &Yaml) -> Vec<String> {
    y.as_hash()
        .map(|h| {
            h.keys()
                .filter_map(|k| k.as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default()
}

/// A mapping with its YAML merge key (`<<: *anchor`) applied (yaml-rust2 keeps it
/// as a plain key).
fn merged(y: &Yaml) -> Yaml {
    let Some(hash) = y.as_hash() else {
        return y.clone();
    };
    let mut out = yaml_rust2::yaml::Hash::new();
    if let Some(base) = hash.get(&Yaml::String("<<".into())) {
        if let Yaml::Hash(base) = merged(base) {
            out.extend(base);
        }
    }
    for (k, v) in hash {
        if k.as_str() != Some("<<") {
            out.insert(k.clone(), v.clone());
        }
    }
    Yaml::Hash(out)
}

fn compose_uses(uses: &mut Uses) -> Yaml {
    let doc = yaml("compose.yaml").remove(0);
    let services = &doc["services"];
    let names: BTreeSet<String> = keys(services).into_iter().collect();
    for name in &names {
        let service = &merged(&services[name.as_str()]);
        for dep in keys(&service["depends_on"])
            .into_iter()
            .chain(strings(&service["depends_on"]))
        {
            assert!(
                names.contains(&dep),
                "compose: {name} depends on unknown {dep}"
            );
        }
        if service["image"].as_str() != Some("layer4:latest") {
            continue;
        }
        let args = strings(&service["command"]);
        let file = format!("compose.yaml ({name})");
        uses.args(&file, &args);
        for var in keys(&merged(&service["environment"])) {
            uses.env(&file, &args[0], &var);
        }
    }
    doc
}

fn k8s_uses(uses: &mut Uses) {
    let mut config_keys: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for doc in yaml("k8s/config.yaml") {
        let name = doc["metadata"]["name"].as_str().unwrap().to_owned();
        let mut k = keys(&doc["data"]);
        k.extend(keys(&doc["stringData"]));
        config_keys.insert(name, k);
    }
    for file in ["k8s/gateway.yaml", "k8s/api.yaml", "k8s/migrate-job.yaml"] {
        for doc in yaml(file) {
            assert!(
                doc["kind"].as_str().is_some(),
                "{file}: every document has a kind"
            );
            let containers = &doc["spec"]["template"]["spec"]["containers"];
            for container in containers.as_vec().into_iter().flatten() {
                if !container["image"]
                    .as_str()
                    .unwrap_or("")
                    .starts_with("layer4")
                {
                    continue;
                }
                let args = strings(&container["args"]);
                uses.args(file, &args);
                for var in container["env"].as_vec().into_iter().flatten() {
                    uses.env(file, &args[0], var["name"].as_str().unwrap());
                }
                for source in container["envFrom"].as_vec().into_iter().flatten() {
                    let referenced = source["configMapRef"]["name"]
                        .as_str()
                        .or_else(|| source["secretRef"]["name"].as_str())
                        .unwrap();
                    let Some(names) = config_keys.get(referenced) else {
                        panic!("{file}: envFrom {referenced} is not in k8s/config.yaml");
                    };
                    for var in names {
                        uses.env(file, &args[0], var);
                    }
                }
            }
        }
    }
}

fn systemd_uses(uses: &mut Uses) {
    for unit in ["layer4-gateway", "layer4-api", "layer4-migrate"] {
        let file = format!("systemd/{unit}.service");
        let text = deploy(&file);
        let exec = text
            .lines()
            .find_map(|l| l.strip_prefix("ExecStart=/usr/local/bin/layer4 "))
            .unwrap_or_else(|| panic!("{file}: no ExecStart of layer4"));
        let args: Vec<String> = exec.split_whitespace().map(str::to_owned).collect();
        uses.args(&file, &args);
        for line in text.lines() {
            let assignments = line
                .strip_prefix("Environment=")
                .or_else(|| line.strip_prefix("#   "))
                .unwrap_or("");
            for pair in assignments.split_whitespace() {
                if let Some((name, _)) = pair.split_once('=') {
                    if name.chars().all(|c| c.is_ascii_uppercase() || c == '_') {
                        uses.env(&file, &args[0], name);
                    }
                }
            }
        }
    }
}

#[test]
fn deploy_files_use_only_what_the_binary_has() {
    let mut uses = Uses::default();
    compose_uses(&mut uses);
    k8s_uses(&mut uses);
    systemd_uses(&mut uses);
    for line in deploy("Dockerfile").lines() {
        if let Some(cmd) = line.strip_prefix("CMD ") {
            let args: Vec<String> = serde_json::from_str(cmd).unwrap();
            uses.args("Dockerfile", &args);
        }
    }
    assert!(uses.flags.contains_key("gateway") && uses.flags.contains_key("api"));
    uses.check();
}

#[test]
fn the_checker_notices_a_flag_or_variable_the_binary_lacks() {
    let mut uses = Uses::default();
    uses.args("made-up", &["gateway".into(), "--no-such-flag".into()]);
    let flag = std::panic::catch_unwind(|| uses.check());
    assert!(flag.is_err());
    let mut uses = Uses::default();
    uses.env("made-up", "api", "NO_SUCH_VARIABLE");
    assert!(std::panic::catch_unwind(|| uses.check()).is_err());
}

#[test]
fn haproxy_routes_to_the_compose_services_on_their_ports() {
    let mut uses = Uses::default();
    let compose = compose_uses(&mut uses);
    let cfg = deploy("haproxy/haproxy.cfg");
    let mut servers = 0;
    for line in cfg.lines().map(str::trim) {
        let Some(rest) = line.strip_prefix("server ") else {
            continue;
        };
        let target = rest.split_whitespace().nth(1).unwrap();
        let (host, port) = target.split_once(':').unwrap();
        let service = &merged(&compose["services"][host]);
        assert!(
            !service.is_badvalue(),
            "haproxy: {host} is not a compose service"
        );
        let args = strings(&service["command"]);
        let port_flag = if args[0] == "gateway" {
            "--ws-port"
        } else {
            "--api-port"
        };
        let i = args.iter().position(|a| a == port_flag).unwrap();
        assert_eq!(
            args[i + 1],
            port,
            "haproxy: {host} listens on {}",
            args[i + 1]
        );
        servers += 1;
    }
    assert_eq!(servers, 3, "two gateways and one API");
    assert!(cfg.contains("path_beg /gateway"));
}
