//! Demo data for an empty store (`layer4 seed`, `layer4 dev --demo`): three users, a
//! public group, a DM and a few messages, made through the same chat operations as
//! real traffic (so offsets, receipts and events are all real).

use protocol::events::client::SendMessage;
use protocol::{ChannelId, UserId, Visibility};
use service::Chat;

/// The demo password of every demo user.
pub const DEMO_PASSWORD: &str = "password123";

/// Fills the store when it has no users; `false` when it was not empty.
pub async fn seed(chat: &Chat) -> anyhow::Result<bool> {
    if chat.store().count_users().await? > 0 {
        return Ok(false);
    }
    let mut ids = Vec::new();
    for (username, display) in [
        ("alice", "Alice Liddell"),
        ("bob", "Bob Builder"),
        ("carol", "Carol Danvers"),
    ] {
        let session = chat
            .register(username, DEMO_PASSWORD, Some(display))
            .await
            .map_err(|e| anyhow::anyhow!("seed user {username}: {}", e.message))?;
        ids.push(session.user.id);
    }
    let [alice, bob, carol] = [ids[0], ids[1], ids[2]];
    let general = chat
        .create_channel(alice, "general", Some(Visibility::Public), vec![bob, carol])
        .await
        .map_err(|e| anyhow::anyhow!("seed group: {}", e.message))?;
    let (dm, _) = chat
        .create_dm(alice, bob)
        .await
        .map_err(|e| anyhow::anyhow!("seed dm: {}", e.message))?;
    let script: [(UserId, ChannelId, &str); 5] = [
        (
            alice,
            general.id,
            "Welcome to Layer4! This is the public #general group.",
        ),
        (
            bob,
            general.id,
            "Hi all, the gateway speaks MessagePack and JSON.",
        ),
        (carol, general.id, "Offsets make reconnects lossless. Nice."),
        (alice, dm.id, "Bob, lunch at noon?"),
        (bob, dm.id, "Sure!"),
    ];
    for (author, channel_id, content) in script {
        chat.send_message(
            author,
            SendMessage {
                channel_id,
                content: content.to_owned(),
                nonce: None,
                reply_to: None,
                attachment_ids: None,
            },
        )
        .await
        .map_err(|e| anyhow::anyhow!("seed message: {}", e.message))?;
    }
    Ok(true)
}
