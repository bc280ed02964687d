//! `SCYLLA_URI` and keyspace names, parsed and validated before any connection.
//!
//! The accepted form is `[scylla://][user:password@]host[:port][,host[:port]...]
//! [?replication_factor=N]`: one or more contact points (the driver discovers the rest
//! of the cluster from them), port 9042 by default, IPv6 hosts in brackets. The
//! replication factor is used only when the keyspace has to be created. Errors name
//! the part that is wrong and never echo the password.

use std::fmt;

/// The keyspace when the configuration names none.
pub const DEFAULT_KEYSPACE: &str = "layer4";

/// The CQL port when none is given.
pub const DEFAULT_PORT: u16 = 9042;

/// The replication factor of a keyspace this backend creates, when the URI gives none:
/// three copies per datacenter, the usual production setting.
pub const DEFAULT_REPLICATION_FACTOR: u32 = 3;

/// A parsed `SCYLLA_URI`.
#[derive(Clone, PartialEq, Eq)]
pub struct ScyllaUri {
    /// Contact points as `host:port` (IPv6 as `[addr]:port`).
    pub nodes: Vec<String>,
    /// Credentials, if given.
    pub credentials: Option<(String, String)>,
    /// Replication factor for a keyspace created by the migration.
    pub replication_factor: u32,
}

impl fmt::Debug for ScyllaUri {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ScyllaUri")
            .field("nodes", &self.nodes)
            .field("user", &self.credentials.as_ref().map(|(user, _)| user))
            .field("replication_factor", &self.replication_factor)
            .finish()
    }
}

/// Parses a `SCYLLA_URI`; the error is one line naming what is wrong.
pub fn parse_uri(uri: &str) -> Result<ScyllaUri, String> {
    let rest = uri.trim();
    let rest = match rest.split_once("://") {
        Some(("scylla", rest)) => rest,
        Some((scheme, _)) => {
            return Err(format!(
                "SCYLLA_URI: unknown scheme {scheme:?} (expected scylla://)"
            ))
        }
        None => rest,
    };
    let (rest, query) = match rest.split_once('?') {
        Some((rest, query)) => (rest, Some(query)),
        None => (rest, None),
    };
    let rest = rest.strip_suffix('/').unwrap_or(rest);
    let (credentials, hosts) = match rest.rsplit_once('@') {
        Some((userinfo, hosts)) => {
            let (user, password) = userinfo.split_once(':').ok_or(
                "SCYLLA_URI: credentials must be user:password@ (the password is missing)",
            )?;
            if user.is_empty() {
                return Err("SCYLLA_URI: the user name is empty".into());
            }
            (Some((user.to_owned(), password.to_owned())), hosts)
        }
        None => (None, rest),
    };
    if hosts.is_empty() {
        return Err("SCYLLA_URI: no host given (expected host:9042)".into());
    }
    let nodes = hosts
        .split(',')
        .map(parse_node)
        .collect::<Result<Vec<_>, _>>()?;
    let mut replication_factor = DEFAULT_REPLICATION_FACTOR;
    for pair in query.into_iter().flat_map(|q| q.split('&')) {
        match pair.split_once('=') {
            Some(("replication_factor", value)) => {
                replication_factor = value
                    .parse::<u32>()
                    .ok()
                    .filter(|rf| (1..=100).contains(rf))
                    .ok_or_else(|| {
                        format!("SCYLLA_URI: replication_factor {value:?} is not 1-100")
                    })?;
            }
            _ => {
                return Err(format!(
                    "SCYLLA_URI: unknown parameter {:?} (only replication_factor)",
                    pair.split('=').next().unwrap_or(pair)
                ))
            }
        }
    }
    Ok(ScyllaUri {
        nodes,
        credentials,
        replication_factor,
    })
}

/// One contact point as `host:port`.
fn parse_node(node: &str) -> Result<String, String> {
    let node = node.trim();
    let (host, port) = if let Some(v6) = node.strip_prefix('[') {
        let (addr, after) = v6
            .split_once(']')
            .ok_or_else(|| format!("SCYLLA_URI: {node:?} has no closing ']'"))?;
        let port = match after {
            "" => None,
            _ => Some(
                after
                    .strip_prefix(':')
                    .ok_or_else(|| format!("SCYLLA_URI: {node:?}: expected ':port' after ']'"))?,
            ),
        };
        (format!("[{addr}]"), port)
    } else {
        match node.split_once(':') {
            Some((host, port)) => (host.to_owned(), Some(port)),
            None => (node.to_owned(), None),
        }
    };
    let valid_host = |h: &str| {
        !h.is_empty()
            && h.chars().all(|c| {
                c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_' | ':' | '[' | ']')
            })
    };
    if !valid_host(&host) || host == "[]" {
        return Err(format!(
            "SCYLLA_URI: {node:?} is not a host name or address"
        ));
    }
    let port = match port {
        None => DEFAULT_PORT,
        Some(port) => port
            .parse::<u16>()
            .ok()
            .filter(|&p| p != 0)
            .ok_or_else(|| format!("SCYLLA_URI: port {port:?} of {node:?} is not 1-65535"))?,
    };
    Ok(format!("{host}:{port}"))
}

