//! Every client and server event survives encode -> decode unchanged, in both
//! encodings, with and without a request id and an offset.

mod strategies;

use std::collections::HashSet;

use proptest::prelude::*;
use proptest::strategy::ValueTree;
use proptest::test_runner::TestRunner;
use protocol::codec::{decode_client, decode_server, encode_client, encode_server, Encoding};
use protocol::events::{ClientEvent, ServerEvent};

const ENCODINGS: [Encoding; 2] = [Encoding::MsgPack, Encoding::Json];

proptest! {
    #[test]
    fn client_frames_round_trip(frame in strategies::frame(strategies::client_event())) {
        for enc in ENCODINGS {
            let mut out = Vec::new();
            encode_client(&frame, enc, &mut out);
            let back = decode_client(&out, enc);
            prop_assert_eq!(back.as_ref(), Ok(&frame), "{:?}", enc);
        }
    }

    #[test]
    fn server_frames_round_trip(frame in strategies::frame(strategies::server_event())) {
        for enc in ENCODINGS {
            let mut out = Vec::new();
            encode_server(&frame.event, frame.id, frame.s, enc, &mut out);
            let back = decode_server(&out, enc);
            prop_assert_eq!(back.as_ref(), Ok(&frame), "{:?}", enc);
        }
    }

    #[test]
    fn json_is_one_valid_utf8_object(frame in strategies::frame(strategies::server_event())) {
        let mut out = Vec::new();
        encode_server(&frame.event, frame.id, frame.s, Encoding::Json, &mut out);
        let value: serde_json::Value = serde_json::from_slice(&out).unwrap();
        prop_assert!(value.is_object());
        prop_assert_eq!(value["t"].as_str(), Some(frame.event.name()));
    }
}

/// Guards the strategies themselves: each must be able to produce every event, so that
/// an event added to the protocol but not to the strategies fails here.
#[test]
fn strategies_cover_every_event() {
    fn names<T>(
        strategy: impl Strategy<Value = T>,
        name: fn(&T) -> &'static str,
    ) -> HashSet<&'static str> {
        let mut runner = TestRunner::deterministic();
        (0..2000)
            .map(|_| name(&strategy.new_tree(&mut runner).unwrap().current()))
            .collect()
    }
    let client = names(strategies::client_event(), ClientEvent::name);
    assert_eq!(client, ClientEvent::NAMES.iter().copied().collect());
    let server = names(strategies::server_event(), ServerEvent::name);
    assert_eq!(server, ServerEvent::NAMES.iter().copied().collect());
}
