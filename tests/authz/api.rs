//! The HTTP half of the matrix: the [`Row`]s that try each [`Route`] of the table as
//! every kind of caller that applies, each with the exact answer API.md requires.

use serde_json::{json, Value};

pub use crate::api_routes::{routes, Access, Route};
use crate::tokens::BadToken;
use crate::world::{Person, World, ATTACHMENT_NAME};

/// The caller of a row.
#[derive(Debug, Clone)]
pub enum Caller {
    /// No valid identity.
    Bad(BadToken),
    /// A member of the cast.
    User(&'static str, String),
}

impl Caller {
    fn user(name: &'static str, person: &Person) -> Caller {
        Caller::User(name, person.token.clone())
    }

    /// The `Authorization` header this caller sends (`victim`: the user forged tokens
    /// claim to be).
    pub fn header(&self, victim: &Person) -> Option<String> {
        match self {
            Caller::Bad(kind) => kind.header(victim.id, &victim.token),
            Caller::User(_, token) => Some(format!("Bearer {token}")),
        }
    }

    /// A short name for reports.
    pub fn label(&self) -> String {
        match self {
            Caller::Bad(kind) => format!("{kind:?}"),
            Caller::User(name, _) => (*name).to_owned(),
        }
    }
}

/// What a row must answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Expect {
    /// Refused with this status and error code; storage unchanged.
    Refused(u16, &'static str),
    /// Allowed with this status; `writes`: the request may change storage.
    Allowed { status: u16, writes: bool },
}

/// One request of the matrix.
#[derive(Debug, Clone)]
pub struct Row {
    pub method: &'static str,
    pub template: &'static str,
    pub path: String,
    pub body: Option<Value>,
    pub caller: Caller,
    pub expect: Expect,
}

/// Every row: the generated ones (each public route with and without a token, each
/// authenticated route as every bad caller) and the per-relation ones below.
pub fn rows(w: &World) -> Vec<Row> {
    let mut rows = Vec::new();
    for route in routes(w) {
        match route.access {
            Access::Public(status) => {
                let writes = route.template == "/api/auth/register";
                for (i, caller) in [BadToken::Missing, BadToken::Malformed]
                    .into_iter()
                    .enumerate()
                {
                    let mut body = route.body.clone();
                    if writes {
                        // A fresh username each time: the point is the token, not 409.
                        body = Some(
                            json!({"username": format!("newcomer{i}"), "password": "correct horse"}),
                        );
                    }
                    rows.push(Row {
                        method: route.method,
                        template: route.template,
                        path: route.path.clone(),
                        body,
                        caller: Caller::Bad(caller),
                        expect: Expect::Allowed { status, writes },
                    });
                }
            }
            Access::Authenticated => {
                for kind in BadToken::ALL {
                    rows.push(Row {
                        method: route.method,
                        template: route.template,
                        path: route.path.clone(),
                        body: route.body.clone(),
                        caller: Caller::Bad(kind),
                        expect: Expect::Refused(401, "UNAUTHORIZED"),
                    });
                }
            }
        }
    }
    non_members(w, &mut rows);
    roles(w, &mut rows);
    blocked(w, &mut rows);
    rows
}

/// A row for `template` as `who` on `id` (and `user` for `{user_id}`).
struct On<'a> {
    w: &'a World,
}

impl On<'_> {
    fn row(
        &self,
        method: &'static str,
        template: &'static str,
        ids: (u64, u64),
        who: Caller,
        expect: Expect,
    ) -> Row {
        let path = template
            .replace("{id}", &ids.0.to_string())
            .replace("{user_id}", &ids.1.to_string());
        let body = match (method, template) {
            ("PATCH", _) => Some(json!({"name": "taken over"})),
            ("PUT", _) => Some(json!({})),
            ("POST", "/api/chat/channels/{id}/members") => {
                Some(json!({"user_ids": [self.w.frank.id.to_string()]}))
            }
            ("POST", "/api/chat/messages/{id}/thread") => Some(json!({"name": "side talk"})),
            _ => None,
        };
        Row {
            method,
            template,
            path,
            body,
            caller: who,
            expect,
        }
    }
}