/// Checks a keyspace name: CQL's unquoted identifier rule, `[A-Za-z][A-Za-z0-9_]*`, at
/// most 48 characters. Names are lowercased by CQL, so only lowercase is accepted here,
/// and the name can go into a statement without quoting.
pub fn check_keyspace(name: &str) -> Result<(), String> {
    let mut chars = name.chars();
    let first_ok = chars.next().is_some_and(|c| c.is_ascii_lowercase());
    if !first_ok
        || name.len() > 48
        || !name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
    {
        return Err(format!(
            "keyspace {name:?}: expected [a-z][a-z0-9_]*, at most 48 characters"
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn nodes(uri: &str) -> Vec<String> {
        parse_uri(uri).unwrap().nodes
    }

    #[test]
    fn accepts_the_documented_forms() {
        assert_eq!(nodes("scylla://db1:9042"), ["db1:9042"]);
        assert_eq!(nodes("db1:19042"), ["db1:19042"]);
        assert_eq!(nodes("db1"), ["db1:9042"]);
        assert_eq!(
            nodes("scylla://10.0.0.1,10.0.0.2:9043, db3"),
            ["10.0.0.1:9042", "10.0.0.2:9043", "db3:9042"]
        );
        assert_eq!(
            nodes("scylla://[::1]:9042,[fe80::1]"),
            ["[::1]:9042", "[fe80::1]:9042"]
        );
        assert_eq!(nodes("scylla://db1:9042/"), ["db1:9042"]);
        let full = parse_uri("scylla://ann:s3:cret@db1?replication_factor=1").unwrap();
        assert_eq!(full.credentials, Some(("ann".into(), "s3:cret".into())));
        assert_eq!(full.replication_factor, 1);
        assert_eq!(
            parse_uri("db1").unwrap().replication_factor,
            DEFAULT_REPLICATION_FACTOR
        );
    }

    #[test]
    fn refuses_bad_uris_with_a_reason() {
        for (uri, says) in [
            ("", "no host"),
            ("scylla://", "no host"),
            ("postgres://db1", "unknown scheme"),
            ("scylla://db1:0", "not 1-65535"),
            ("scylla://db1:99999", "not 1-65535"),
            ("scylla://db1:abc", "not 1-65535"),
            ("scylla://db1,,db2", "not a host"),
            ("scylla://db 1", "not a host"),
            ("scylla://[::1", "closing"),
            ("scylla://[::1]9042", "':port'"),
            ("scylla://ann@db1", "password is missing"),
            ("scylla://:pw@db1", "user name is empty"),
            ("db1?replication_factor=0", "not 1-100"),
            ("db1?replication_factor=x", "not 1-100"),
            ("db1?consistency=one", "unknown parameter"),
        ] {
            let err = parse_uri(uri).unwrap_err();
            assert!(err.contains(says), "{uri:?}: {err}");
            assert!(err.starts_with("SCYLLA_URI"), "{err}");
        }
    }

    #[test]
    fn never_shows_the_password() {
        let err = parse_uri("scylla://ann:hunter2@db1:0").unwrap_err();
        assert!(!err.contains("hunter2"), "{err}");
        let uri = parse_uri("scylla://ann:hunter2@db1").unwrap();
        assert!(!format!("{uri:?}").contains("hunter2"));
    }

    #[test]
    fn keyspace_names() {
        assert!(check_keyspace(DEFAULT_KEYSPACE).is_ok());
        for ok in ["layer4", "l4_history_2", "a"] {
            assert!(check_keyspace(ok).is_ok(), "{ok}");
        }
        for bad in [
            "",
            "4chat",
            "Layer4",
            "x-y",
            "a b",
            "x;DROP",
            &"k".repeat(49),
        ] {
            assert!(check_keyspace(bad).is_err(), "{bad}");
        }
    }
}
