//! Runs the gateway rows over real WebSocket connections: fresh connections for the
//! connection-level rows, one identified session per member of the cast for the rest.
//! Checks the close code or the reply (`t`, `ERROR.code`, the echoed `id`) and that
//! storage did not change.

use std::collections::HashMap;
use std::time::Duration;

use serde_json::{json, Value};

use crate::common::{Client, Enc, Frame};
use crate::gateway::{Caller, Expect, Row};
use crate::report::Report;
use crate::snapshot::Snapshot;
use crate::world::World;

/// How long a row waits for its answer.
const ANSWER: Duration = Duration::from_secs(3);

/// What came back for a row.
#[derive(Debug)]
enum Answer {
    /// The connection closed (with this code, if a close frame came); the events
    /// answered before it.
    Closed(Option<u16>, Vec<Value>),
    /// The reply carrying the request's id.
    Reply(Value),
    /// Nothing within [`ANSWER`].
    Silence,
}

/// Runs every row, in order, recording each verdict.
pub async fn run(w: &World, rows: &[Row], report: &mut Report) {
    let db = w.db();
    let mut sessions: HashMap<&'static str, Client> = HashMap::new();
    for (i, row) in rows.iter().enumerate() {
        let id = u32::try_from(i + 1).expect("row id");
        let envelope = json!({"t": row.event, "id": id, "d": row.d});
        let before = Snapshot::take(&db);
        let verdict = match &row.caller {
            Caller::Unidentified | Caller::Identify(_) => {
                let mut client = Client::connect(w.node.gateway_addr(), Enc::MsgPack).await;
                client.send(envelope).await;
                let answer = answer(&mut client, id).await;
                match (row.expect, answer) {
                    (Expect::ErrorStillUnidentified(code), Answer::Reply(reply)) => {
                        check_error(&reply, id, code).and(still_unidentified(client).await)
                    }
                    (expect, answer) => judge(expect, id, answer),
                }
            }
            Caller::User(name, token) => {
                let client = match sessions.remove(name) {
                    Some(client) => client,
                    None => Client::identify(w.node.gateway_addr(), token).await.0,
                };
                let mut client = client;
                client.send(envelope).await;
                let answer = answer(&mut client, id).await;
                if !matches!(answer, Answer::Closed(..)) {
                    sessions.insert(name, client);
                }
                judge(row.expect, id, answer)
            }
        };
        let diff = before.diff(&Snapshot::take(&db));
        let writes = matches!(row.expect, Expect::Reply { writes: true, .. });
        let verdict = match verdict {
            Ok(()) if !writes && !diff.is_empty() => {
                Err(format!("storage changed by a refused request: {diff}"))
            }
            other => other,
        };
        let what = format!("{} {} as {}", row.event, row.d, row.caller.label());
        println!("{:<4} {what}", if verdict.is_ok() { "ok" } else { "FAIL" });
        report.record(what, verdict);
    }
    for (_, client) in sessions {
        client.close().await;
    }
}

/// Reads until the reply with `id`, the close, or [`ANSWER`] passes. Events without
/// that id (channel events, presence) are skipped, but kept for a close's report.
async fn answer(client: &mut Client, id: u32) -> Answer {
    let mut seen = Vec::new();
    let deadline = tokio::time::Instant::now() + ANSWER;
    loop {
        match tokio::time::timeout_at(deadline, client.next_frame()).await {
            Err(_) => return Answer::Silence,
            Ok(Frame::Closed(code)) => return Answer::Closed(code, seen),
            Ok(Frame::Event(v)) if v["id"] == id => return Answer::Reply(v),
            Ok(Frame::Event(v)) => seen.push(v),
        }
    }
}

fn judge(expect: Expect, id: u32, answer: Answer) -> Result<(), String> {
    match (expect, answer) {
        (Expect::Close(want), Answer::Closed(code, seen)) => {
            if code != Some(want) {
                return Err(format!("expected close {want}, got close {code:?}"));
            }
            match seen.first() {
                None => Ok(()),
                Some(v) => Err(format!("answered {v} before closing {want}")),
            }
        }
        (Expect::Error(code) | Expect::ErrorStillUnidentified(code), Answer::Reply(reply)) => {
            check_error(&reply, id, code)
        }
        (Expect::Reply { t, .. }, Answer::Reply(reply)) => {
            if reply["t"] == t {
                Ok(())
            } else {
                Err(format!("expected {t} with id {id}, got {reply}"))
            }
        }
        (expect, Answer::Reply(reply)) => Err(format!("expected {expect:?}, got {reply}")),
        (expect, Answer::Closed(code, _)) => {
            Err(format!("expected {expect:?}, got close {code:?}"))
        }
        (expect, Answer::Silence) => Err(format!("expected {expect:?}, got nothing in {ANSWER:?}")),
    }
}

fn check_error(reply: &Value, id: u32, code: &str) -> Result<(), String> {
    if reply["t"] == "ERROR" && reply["d"]["code"] == code && reply["id"] == id {
        Ok(())
    } else {
        Err(format!("expected ERROR {code} with id {id}, got {reply}"))
    }
}

/// After a refused IDENTIFY, any other request must still close with 4003.
async fn still_unidentified(mut client: Client) -> Result<(), String> {
    client.send(json!({"t": "PING", "id": 1, "d": {}})).await;
    match answer(&mut client, 1).await {
        Answer::Closed(Some(4003), _) => Ok(()),
        other => Err(format!(
            "after the refused IDENTIFY, PING should close 4003; got {other:?}"
        )),
    }
}
