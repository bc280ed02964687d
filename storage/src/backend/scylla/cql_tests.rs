//! The statements checked against the migrations, without a server.

use std::collections::{BTreeMap, BTreeSet};

use super::*;

/// A table of the migrations: its columns and its partition key.
#[derive(Debug, Default)]
struct Table {
    columns: BTreeSet<String>,
    types: BTreeMap<String, String>,
    partition_key: Vec<String>,
}

/// The tables the migrations create, by name, read from their `CREATE TABLE` text.
fn tables() -> BTreeMap<String, Table> {
    let mut out = BTreeMap::new();
    let scripts = std::iter::once(CREATE_MIGRATIONS_TABLE).chain(MIGRATIONS.iter().map(|m| m.2));
    for script in scripts {
        for statement in split_statements(script).unwrap() {
            let Some(rest) = statement
                .strip_prefix("CREATE TABLE IF NOT EXISTS ")
                .or_else(|| statement.strip_prefix("CREATE TYPE IF NOT EXISTS "))
            else {
                continue;
            };
            let (name, body) = rest.split_once(" (").unwrap();
            let body = body.split(") WITH").next().unwrap();
            let mut table = Table::default();
            for part in split_top_level(body) {
                let part = part.trim();
                if let Some(key) = part.strip_prefix("PRIMARY KEY (") {
                    let key = key.strip_suffix(')').unwrap_or(key);
                    let partition = match key.strip_prefix('(') {
                        Some(inner) => inner.split(')').next().unwrap(),
                        None => key.split(',').next().unwrap(),
                    };
                    table.partition_key =
                        partition.split(',').map(|c| c.trim().to_owned()).collect();
                    continue;
                }
                let mut words = part.split_whitespace();
                let column = words.next().unwrap().to_owned();
                let kind = words.next().unwrap().to_owned();
                table.types.insert(column.clone(), kind);
                if part.ends_with("PRIMARY KEY") || part.contains(" PRIMARY KEY") {
                    table.partition_key = vec![column.clone()];
                }
                table.columns.insert(column);
            }
            out.insert(name.to_owned(), table);
        }
    }
    out
}

/// Splits at the commas outside parentheses and angle brackets.
fn split_top_level(body: &str) -> Vec<String> {
    let mut depth = 0i32;
    let mut parts = vec![String::new()];
    for c in body.trim_end_matches(')').chars() {
        match c {
            '(' | '<' => depth += 1,
            ')' | '>' => depth -= 1,
            ',' if depth == 0 => {
                parts.push(String::new());
                continue;
            }
            _ => {}
        }
        if let Some(last) = parts.last_mut() {
            last.push(c);
        }
    }
    parts
}

const KEYWORDS: &[&str] = &[
    "SELECT",
    "FROM",
    "WHERE",
    "AND",
    "INSERT",
    "INTO",
    "VALUES",
    "USING",
    "TIMESTAMP",
    "UPDATE",
    "SET",
    "DELETE",
    "ORDER",
    "BY",
    "ASC",
    "DESC",
];