const CHANNEL_ROUTES: [(&str, &str); 10] = [
    ("GET", "/api/chat/channels/{id}"),
    ("PATCH", "/api/chat/channels/{id}"),
    ("DELETE", "/api/chat/channels/{id}"),
    ("GET", "/api/chat/channels/{id}/members"),
    ("POST", "/api/chat/channels/{id}/members"),
    ("DELETE", "/api/chat/channels/{id}/members/{user_id}"),
    ("GET", "/api/chat/channels/{id}/messages"),
    ("GET", "/api/chat/channels/{id}/receipts"),
    ("PUT", "/api/chat/channels/{id}/mute"),
    ("DELETE", "/api/chat/channels/{id}/mute"),
];

const MESSAGE_ROUTES: [(&str, &str); 2] = [
    ("GET", "/api/chat/messages/{id}/edits"),
    ("POST", "/api/chat/messages/{id}/thread"),
];

/// Carol, a member of nothing: private groups and DMs do not exist for her (404);
/// the public group is visible as an object (200) and closed for everything else (403).
/// A private channel's file is hers to download all the same: downloads are public by
/// id and filename (API.md; the weakness is in docs/security.md).
fn non_members(w: &World, rows: &mut Vec<Row>) {
    let on = On { w };
    let carol = || Caller::user("carol (non-member)", &w.carol);
    for (template, path) in [
        (
            "/media/{id}/{filename}",
            format!("/media/{}/{ATTACHMENT_NAME}", w.attachment),
        ),
        (
            "/media/{id}/thumbnail",
            format!("/media/{}/thumbnail", w.attachment),
        ),
    ] {
        rows.push(Row {
            method: "GET",
            template,
            path,
            body: None,
            caller: carol(),
            expect: Expect::Allowed {
                status: 200,
                writes: false,
            },
        });
    }
    for (method, template) in CHANNEL_ROUTES {
        for (channel, target) in [(w.private, w.bob.id), (w.dm, w.erin.id)] {
            rows.push(on.row(
                method,
                template,
                (channel, target),
                carol(),
                Expect::Refused(404, "NOT_FOUND"),
            ));
        }
        let public = if (method, template) == ("GET", "/api/chat/channels/{id}") {
            Expect::Allowed {
                status: 200,
                writes: false,
            }
        } else {
            Expect::Refused(403, "FORBIDDEN")
        };
        rows.push(on.row(method, template, (w.public, w.bob.id), carol(), public));
    }
    // Search names a channel in its query: one she cannot see is 404, the public one
    // she is not in 403.
    for (channel, expect) in [
        (w.private, Expect::Refused(404, "NOT_FOUND")),
        (w.dm, Expect::Refused(404, "NOT_FOUND")),
        (w.public, Expect::Refused(403, "FORBIDDEN")),
    ] {
        rows.push(Row {
            method: "GET",
            template: "/api/chat/search",
            path: format!("/api/chat/search?q=a&channel_id={channel}"),
            body: None,
            caller: carol(),
            expect,
        });
    }
    for (method, template) in MESSAGE_ROUTES {
        for message in [w.alice_private, w.dm_message] {
            rows.push(on.row(
                method,
                template,
                (message, 0),
                carol(),
                Expect::Refused(404, "NOT_FOUND"),
            ));
        }
        rows.push(on.row(
            method,
            template,
            (w.alice_public, 0),
            carol(),
            Expect::Refused(403, "FORBIDDEN"),
        ));
    }
}

