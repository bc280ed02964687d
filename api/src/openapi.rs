//! The OpenAPI 3 document, generated from the handlers' `#[utoipa::path]` attributes
//! (served at `GET /api/openapi.json`).

use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};

use crate::routes::{auth, channels, dm, media, messages, search, system, users};

/// The API's OpenAPI document.
#[derive(OpenApi)]
#[openapi(
    info(
        title = "Layer4 Chat API",
        version = "1",
        description = "Accounts, channels, DMs and history. Live events go through the gateway \
                       (PROTOCOL.md); every error is {\"error\": {\"code\", \"message\"}}."
    ),
    paths(
        system::healthz::healthz,
        system::readyz::readyz,
        system::metrics::metrics,
        system::openapi::openapi,
        auth::register::register,
        auth::login::login,
        users::me::me,
        users::update_me::update_me,
        users::search::search,
        users::blocked::blocked,
        users::block::block,
        users::unblock::unblock,
        channels::list::list,
        channels::create::create,
        channels::public::public,
        channels::get::get,
        channels::update::update,
        channels::delete::delete,
        channels::members::members,
        channels::add_members::add_members,
        channels::remove_member::remove_member,
        channels::messages::messages,
        channels::receipts::receipts,
        channels::mute::mute,
        channels::unmute::unmute,
        messages::edits::edits,
        messages::thread::thread,
        dm::create::create,
        media::upload::upload,
        media::download::download,
        media::thumbnail::thumbnail,
        search::messages::search,
    ),
    components(schemas(
        crate::error::ErrorBody,
        crate::error::ErrorDetail,
        crate::routes::search::messages::HasFilter
    )),
    modifiers(&BearerAuth),
    tags(
        (name = "auth", description = "Register and login"),
        (name = "users", description = "Profiles, search and blocks"),
        (name = "channels", description = "Groups, DMs, members, receipts and mutes"),
        (name = "messages", description = "History, edits, threads and search"),
        (name = "media", description = "Uploads and downloads"),
        (name = "system", description = "Health, readiness, metrics and this document"),
    )
)]
pub struct ApiDoc;

/// Declares the `bearer` security scheme the routes refer to.
struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("JWT")
                    .build(),
            ),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn document_lists_every_route_and_its_errors() {
        let doc = serde_json::to_value(ApiDoc::openapi()).unwrap();
        let paths = doc["paths"].as_object().unwrap();
        for (path, method) in [
            ("/api/auth/register", "post"),
            ("/api/auth/login", "post"),
            ("/api/users/me", "get"),
            ("/api/users/me", "patch"),
            ("/api/chat/channels/{id}/members/{user_id}", "delete"),
            ("/api/chat/dm/create", "post"),
            ("/readyz", "get"),
            ("/api/chat/media/upload", "post"),
            ("/media/{id}/{filename}", "get"),
            ("/media/{id}/thumbnail", "get"),
            ("/api/chat/search", "get"),
        ] {
            assert!(paths[path][method].is_object(), "{method} {path}");
        }
        assert_eq!(paths.len(), 25);
        let register = &paths["/api/auth/register"]["post"]["responses"];
        for status in ["201", "400", "409", "413", "415", "429", "500", "503"] {
            assert!(register[status].is_object(), "register {status}");
        }
        let get = &paths["/api/chat/channels/{id}"]["get"]["responses"];
        for status in ["200", "400", "401", "404", "429"] {
            assert!(get[status].is_object(), "get channel {status}");
        }
        let members = &paths["/api/chat/channels/{id}/members"]["get"];
        let params = members["parameters"].as_array().unwrap();
        let param = |name: &str| {
            params
                .iter()
                .find(|p| p["name"] == name)
                .map(|p| p["schema"].clone())
                .unwrap()
        };
        assert_eq!(param("id")["$ref"], "#/components/schemas/Id");
        assert_eq!(
            (
                param("limit")["minimum"].as_u64(),
                param("limit")["maximum"].as_u64()
            ),
            (Some(1), Some(100))
        );
        let responses = &members["responses"];
        assert!(responses["429"]["headers"]["Retry-After"].is_object());
        assert!(responses["401"]["headers"]["WWW-Authenticate"].is_object());
        assert!(register["429"]["headers"]["Retry-After"].is_object());
        for schema in [
            "User",
            "Channel",
            "Message",
            "Member",
            "ErrorBody",
            "Id",
            "Username",
            "Password",
            "DisplayName",
            "ChannelName",
        ] {
            assert!(doc["components"]["schemas"][schema].is_object(), "{schema}");
        }
        assert!(doc["components"]["schemas"]["Id"]["pattern"].is_string());
        assert!(doc["components"]["securitySchemes"]["bearer"].is_object());
    }

    /// The mirror schemas of `schema.rs` must name exactly the fields the protocol
    /// types serialize (with every optional field present).
    #[test]
    fn mirror_schemas_match_the_protocol_types() {
        use protocol::*;

        let user = User {
            id: UserId::new(1),
            username: "ada".into(),
            display_name: "Ada".into(),
            status: Some(UserStatus::Online),
        };
        let attachment = Attachment {
            id: AttachmentId::new(3),
            filename: "a.png".into(),
            content_type: "image/png".into(),
            size: 1,
            url: "/media/3/a.png".into(),
            width: Some(1),
            height: Some(1),
            thumbnail_url: Some("/media/3/thumbnail".into()),
        };
        let samples = [
            ("User", serde_json::to_value(&user).unwrap()),
            (
                "Channel",
                serde_json::to_value(Channel {
                    id: ChannelId::new(2),
                    kind: ChannelKind::Thread,
                    name: "t".into(),
                    visibility: Visibility::Public,
                    parent_id: Some(ChannelId::new(1)),
                    root_message_id: Some(MessageId::new(1)),
                    member_count: 1,
                    last_message_id: Some(MessageId::new(1)),
                    offset: 1,
                    last_read_message_id: Some(MessageId::new(1)),
                    unread_count: 0,
                    muted: true,
                    muted_until: Some(1),
                })
                .unwrap(),
            ),
            (
                "Message",
                serde_json::to_value(Message {
                    id: MessageId::new(4),
                    channel_id: ChannelId::new(2),
                    author: user.clone(),
                    content: "hi".into(),
                    created_at: 1,
                    edited_at: Some(2),
                    reply_to: Some(MessageId::new(1)),
                    attachments: vec![attachment.clone()],
                    reactions: vec![ReactionCount {
                        emoji: "x".into(),
                        count: 1,
                    }],
                    nonce: Some("n".into()),
                })
                .unwrap(),
            ),
            ("Attachment", serde_json::to_value(&attachment).unwrap()),
            (
                "Member",
                serde_json::to_value(Member {
                    user,
                    role: Role::Admin,
                })
                .unwrap(),
            ),
        ];
        let doc = serde_json::to_value(ApiDoc::openapi()).unwrap();
        for (name, sample) in samples {
            let mut real: Vec<&String> = sample.as_object().unwrap().keys().collect();
            let schema = &doc["components"]["schemas"][name]["properties"];
            let mut documented: Vec<&String> = schema.as_object().unwrap().keys().collect();
            real.sort();
            documented.sort();
            assert_eq!(real, documented, "{name}");
        }
    }
}
