//! Events and the envelope `{t, d, id?, s?}` (PROTOCOL.md section 2).
//!
//! Each event enum is declared through `event_enum!` (below), which writes the wire name of
//! every variant exactly once and derives from it `name()`, `NAMES`, and the two
//! dispatch functions the [`codec`](crate::codec) uses to encode and decode `d`. The
//! envelope itself (keys, request ids, offsets) is the codec's business, not this module's.

use serde::de::DeserializeOwned;
use serde::Serialize;

/// Something that writes the data (`d`) of an event, whatever its type.
///
/// The codec implements this once per encoding; the event enum picks the variant and
/// hands its data over, so there is one `match` per enum, written by `event_enum!`.
pub(crate) trait DataVisitor {
    /// What writing produces.
    type Output;
    /// Writes one event's data.
    fn visit<T: Serialize>(self, data: &T) -> Self::Output;
}

/// Something that reads the data (`d`) of an event as a given type.
pub(crate) trait DataDecoder {
    /// Reads `d` as `T`; the error is a reason naming the offending field.
    fn decode<T: DeserializeOwned>(self) -> Result<T, String>;
}

/// The dispatch an event enum offers the codec (implemented by `event_enum!`).
pub(crate) trait EventSet: Sized {
    /// The wire name of the event (`t`).
    fn wire_name(&self) -> &'static str;
    /// Hands the event's data to `visitor`.
    fn visit_data<V: DataVisitor>(&self, visitor: V) -> V::Output;
    /// Decodes the data of the event named `t`; `None` when no event has that name.
    fn decode_data<D: DataDecoder>(t: &str, data: D) -> Option<Result<Self, String>>;
}

/// Declares an event enum from a table of `"WIRE_NAME" => Variant(Data)` rows.
macro_rules! event_enum {
    (
        $(#[$meta:meta])*
        pub enum $enum:ident {
            $(
                $(#[$vmeta:meta])*
                $wire:literal => $variant:ident($data:ty),
            )+
        }
    ) => {
        $(#[$meta])*
        pub enum $enum {
            $(
                #[doc = concat!("`", $wire, "`")]
                #[doc = ""]
                $(#[$vmeta])*
                $variant($data),
            )+
        }

        impl $enum {
            /// Every wire name, in declaration order.
            pub const NAMES: &'static [&'static str] = &[$($wire),+];

            /// The wire name of the event (`t`), e.g. `"SEND_MESSAGE"`.
            pub fn name(&self) -> &'static str {
                match self {
                    $(Self::$variant(_) => $wire,)+
                }
            }
        }

        impl $crate::events::EventSet for $enum {
            fn wire_name(&self) -> &'static str {
                self.name()
            }

            fn visit_data<V: $crate::events::DataVisitor>(&self, visitor: V) -> V::Output {
                match self {
                    $(Self::$variant(data) => visitor.visit(data),)+
                }
            }

            fn decode_data<D: $crate::events::DataDecoder>(
                t: &str,
                data: D,
            ) -> Option<Result<Self, String>> {
                Some(match t {
                    $($wire => data.decode::<$data>().map(Self::$variant),)+
                    _ => return None,
                })
            }
        }
    };
}

pub mod client;
pub mod server;

pub use client::ClientEvent;
pub use server::ServerEvent;

/// One message on the socket: an event with its request id and channel offset.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Frame<E> {
    /// The event (`t` and `d`).
    pub event: E,
    /// Request id, echoed in the reply.
    pub id: Option<u32>,
    /// Channel offset, on channel events only.
    pub s: Option<u64>,
}

impl<E> Frame<E> {
    /// A frame with no request id and no offset.
    pub fn new(event: E) -> Self {
        Self {
            event,
            id: None,
            s: None,
        }
    }

    /// The same frame with request id `id`.
    pub fn with_id(mut self, id: u32) -> Self {
        self.id = Some(id);
        self
    }

    /// The same frame with channel offset `s`.
    pub fn with_offset(mut self, s: u64) -> Self {
        self.s = Some(s);
        self
    }
}