/// Members without the role the action needs: bob (member) cannot manage; ada (admin)
/// cannot delete the channel or remove its owner; a DM cannot be managed at all. Plus
/// reads a plain member may do, so the refusals are not a blanket "no".
fn roles(w: &World, rows: &mut Vec<Row>) {
    let on = On { w };
    let forbidden = Expect::Refused(403, "FORBIDDEN");
    let read = Expect::Allowed {
        status: 200,
        writes: false,
    };
    for channel in [w.private, w.public] {
        let bob = || Caller::user("bob (member)", &w.bob);
        let ada = || Caller::user("ada (admin)", &w.ada);
        for (method, template, target) in [
            ("PATCH", "/api/chat/channels/{id}", 0),
            ("DELETE", "/api/chat/channels/{id}", 0),
            ("POST", "/api/chat/channels/{id}/members", 0),
            (
                "DELETE",
                "/api/chat/channels/{id}/members/{user_id}",
                w.ada.id,
            ),
            (
                "DELETE",
                "/api/chat/channels/{id}/members/{user_id}",
                w.alice.id,
            ),
        ] {
            rows.push(on.row(method, template, (channel, target), bob(), forbidden));
        }
        for (method, template, target) in [
            ("DELETE", "/api/chat/channels/{id}", 0),
            (
                "DELETE",
                "/api/chat/channels/{id}/members/{user_id}",
                w.alice.id,
            ),
        ] {
            rows.push(on.row(method, template, (channel, target), ada(), forbidden));
        }
        for (method, template) in [
            ("GET", "/api/chat/channels/{id}"),
            ("GET", "/api/chat/channels/{id}/members"),
            ("GET", "/api/chat/channels/{id}/messages"),
            ("GET", "/api/chat/channels/{id}/receipts"),
        ] {
            rows.push(on.row(method, template, (channel, 0), bob(), read));
        }
    }
    for (method, template, target) in [
        ("PATCH", "/api/chat/channels/{id}", 0),
        ("DELETE", "/api/chat/channels/{id}", 0),
        ("POST", "/api/chat/channels/{id}/members", 0),
        (
            "DELETE",
            "/api/chat/channels/{id}/members/{user_id}",
            w.erin.id,
        ),
    ] {
        let dave = Caller::user("dave (DM member)", &w.dave);
        rows.push(on.row(method, template, (w.dm, target), dave, forbidden));
    }
}

/// A DM between users where either blocked the other cannot be opened, whether it
/// exists already (dave and erin) or not (dave and frank), from either side.
fn blocked(w: &World, rows: &mut Vec<Row>) {
    for (name, from, to) in [
        ("dave (blocker)", &w.dave, &w.erin),
        ("erin (blocked)", &w.erin, &w.dave),
        ("dave (blocked)", &w.dave, &w.frank),
        ("frank (blocker)", &w.frank, &w.dave),
    ] {
        rows.push(Row {
            method: "POST",
            template: "/api/chat/dm/create",
            path: "/api/chat/dm/create".into(),
            body: Some(json!({"user_id": to.id.to_string()})),
            caller: Caller::user(name, from),
            expect: Expect::Refused(403, "BLOCKED"),
        });
    }
}

/// Whether `path` (query aside) is an instance of `template`.
pub fn matches_template(template: &str, path: &str) -> bool {
    let path = path.split('?').next().unwrap_or(path);
    let (t, p): (Vec<&str>, Vec<&str>) = (template.split('/').collect(), path.split('/').collect());
    t.len() == p.len()
        && t.iter().zip(&p).all(|(t, p)| {
            if t.starts_with('{') && t.ends_with('}') {
                !p.is_empty()
            } else {
                t == p
            }
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn templates_match_only_their_instances() {
        assert!(matches_template("/a/{id}/b", "/a/12/b"));
        assert!(matches_template("/a/{id}/b", "/a/12/b?q=1"));
        assert!(!matches_template("/a/{id}/b", "/a//b"));
        assert!(!matches_template("/a/{id}/b", "/a/12/c"));
        assert!(!matches_template("/a/{id}", "/a/12/b"));
    }
}
