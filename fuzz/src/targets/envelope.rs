//! `envelope_msgpack` and `envelope_json`: arbitrary bytes into
//! [`codec::decode_client`] and [`codec::decode_server`].
//!
//! Checks: nothing panics; an error knows what the gateway does about it (a malformed
//! envelope closes with 4002 and has no request id, anything else is answered with an
//! `ERROR`); a frame that decodes is encoded again (in the same encoding and in the
//! other one) and decodes to the same frame, and encoding is deterministic, so the
//! re-encoded bytes encode to themselves.

use protocol::codec::{self, DecodeError, Encoding};
use protocol::events::{ClientEvent, Frame, ServerEvent};
use protocol::CloseCode;

/// Runs one input in `enc`.
pub fn run(data: &[u8], enc: Encoding) {
    match codec::decode_client(data, enc) {
        Ok(frame) => client_round_trip(&frame, enc),
        Err(e) => check_error(&e),
    }
    match codec::decode_server(data, enc) {
        Ok(frame) => server_round_trip(&frame, enc),
        Err(e) => check_error(&e),
    }
}

fn other(enc: Encoding) -> Encoding {
    match enc {
        Encoding::MsgPack => Encoding::Json,
        Encoding::Json => Encoding::MsgPack,
    }
}

fn client_round_trip(frame: &Frame<ClientEvent>, enc: Encoding) {
    for enc in [enc, other(enc)] {
        let mut bytes = Vec::new();
        codec::encode_client(frame, enc, &mut bytes);
        let again = codec::decode_client(&bytes, enc)
            .unwrap_or_else(|e| panic!("{enc}: re-encoded {frame:?} does not decode: {e}"));
        assert_eq!(&again, frame, "{enc}: round trip changed the frame");
        let mut twice = Vec::new();
        codec::encode_client(&again, enc, &mut twice);
        assert_eq!(bytes, twice, "{enc}: encoding is not deterministic");
    }
}

fn server_round_trip(frame: &Frame<ServerEvent>, enc: Encoding) {
    for enc in [enc, other(enc)] {
        let mut bytes = Vec::new();
        codec::encode_server(&frame.event, frame.id, frame.s, enc, &mut bytes);
        let again = codec::decode_server(&bytes, enc)
            .unwrap_or_else(|e| panic!("{enc}: re-encoded {frame:?} does not decode: {e}"));
        assert_eq!(&again, frame, "{enc}: round trip changed the frame");
        let mut twice = Vec::new();
        codec::encode_server(&again.event, again.id, again.s, enc, &mut twice);
        assert_eq!(bytes, twice, "{enc}: encoding is not deterministic");
    }
}

fn check_error(e: &DecodeError) {
    let text = e.to_string();
    assert!(!text.is_empty());
    match e {
        DecodeError::Malformed(_) => {
            assert_eq!(e.close_code(), Some(CloseCode::DecodeError));
            assert_eq!(e.request_id(), None);
            assert_eq!(e.error_data(), None);
        }
        _ => {
            assert_eq!(e.close_code(), None, "{e:?}");
            let data = e.error_data().expect("answered with ERROR");
            assert_eq!(data.message, text);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_envelopes() {
        run(br#"{"t":"PING","d":{},"id":7}"#, Encoding::Json);
        run(br#"{"t":"PONG","d":{}}"#, Encoding::Json);
        run(br#"{"t":"NOPE","d":{}}"#, Encoding::Json);
        run(
            br#"{"t":"SEND_MESSAGE","d":{"channel_id":"12","content":"hi"}}"#,
            Encoding::Json,
        );
        run(b"[1,2", Encoding::Json);
    }

    #[test]
    fn msgpack_envelopes() {
        // {"t": "PING", "d": {}}
        run(
            &[
                0x82, 0xa1, b't', 0xa4, b'P', b'I', b'N', b'G', 0xa1, b'd', 0x80,
            ],
            Encoding::MsgPack,
        );
        run(&[0xc1], Encoding::MsgPack);
        run(&[], Encoding::MsgPack);
    }
}
