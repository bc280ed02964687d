//! Runs one request of an identified session against the chat service and turns the
//! outcome into a [`Reply`]. The only place where gateway events meet `service`.

use protocol::events::client::FetchMessages;
use protocol::events::server::{Ack, ErrorData, MessagesLoaded};
use protocol::events::{ClientEvent, ServerEvent};
use protocol::{ErrorCode, UserId};
use service::error::Fault;
use service::{Chat, ServiceError};
use storage::Page;

use crate::core::session::Reply;

/// Executes `event` for `user`. A failure becomes an `ERROR`: logged here, once, as
/// its fault says (backend and our faults; never the client's), and sent with the
/// message a client may read (opaque for our faults).
pub async fn handle(chat: &Chat, user: UserId, event: ClientEvent) -> Reply {
    match run(chat, user, event).await {
        Ok(reply) => reply,
        Err(err) => Reply::Error(error_data(err)),
    }
}

/// The `ERROR` data of a failed request, logging it as its fault says.
fn error_data(err: ServiceError) -> ErrorData {
    err.log();
    let message = match err.fault {
        Fault::Ours => service::error::INTERNAL_MESSAGE.to_owned(),
        _ => err.message,
    };
    ErrorData {
        code: err.code,
        message,
        retry_after_ms: err.retry_after_ms,
    }
}

async fn run(chat: &Chat, user: UserId, event: ClientEvent) -> Result<Reply, ServiceError> {
    let empty = || Reply::Ack(Box::default());
    Ok(match event {
        ClientEvent::SendMessage(req) => {
            let (message, event) = chat.send_message_encoded(user, req).await?;
            message_ack(message, event)
        }
        ClientEvent::EditMessage(req) => {
            let (message, event) = chat.edit_message_encoded(user, req).await?;
            message_ack(message, event)
        }
        ClientEvent::DeleteMessage(req) => {
            chat.delete_message(user, req).await?;
            empty()
        }
        ClientEvent::AddReaction(req) => {
            chat.add_reaction(user, req).await?;
            empty()
        }
        ClientEvent::RemoveReaction(req) => {
            chat.remove_reaction(user, req).await?;
            empty()
        }
        ClientEvent::StartTyping(req) => {
            chat.typing(user, req.channel_id, true).await?;
            empty()
        }
        ClientEvent::StopTyping(req) => {
            chat.typing(user, req.channel_id, false).await?;
            empty()
        }
        ClientEvent::FetchMessages(req) => {
            let (page, limit) = page_of(&req)?;
            let messages = chat
                .fetch_messages(user, req.channel_id, page, limit)
                .await?;
            Reply::Event(ServerEvent::MessagesLoaded(Box::new(MessagesLoaded {
                channel_id: req.channel_id,
                messages,
            })))
        }
        ClientEvent::JoinChannel(req) => {
            let channel = chat.join_channel(user, req.channel_id).await?;
            Reply::Ack(Box::new(Ack {
                message: None,
                channel: Some(channel),
            }))
        }
        ClientEvent::LeaveChannel(req) => {
            chat.leave_channel(user, req.channel_id).await?;
            empty()
        }
        ClientEvent::MarkAsRead(req) => {
            chat.mark_read(user, req).await?;
            empty()
        }
        ClientEvent::SetStatus(req) => {
            chat.presence().set_status(user, req.status).await;
            empty()
        }
        // The session answers these itself; they never reach a handler.
        ClientEvent::Identify(_) | ClientEvent::Ping(_) => {
            return Err(ServiceError::new(
                ErrorCode::BadRequest,
                "unexpected event".to_owned(),
            ))
        }
    })
}

/// The `ACK` of a send or an edit: from the event already encoded for the channel when
/// there is one (its `d` is the ACK's), else encoded by the session.
fn message_ack(message: protocol::Message, event: Option<bytes::Bytes>) -> Reply {
    let ack = Box::new(Ack {
        message: Some(message),
        channel: None,
    });
    match event {
        Some(event) => Reply::AckFrom { ack, event },
        None => Reply::Ack(ack),
    }
}

/// The page and limit of a FETCH_MESSAGES (PROTOCOL.md section 6), with the same
/// validators as the API's history route.
fn page_of(req: &FetchMessages) -> Result<(Page, u32), ServiceError> {
    let limit = protocol::limits::validate_fetch_limit(req.limit)?;
    let cursor = protocol::limits::validate_cursors(req.before, req.after, req.around)?;
    Ok((cursor.into(), limit))
}

#[cfg(test)]
mod tests {
    use protocol::{ChannelId, MessageId};

    use super::*;

    fn fetch(before: Option<u64>, after: Option<u64>, limit: Option<u32>) -> FetchMessages {
        FetchMessages {
            channel_id: ChannelId::new(1),
            before: before.map(MessageId::new),
            after: after.map(MessageId::new),
            around: None,
            limit,
        }
    }

    /// What an `ERROR` carries of each fault kind: the client's message, a backend's
    /// generic reason, ours opaque; storage's text never.
    #[test]
    fn error_frames_follow_the_fault() {
        let secret = "database disk image is malformed";
        let data = error_data(ServiceError::bad_request("content", "must not be blank"));
        assert_eq!(
            (data.code, data.message.as_str()),
            (ErrorCode::BadRequest, "content: must not be blank")
        );
        let data = error_data(ServiceError::rate_limited(700));
        assert_eq!(
            (data.code, data.retry_after_ms),
            (ErrorCode::RateLimited, Some(700))
        );
        let err = ServiceError::from(storage::StoreError::Unavailable(secret.into()));
        let data = error_data(err.clone());
        assert_eq!(
            (data.code, data.message.as_str()),
            (ErrorCode::Unavailable, "storage unavailable")
        );
        assert!(!err.log(), "logged once, where it became the ERROR");
        let err = ServiceError::from(storage::StoreError::Internal(secret.into()));
        let data = error_data(err.clone());
        assert_eq!(
            (data.code, data.message.as_str()),
            (ErrorCode::Internal, "internal error")
        );
        assert!(!err.log());
    }

    #[test]
    fn pagination_rules() {
        assert_eq!(
            page_of(&fetch(None, None, None)).unwrap(),
            (Page::Latest, 50)
        );
        assert_eq!(
            page_of(&fetch(Some(5), None, Some(100))).unwrap(),
            (Page::Before(MessageId::new(5)), 100)
        );
        for bad in [
            fetch(Some(1), Some(2), None),
            fetch(None, None, Some(0)),
            fetch(None, None, Some(101)),
        ] {
            assert_eq!(page_of(&bad).unwrap_err().code, ErrorCode::BadRequest);
        }
    }
}
