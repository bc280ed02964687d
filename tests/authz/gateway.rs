//! The gateway half of the matrix: the rows that try every client event (the list is
//! `ClientEvent::NAMES`) as every kind of caller, each with the exact answer
//! PROTOCOL.md sections 4, 6 and 8 require: a close code for connection-level refusals,
//! `ERROR` with its code (and the echoed request `id`) for request-level ones.

use serde_json::{json, Value};

use crate::tokens::BadToken;
use crate::world::{Person, World};

/// The caller of a gateway row.
#[derive(Debug, Clone)]
pub enum Caller {
    /// A fresh connection that has not identified.
    Unidentified,
    /// A fresh connection whose `IDENTIFY` carries this token.
    Identify(BadToken),
    /// An identified session of a member of the cast.
    User(&'static str, String),
}

impl Caller {
    fn user(name: &'static str, person: &Person) -> Caller {
        Caller::User(name, person.token.clone())
    }

    /// A short name for reports.
    pub fn label(&self) -> String {
        match self {
            Caller::Unidentified => "not identified".to_owned(),
            Caller::Identify(kind) => format!("IDENTIFY with {kind:?}"),
            Caller::User(name, _) => (*name).to_owned(),
        }
    }
}

/// What a row must answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Expect {
    /// The connection closes with this code, nothing answered before; storage unchanged.
    Close(u16),
    /// `ERROR` with this code and the request's `id`; storage unchanged.
    Error(&'static str),
    /// `ERROR` with this code and the `id`, and the connection is still not
    /// identified afterwards (a `PING` then closes it with 4003).
    ErrorStillUnidentified(&'static str),
    /// This reply event (`ACK`, `PONG`, `MESSAGES_LOADED`) with the `id`; `writes`:
    /// the request may change storage.
    Reply { t: &'static str, writes: bool },
}

/// One request of the matrix.
#[derive(Debug, Clone)]
pub struct Row {
    pub event: &'static str,
    pub d: Value,
    pub caller: Caller,
    pub expect: Expect,
}

/// A `d` for `event` aimed at `channel` and `message`, well formed, so that a
/// refusal can only come from who is asking.
pub fn data(event: &str, channel: u64, message: u64) -> Value {
    match event {
        "SEND_MESSAGE" => json!({"channel_id": channel, "content": "intrusion"}),
        "EDIT_MESSAGE" => json!({"message_id": message, "content": "rewritten"}),
        "DELETE_MESSAGE" => json!({"message_id": message}),
        "ADD_REACTION" | "REMOVE_REACTION" => json!({"message_id": message, "emoji": "👍"}),
        "MARK_AS_READ" => json!({"channel_id": channel, "message_id": message}),
        "SET_STATUS" => json!({"status": "online"}),
        "PING" => json!({}),
        "IDENTIFY" => json!({"token": ""}),
        // START_TYPING, STOP_TYPING, FETCH_MESSAGES, JOIN_CHANNEL, LEAVE_CHANNEL, and
        // any event added later (which then fails for want of a row of its own).
        _ => json!({"channel_id": channel}),
    }
}

/// Events that act on a channel or a message the caller must be able to see.
const CHANNEL_EVENTS: [&str; 11] = [
    "SEND_MESSAGE",
    "EDIT_MESSAGE",
    "DELETE_MESSAGE",
    "ADD_REACTION",
    "REMOVE_REACTION",
    "START_TYPING",
    "STOP_TYPING",
    "FETCH_MESSAGES",
    "JOIN_CHANNEL",
    "LEAVE_CHANNEL",
    "MARK_AS_READ",
];

/// Every row, for the client events named in `names`.
pub fn rows(w: &World, names: &[&'static str]) -> Vec<Row> {
    let mut rows = Vec::new();
    // Connection level: nothing but IDENTIFY before IDENTIFY; IDENTIFY with a bad token.
    for &event in names.iter().filter(|&&n| n != "IDENTIFY") {
        rows.push(Row {
            event,
            d: data(event, w.public, w.alice_public),
            caller: Caller::Unidentified,
            expect: Expect::Close(4003),
        });
    }
    for kind in BadToken::GATEWAY {
        rows.push(Row {
            event: "IDENTIFY",
            d: json!({"token": kind.token(w.alice.id)}),
            caller: Caller::Identify(kind),
            expect: Expect::Close(4004),
        });
    }
    // No `token` key at all: docs/protocol.md chooses ERROR BAD_REQUEST (a malformed
    // `d`), and the connection must stay unidentified.
    rows.push(Row {
        event: "IDENTIFY",
        d: json!({"status": "online"}),
        caller: Caller::Unidentified,
        expect: Expect::ErrorStillUnidentified("BAD_REQUEST"),
    });

    let carol = || Caller::user("carol (non-member)", &w.carol);
    for event in CHANNEL_EVENTS {
        for (channel, message) in [(w.private, w.alice_private), (w.dm, w.dm_message)] {
            rows.push(Row {
                event,
                d: data(event, channel, message),
                caller: carol(),
                expect: Expect::Error("NOT_FOUND"),
            });
        }
        if event != "JOIN_CHANNEL" {
            rows.push(Row {
                event,
                d: data(event, w.public, w.alice_public),
                caller: carol(),
                expect: Expect::Error("FORBIDDEN"),
            });
        }
    }

    // Members without the right: editing is the author's alone (owner and admin
    // included); deleting another's message needs owner or admin.
    for (channel, alice_msg, bob_msg) in [
        (w.private, w.alice_private, w.bob_private),
        (w.public, w.alice_public, w.bob_public),
    ] {
        for (name, person, event, message) in [
            ("bob (member)", &w.bob, "EDIT_MESSAGE", alice_msg),
            ("bob (member)", &w.bob, "DELETE_MESSAGE", alice_msg),
            ("alice (owner)", &w.alice, "EDIT_MESSAGE", bob_msg),
            ("ada (admin)", &w.ada, "EDIT_MESSAGE", bob_msg),
        ] {
            rows.push(Row {
                event,
                d: data(event, channel, message),
                caller: Caller::user(name, person),
                expect: Expect::Error("FORBIDDEN"),
            });
        }
    }

    // A DM where one blocked the other: closed both ways.
    for (name, person) in [("dave (blocker)", &w.dave), ("erin (blocked)", &w.erin)] {
        rows.push(Row {
            event: "SEND_MESSAGE",
            d: data("SEND_MESSAGE", w.dm, 0),
            caller: Caller::user(name, person),
            expect: Expect::Error("BLOCKED"),
        });
    }

    // What is allowed, so the refusals above are not a blanket "no": a member reads,
    // anyone pings and sets a status, and a non-member joins a public group (last: it
    // is the one write).
    let read = |t| Expect::Reply { t, writes: false };
    rows.push(Row {
        event: "FETCH_MESSAGES",
        d: data("FETCH_MESSAGES", w.private, 0),
        caller: Caller::user("bob (member)", &w.bob),
        expect: read("MESSAGES_LOADED"),
    });
    for (event, t) in [("PING", "PONG"), ("SET_STATUS", "ACK")] {
        rows.push(Row {
            event,
            d: data(event, 0, 0),
            caller: carol(),
            expect: read(t),
        });
    }
    rows.push(Row {
        event: "JOIN_CHANNEL",
        d: data("JOIN_CHANNEL", w.lobby, 0),
        caller: carol(),
        expect: Expect::Reply {
            t: "ACK",
            writes: true,
        },
    });
    rows
}
