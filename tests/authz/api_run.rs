//! Runs the HTTP rows against a live node and checks each answer: the status, the
//! error code of the body, and, for every request that must not write, that the
//! database is the same before and after it. Also holds the coverage check: the
//! served OpenAPI document and the route table must list the same operations.

use std::collections::BTreeSet;

use serde_json::Value;

use crate::api::{matches_template, Access, Expect, Route, Row};
use crate::report::Report;
use crate::snapshot::Snapshot;
use crate::world::World;

const HTTP_METHODS: [&str; 8] = [
    "get", "put", "post", "delete", "patch", "head", "options", "trace",
];

/// Fails (into `report`) for every operation of the served document without a route
/// in the table, every route the document does not have, every row whose path is not
/// an instance of its template, and every route whose security in the document
/// disagrees with the table (public vs bearer).
pub async fn check_coverage(w: &World, routes: &[Route], rows: &[Row], report: &mut Report) {
    let doc: Value = w
        .node
        .http
        .get(w.node.api("/api/openapi.json"))
        .send()
        .await
        .expect("openapi request")
        .json()
        .await
        .expect("openapi json");
    let mut served = BTreeSet::new();
    let mut secured = BTreeSet::new();
    for (path, item) in doc["paths"].as_object().expect("paths object") {
        for method in HTTP_METHODS {
            if let Some(op) = item.get(method) {
                let key = (method.to_ascii_uppercase(), path.clone());
                let bearer = op["security"].as_array().is_some_and(|s| {
                    s.iter()
                        .any(|req| req.as_object().is_some_and(|r| !r.is_empty()))
                });
                if bearer {
                    secured.insert(key.clone());
                }
                served.insert(key);
            }
        }
    }
    let table: BTreeSet<(String, String)> = routes
        .iter()
        .map(|r| (r.method.to_owned(), r.template.to_owned()))
        .collect();
    let missing: Vec<String> = served
        .difference(&table)
        .map(|(m, p)| format!("{m} {p}"))
        .collect();
    let stale: Vec<String> = table
        .difference(&served)
        .map(|(m, p)| format!("{m} {p}"))
        .collect();
    report.record(
        "coverage".into(),
        if missing.is_empty() {
            Ok(())
        } else {
            Err(format!(
                "OpenAPI operations without a row: {}",
                missing.join(", ")
            ))
        },
    );
    report.record(
        "coverage".into(),
        if stale.is_empty() {
            Ok(())
        } else {
            Err(format!(
                "rows for operations the OpenAPI document lacks: {}",
                stale.join(", ")
            ))
        },
    );
    for route in routes {
        let key = (route.method.to_owned(), route.template.to_owned());
        let documented_bearer = secured.contains(&key);
        let verdict = match (route.access, documented_bearer) {
            (Access::Authenticated, false) if served.contains(&key) => {
                Err("needs a token, but the document declares no security".to_owned())
            }
            (Access::Public(_), true) => {
                Err("public, but the document declares bearer security".to_owned())
            }
            _ => Ok(()),
        };
        report.record(
            format!("{} {} security", route.method, route.template),
            verdict,
        );
    }
    for row in rows {
        let known = table.contains(&(row.method.to_owned(), row.template.to_owned()));
        let verdict = if !known {
            Err("row for an operation not in the route table".to_owned())
        } else if !matches_template(row.template, &row.path) {
            Err(format!("path {} is not an instance of it", row.path))
        } else {
            Ok(())
        };
        if verdict.is_err() {
            report.record(format!("{} {}", row.method, row.template), verdict);
        }
    }
}

/// Runs every row, in order, recording each verdict.
pub async fn run(w: &World, rows: &[Row], report: &mut Report) {
    let db = w.db();
    for row in rows {
        let before = Snapshot::take(&db);
        let (status, body) = send(w, row).await;
        let after = Snapshot::take(&db);
        let what = format!(
            "{} {} ({}) as {}",
            row.method,
            row.template,
            row.path,
            row.caller.label()
        );
        let verdict = judge(row.expect, status, &body, &before.diff(&after));
        println!(
            "{:<4} {what} -> {status} {}",
            if verdict.is_ok() { "ok" } else { "FAIL" },
            body["error"]["code"].as_str().unwrap_or("")
        );
        report.record(what, verdict);
    }
}

fn judge(expect: Expect, status: u16, body: &Value, diff: &str) -> Result<(), String> {
    let mut wrong = Vec::new();
    match expect {
        Expect::Refused(want_status, want_code) => {
            let code = body["error"]["code"].as_str().unwrap_or("<no error code>");
            if status != want_status || code != want_code {
                wrong.push(format!(
                    "expected {want_status} {want_code}, got {status} {code} (body {body})"
                ));
            }
            if !diff.is_empty() {
                wrong.push(format!("refused request changed storage: {diff}"));
            }
        }
        Expect::Allowed {
            status: want,
            writes,
        } => {
            if status != want {
                wrong.push(format!("expected {want}, got {status} (body {body})"));
            }
            if !writes && !diff.is_empty() {
                wrong.push(format!("read changed storage: {diff}"));
            }
        }
    }
    if wrong.is_empty() {
        Ok(())
    } else {
        Err(wrong.join("; "))
    }
}

/// Sends a row's request; the body is JSON when it parses, else `Null`.
async fn send(w: &World, row: &Row) -> (u16, Value) {
    let method = reqwest::Method::from_bytes(row.method.as_bytes()).expect("method");
    let mut req = w.node.http.request(method, w.node.api(&row.path));
    if let Some(header) = row.caller.header(&w.alice) {
        req = req.header(reqwest::header::AUTHORIZATION, header);
    }
    if let Some(body) = &row.body {
        req = req.json(body);
    }
    let res = req.send().await.expect("http request");
    let status = res.status().as_u16();
    let text = res.text().await.unwrap_or_default();
    (status, serde_json::from_str(&text).unwrap_or(Value::Null))
}