/// The identifiers of a statement (words that are not keywords), in order.
fn identifiers(statement: &str) -> Vec<String> {
    statement
        .split(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
        .filter(|w| !w.is_empty() && !KEYWORDS.contains(w))
        .map(str::to_owned)
        .collect()
}

/// The table a statement reads or writes.
fn table_of(statement: &str) -> String {
    let words: Vec<&str> = statement.split_whitespace().collect();
    let at = words
        .iter()
        .position(|w| matches!(*w, "FROM" | "INTO" | "UPDATE"))
        .unwrap();
    words[at + 1].trim_end_matches('(').to_owned()
}

#[test]
fn the_migration_splits_into_its_statements() {
    let statements = split_statements(MIGRATIONS[0].2).unwrap();
    assert_eq!(statements.len(), 7, "{statements:#?}");
    assert!(statements.iter().all(|s| !s.contains("--")));
    assert!(
        statements.iter().all(|s| s.contains(" IF NOT EXISTS ")),
        "rerunnable"
    );
    assert!(statements[0].starts_with("CREATE TYPE IF NOT EXISTS attachment"));
    let tables = tables();
    let names: Vec<&str> = tables.keys().map(String::as_str).collect();
    assert_eq!(
        names,
        [
            "attachment",
            "channel_buckets",
            "message_edits",
            "message_nonces",
            "messages",
            "messages_by_id",
            "reactions",
            "schema_migrations"
        ]
    );
    assert_eq!(tables["messages"].partition_key, ["channel_id", "bucket"]);
    assert_eq!(tables["reactions"].partition_key, ["channel_id", "bucket"]);
    assert_eq!(tables["messages_by_id"].partition_key, ["message_id"]);
    assert_eq!(
        tables["message_nonces"].partition_key,
        ["channel_id", "author_id", "nonce"]
    );
    assert_eq!(tables["messages"].columns.len(), 12);
}

#[test]
fn versions_are_increasing_and_named_after_their_files() {
    for pair in MIGRATIONS.windows(2) {
        assert!(pair[0].0 < pair[1].0);
    }
    for (version, name, _) in MIGRATIONS {
        assert!(name.starts_with(&format!("{version:04}_")), "{name}");
    }
}

#[test]
fn every_statement_names_existing_columns() {
    let tables = tables();
    for statement in PREPARED {
        let table = table_of(statement);
        let Some(def) = tables.get(&table) else {
            panic!("{statement}: no table {table}");
        };
        for word in identifiers(statement) {
            assert!(
                word == table || def.columns.contains(&word),
                "{statement}: {word} is not a column of {table}"
            );
        }
    }
}

#[test]
fn every_where_restricts_the_whole_partition_key() {
    let tables = tables();
    for statement in PREPARED {
        let Some((_, condition)) = statement.split_once(" WHERE ") else {
            continue;
        };
        let def = &tables[&table_of(statement)];
        for key in &def.partition_key {
            assert!(
                condition.contains(&format!("{key} = ?")),
                "{statement}: the partition key column {key} is not bound by ="
            );
        }
    }
}

#[test]
fn inserts_bind_one_marker_per_column() {
    for statement in PREPARED.iter().filter(|s| s.starts_with("INSERT")) {
        let (columns, values) = statement.split_once(" VALUES ").unwrap();
        let columns = columns.split_once('(').unwrap().1;
        let listed = columns.matches(',').count() + 1;
        let values = values.split_once(')').unwrap().0;
        assert_eq!(values.matches('?').count(), listed, "{statement}");
    }
    // Every write is stamped with the event's offset.
    for statement in PREPARED
        .iter()
        .filter(|s| !s.starts_with("SELECT") && !s.contains("schema_migrations"))
    {
        assert!(statement.contains("USING TIMESTAMP ?"), "{statement}");
    }
}

#[test]
fn splitting_respects_strings_and_comments() {
    let script = "-- a comment; with a semicolon\n\
        CREATE TABLE t (a text); /* block; comment */ INSERT INTO t (a) VALUES ('x;''y  z');\n\
        // another; comment\n\
        INSERT INTO \"T;\" (a) VALUES ($$ -- not a comment; $$);;  ;\n\
        SELECT a FROM t -- trailing";
    assert_eq!(
        split_statements(script).unwrap(),
        [
            "CREATE TABLE t (a text)",
            "INSERT INTO t (a) VALUES ('x;''y  z')",
            "INSERT INTO \"T;\" (a) VALUES ($$ -- not a comment; $$)",
            "SELECT a FROM t",
        ]
    );
    assert!(split_statements("").unwrap().is_empty());
    assert!(split_statements("SELECT 'open").is_err());
    assert!(split_statements("/* open").is_err());
    assert!(split_statements("VALUES ($$ open").is_err());
}

#[test]
fn keyspace_creation_names_its_replication() {
    assert_eq!(
        create_keyspace("layer4", 3),
        "CREATE KEYSPACE IF NOT EXISTS layer4 WITH replication = \
         {'class': 'NetworkTopologyStrategy', 'replication_factor': 3}"
    );
}

/// `MessageRow`'s fields with the CQL type each decodes (`i64` is bigint, `String`
/// text, `Vec<AttachmentUdt>` the frozen list of the `attachment` type).
const MESSAGE_ROW: &[(&str, &str)] = &[
    ("channel_id", "bigint"),
    ("message_id", "bigint"),
    ("author_id", "bigint"),
    ("content", "text"),
    ("created_at", "bigint"),
    ("edited_at", "bigint"),
    ("deleted_at", "bigint"),
    ("reply_to", "bigint"),
    ("nonce", "text"),
    ("attachments", "frozen<list<frozen<attachment>>>"),
    ("event_offset", "bigint"),
];

/// `AttachmentUdt`'s fields and their CQL types.
const ATTACHMENT_UDT: &[(&str, &str)] = &[
    ("id", "bigint"),
    ("filename", "text"),
    ("content_type", "text"),
    ("size", "bigint"),
    ("url", "text"),
    ("width", "bigint"),
    ("height", "bigint"),
    ("thumbnail_url", "text"),
];

/// Compiles only while the lists above name every field of the row structs.
#[allow(dead_code)]
fn lists_are_exhaustive(
    row: super::super::rows::MessageRow,
    udt: super::super::rows::AttachmentUdt,
) {
    let super::super::rows::MessageRow {
        channel_id: _,
        message_id: _,
        author_id: _,
        content: _,
        created_at: _,
        edited_at: _,
        deleted_at: _,
        reply_to: _,
        nonce: _,
        attachments: _,
        event_offset: _,
    } = row;
    let super::super::rows::AttachmentUdt {
        id: _,
        filename: _,
        content_type: _,
        size: _,
        url: _,
        width: _,
        height: _,
        thumbnail_url: _,
    } = udt;
}

#[test]
fn the_row_structs_match_the_schema() {
    let tables = tables();
    for (name, list) in [("messages", MESSAGE_ROW), ("attachment", ATTACHMENT_UDT)] {
        let def = &tables[name];
        for (column, kind) in list {
            assert_eq!(
                def.types.get(*column).map(String::as_str),
                Some(*kind),
                "{name}.{column}"
            );
        }
    }
    assert_eq!(tables["attachment"].columns.len(), ATTACHMENT_UDT.len());
    // The selects decode into MessageRow by name: they list exactly its fields.
    for statement in [SELECT_MESSAGE, SELECT_AT_OR_BEFORE, SELECT_AFTER] {
        let listed = statement
            .strip_prefix("SELECT ")
            .and_then(|s| s.split(" FROM ").next())
            .unwrap();
        let listed: Vec<&str> = listed.split(", ").collect();
        let fields: Vec<&str> = MESSAGE_ROW.iter().map(|(c, _)| *c).collect();
        assert_eq!(listed, fields, "{statement}");
    }
}
