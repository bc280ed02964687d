//! A logical snapshot of the node's SQLite database, to prove that a refused request
//! changed nothing: every row of every user table, read through a read-only
//! connection of our own (WAL lets it read beside the node's writer).
//!
//! Left out: `schema_migrations`, SQLite's own tables, and full-text tables (the
//! virtual table and its `<name>_*` shadow tables), which mirror `messages`.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::Path;

use rusqlite::types::ValueRef;
use rusqlite::{Connection, OpenFlags};

/// Every row of every user table, rows rendered as text and sorted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Snapshot {
    tables: BTreeMap<String, Vec<String>>,
}

impl Snapshot {
    /// Reads the database at `path`.
    pub fn take(path: &Path) -> Snapshot {
        let conn = Connection::open_with_flags(
            path,
            OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )
        .expect("open the database read-only");
        let mut tables = BTreeMap::new();
        for name in user_tables(&conn) {
            let mut stmt = conn
                .prepare(&format!("SELECT * FROM \"{name}\""))
                .expect("prepare table dump");
            let columns = stmt.column_count();
            let mut rows: Vec<String> = stmt
                .query_map([], |row| {
                    let mut line = String::new();
                    for i in 0..columns {
                        if i > 0 {
                            line.push('|');
                        }
                        render(&mut line, row.get_ref(i)?);
                    }
                    Ok(line)
                })
                .expect("dump table")
                .collect::<Result<_, _>>()
                .expect("read rows");
            rows.sort();
            tables.insert(name, rows);
        }
        Snapshot { tables }
    }

    /// The tables this snapshot holds.
    pub fn table_names(&self) -> impl Iterator<Item = &str> {
        self.tables.keys().map(String::as_str)
    }

    /// What changed from `self` to `after`, one line per added or removed row (at most
    /// a few per table); empty when nothing did.
    pub fn diff(&self, after: &Snapshot) -> String {
        let mut out = String::new();
        let names: std::collections::BTreeSet<&String> =
            self.tables.keys().chain(after.tables.keys()).collect();
        for name in names {
            let empty = Vec::new();
            let before_rows = self.tables.get(name).unwrap_or(&empty);
            let after_rows = after.tables.get(name).unwrap_or(&empty);
            if before_rows == after_rows {
                continue;
            }
            let removed = before_rows.iter().filter(|r| !after_rows.contains(r));
            let added = after_rows.iter().filter(|r| !before_rows.contains(r));
            for (sign, row) in removed
                .map(|r| ('-', r))
                .chain(added.map(|r| ('+', r)))
                .take(6)
            {
                let _ = write!(out, "{name}: {sign}[{row}]; ");
            }
        }
        out
    }
}

/// The tables to compare, by name.
fn user_tables(conn: &Connection) -> Vec<String> {
    let mut stmt = conn
        .prepare("SELECT name, COALESCE(sql, '') FROM sqlite_master WHERE type = 'table'")
        .expect("list tables");
    let all: Vec<(String, String)> = stmt
        .query_map([], |row| Ok((row.get(0)?, row.get(1)?)))
        .expect("list tables")
        .collect::<Result<_, _>>()
        .expect("read table names");
    let virtual_tables: Vec<&str> = all
        .iter()
        .filter(|(_, sql)| sql.to_ascii_uppercase().starts_with("CREATE VIRTUAL TABLE"))
        .map(|(name, _)| name.as_str())
        .collect();
    all.iter()
        .map(|(name, _)| name)
        .filter(|name| {
            !name.starts_with("sqlite_")
                && name.as_str() != "schema_migrations"
                && !virtual_tables
                    .iter()
                    .any(|v| name.as_str() == *v || name.starts_with(&format!("{v}_")))
        })
        .cloned()
        .collect()
}

fn render(out: &mut String, value: ValueRef<'_>) {
    let _ = match value {
        ValueRef::Null => write!(out, "NULL"),
        ValueRef::Integer(i) => write!(out, "{i}"),
        ValueRef::Real(f) => write!(out, "{f}"),
        ValueRef::Text(t) => write!(out, "{:?}", String::from_utf8_lossy(t)),
        ValueRef::Blob(b) => {
            let mut hex = String::with_capacity(b.len() * 2);
            for byte in b {
                let _ = write!(hex, "{byte:02x}");
            }
            write!(out, "x'{hex}'")
        }
    };
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sees_rows_skips_fts_and_migrations_and_reports_changes() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.db");
        let conn = Connection::open(&path).unwrap();
        conn.execute_batch(
            "PRAGMA journal_mode = WAL;
             CREATE TABLE schema_migrations (version INTEGER);
             CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT, pic BLOB, score REAL);
             CREATE VIRTUAL TABLE users_fts USING fts5 (name);
             INSERT INTO users VALUES (1, 'ada', x'00ff', 1.5);
             INSERT INTO users_fts (name) VALUES ('ada');
             INSERT INTO schema_migrations VALUES (1);",
        )
        .unwrap();
        let before = Snapshot::take(&path);
        assert_eq!(before.table_names().collect::<Vec<_>>(), ["users"]);
        conn.execute_batch(
            "INSERT INTO users_fts (name) VALUES ('bob'); INSERT INTO schema_migrations VALUES (2);",
        )
        .unwrap();
        assert_eq!(before.diff(&Snapshot::take(&path)), "");
        conn.execute("UPDATE users SET name = 'bob'", []).unwrap();
        let diff = before.diff(&Snapshot::take(&path));
        assert!(diff.contains(r#"users: -[1|"ada"|x'00ff'|1.5]"#), "{diff}");
        assert!(diff.contains(r#"users: +[1|"bob"|x'00ff'|1.5]"#), "{diff}");
    }
}
