//! The cast of the matrix: one node, users in every relation to the channels, and the
//! channels and messages they act on. Built once per test function and reused by every
//! row, so the whole matrix costs a handful of registrations.
//!
//! | who   | private group `private` | public group `public` | DM `dm` (dave, erin) |
//! |-------|-------------------------|-----------------------|----------------------|
//! | alice | owner, wrote `alice_private` | owner, wrote `alice_public` | - |
//! | ada   | admin                   | admin                 | -                    |
//! | bob   | member, wrote `bob_private` | member, wrote `bob_public` | -       |
//! | carol | not a member            | not a member          | not a member         |
//! | dave  | -                       | -                     | member; blocked erin; blocked by frank |
//! | erin  | -                       | -                     | member (wrote `dm_message` before the block) |
//!
//! `alice_private` carries `attachment`, alice's `photo.png` (an image, so it has a
//! thumbnail): downloads are public by id and filename (API.md), so everyone gets it.
//!
//! `lobby` is a second public group (alice's) that carol may join, so that the one
//! allowed write of the gateway matrix changes nothing the other rows rely on.

use std::path::PathBuf;

use protocol::events::client::SendMessage;
use protocol::{AttachmentId, ChannelId, UserId};
use reqwest::multipart::{Form, Part};
use serde_json::json;

use crate::common::{test_config, Node};
use crate::snapshot::Snapshot;

/// A user of the cast, with a token that works.
#[derive(Debug, Clone)]
pub struct Person {
    /// The user id.
    pub id: u64,
    /// A valid token.
    pub token: String,
}

/// The node and everyone and everything on it.
pub struct World {
    pub node: Node,
    pub alice: Person,
    pub ada: Person,
    pub bob: Person,
    pub carol: Person,
    pub dave: Person,
    pub erin: Person,
    pub frank: Person,
    pub private: u64,
    pub public: u64,
    pub lobby: u64,
    pub dm: u64,
    pub alice_private: u64,
    pub bob_private: u64,
    pub alice_public: u64,
    pub bob_public: u64,
    pub dm_message: u64,
    /// Alice's upload on `alice_private`, named [`ATTACHMENT_NAME`].
    pub attachment: u64,
}

/// The filename of [`World::attachment`].
pub const ATTACHMENT_NAME: &str = "photo.png";

/// Uploads a small PNG as `token`'s; the attachment id.
async fn upload_picture(node: &Node, token: &str) -> u64 {
    let mut png = std::io::Cursor::new(Vec::new());
    image::DynamicImage::ImageRgb8(image::RgbImage::new(8, 8))
        .write_to(&mut png, image::ImageFormat::Png)
        .expect("encode png");
    let form = Form::new().part(
        "file",
        Part::bytes(png.into_inner()).file_name(ATTACHMENT_NAME),
    );
    let res = node
        .http
        .post(node.api("/api/chat/media/upload"))
        .bearer_auth(token)
        .multipart(form)
        .send()
        .await
        .expect("upload");
    assert_eq!(res.status(), 201, "upload");
    let body: serde_json::Value = res.json().await.expect("upload body");
    assert_eq!(body["attachment"]["filename"], ATTACHMENT_NAME);
    crate::common::id(&body["attachment"]["id"])
}

impl World {
    /// Starts a node (per-user rate limit out of the way: this matrix is not about
    /// 429) and builds the cast.
    pub async fn build() -> World {
        let mut config = test_config();
        config.api.per_user_per_sec = 100_000;
        // The world snapshots the SQLite file around every refused request.
        let node = Node::start_sqlite_with(config).await;
        let mut people = Vec::new();
        for name in ["alice", "ada", "bob", "carol", "dave", "erin", "frank"] {
            let (id, token) = node.register(name).await;
            people.push(Person { id, token });
        }
        let [alice, ada, bob, carol, dave, erin, frank] =
            <[Person; 7]>::try_from(people).expect("seven people");

        let private = node
            .group(&alice.token, "private", false, &[ada.id, bob.id])
            .await;
        let public = node
            .group(&alice.token, "public", true, &[ada.id, bob.id])
            .await;
        let lobby = node.group(&alice.token, "lobby", true, &[]).await;
        let (status, body) = node
            .call(
                "POST",
                "/api/chat/dm/create",
                &dave.token,
                Some(json!({"user_id": erin.id.to_string()})),
            )
            .await;
        assert_eq!(status, 201, "dm: {body}");
        let dm = crate::common::id(&body["channel"]["id"]);

        let attachment = upload_picture(&node, &alice.token).await;
        let chat = &node.stack.chat;
        let send = |user: u64, channel: u64, content: &'static str, attachments: &[u64]| {
            let attachment_ids = (!attachments.is_empty())
                .then(|| attachments.iter().copied().map(AttachmentId::new).collect());
            async move {
                chat.send_message(
                    UserId::new(user),
                    SendMessage {
                        channel_id: ChannelId::new(channel),
                        content: content.to_owned(),
                        nonce: None,
                        reply_to: None,
                        attachment_ids,
                    },
                )
                .await
                .expect("setup message")
                .id
                .get()
            }
        };
        let alice_private = send(alice.id, private, "alice in private", &[attachment]).await;
        let bob_private = send(bob.id, private, "bob in private", &[]).await;
        let alice_public = send(alice.id, public, "alice in public", &[]).await;
        let bob_public = send(bob.id, public, "bob in public", &[]).await;
        let dm_message = send(erin.id, dm, "erin to dave", &[]).await;

        // Blocks come after the DM and its message: the DM exists, and is now closed.
        for (blocker, blocked) in [(&dave, &erin), (&frank, &dave)] {
            let (status, body) = node
                .call(
                    "PUT",
                    &format!("/api/chat/users/{}/block", blocked.id),
                    &blocker.token,
                    None,
                )
                .await;
            assert_eq!(status, 204, "block: {body}");
        }

        let world = World {
            node,
            alice,
            ada,
            bob,
            carol,
            dave,
            erin,
            frank,
            private,
            public,
            lobby,
            dm,
            alice_private,
            bob_private,
            alice_public,
            bob_public,
            dm_message,
            attachment,
        };
        world.promote_to_admin(&[world.private, world.public], world.ada.id);
        // The snapshot must see the tables the refusals could touch, or "unchanged"
        // would prove nothing.
        let snapshot = Snapshot::take(&world.db());
        let tables: Vec<&str> = snapshot.table_names().collect();
        for table in [
            "users",
            "channels",
            "members",
            "messages",
            "message_edits",
            "reactions",
            "receipts",
            "blocks",
            "mutes",
        ] {
            assert!(
                tables.contains(&table),
                "snapshot lacks {table}: {tables:?}"
            );
        }
        world
    }

    /// The database file of the node.
    pub fn db(&self) -> PathBuf {
        self.node.dir.path().join("layer4.db")
    }

    /// No route or event grants the admin role (API.md has none), so the fixture
    /// writes it: the only write this test makes behind the service's back.
    fn promote_to_admin(&self, channels: &[u64], user: u64) {
        let conn = rusqlite::Connection::open(self.db()).expect("open the database");
        conn.busy_timeout(std::time::Duration::from_secs(5))
            .expect("busy timeout");
        for channel in channels {
            let changed = conn
                .execute(
                    "UPDATE members SET role = 'admin' WHERE channel_id = ?1 AND user_id = ?2",
                    [*channel as i64, user as i64],
                )
                .expect("promote");
            assert_eq!(changed, 1, "admin of {channel}");
        }
    }
}
