//! The MessagePack envelope: one map `{t, d, id?, s?}` per binary message.
//!
//! Encoding writes the envelope by hand with `rmp` and `d` with `rmp_serde` in
//! struct-as-map mode (its default writes structs as arrays, which is not our format).
//!
//! Decoding scans the whole message once, without allocating: every string must be valid
//! UTF-8 (PROTOCOL.md section 6), containers nest at most
//! [`MAX_NESTING_DEPTH`] levels, and nothing may follow the map.
//! The scan also checks the envelope's keys and remembers where `d` starts and ends;
//! only then is `d` read as the event's data, straight from those bytes.

use rmp::Marker;

use super::{finish, reason, DecodeError, EncodeError};
use crate::events::{DataDecoder, DataVisitor, EventSet, Frame};
use crate::limits::MAX_NESTING_DEPTH;

/// Appends the envelope of `event` to `out`.
pub(super) fn encode<E: EventSet>(
    event: &E,
    id: Option<u32>,
    s: Option<u64>,
    out: &mut Vec<u8>,
) -> Result<(), EncodeError> {
    let len = 2 + u32::from(id.is_some()) + u32::from(s.is_some());
    rmp::encode::write_map_len(out, len)?;
    rmp::encode::write_str(out, "t")?;
    rmp::encode::write_str(out, event.wire_name())?;
    rmp::encode::write_str(out, "d")?;
    event.visit_data(DataWriter(out))?;
    if let Some(id) = id {
        rmp::encode::write_str(out, "id")?;
        rmp::encode::write_uint(out, u64::from(id))?;
    }
    if let Some(s) = s {
        rmp::encode::write_str(out, "s")?;
        rmp::encode::write_uint(out, s)?;
    }
    Ok(())
}

/// The bytes of `d` in a well-formed envelope.
pub(super) fn data_of(bytes: &[u8]) -> Option<&[u8]> {
    Envelope::scan(bytes).ok().map(|envelope| envelope.d)
}

/// Appends the envelope `{t, d, id?}` around `d`, bytes of a MessagePack map already
/// encoded (by [`encode`], for another event with the same data).
pub(super) fn encode_with_data(
    t: &str,
    d: &[u8],
    id: Option<u32>,
    out: &mut Vec<u8>,
) -> Result<(), EncodeError> {
    rmp::encode::write_map_len(out, 2 + u32::from(id.is_some()))?;
    rmp::encode::write_str(out, "t")?;
    rmp::encode::write_str(out, t)?;
    rmp::encode::write_str(out, "d")?;
    out.extend_from_slice(d);
    if let Some(id) = id {
        rmp::encode::write_str(out, "id")?;
        rmp::encode::write_uint(out, u64::from(id))?;
    }
    Ok(())
}

/// Decodes one envelope.
pub(super) fn decode<E: EventSet>(bytes: &[u8]) -> Result<Frame<E>, DecodeError> {
    let envelope = Envelope::scan(bytes)?;
    finish(envelope.t, DataReader(envelope.d), envelope.id, envelope.s)
}

/// Writes `d` with rmp-serde, structs as maps.
struct DataWriter<'a>(&'a mut Vec<u8>);

impl DataVisitor for DataWriter<'_> {
    type Output = Result<(), rmp_serde::encode::Error>;

    fn visit<T: serde::Serialize>(self, data: &T) -> Self::Output {
        data.serialize(&mut rmp_serde::Serializer::new(self.0).with_struct_map())
    }
}

/// Reads `d` from its bytes (already scanned: sound, valid UTF-8, shallow).
struct DataReader<'a>(&'a [u8]);

impl DataDecoder for DataReader<'_> {
    fn decode<T: serde::de::DeserializeOwned>(self) -> Result<T, String> {
        let mut de = rmp_serde::Deserializer::from_read_ref(self.0);
        serde_path_to_error::deserialize(&mut de).map_err(reason)
    }
}

/// The parts of a scanned envelope.
#[derive(Debug)]
struct Envelope<'a> {
    t: &'a str,
    /// The bytes of the `d` map.
    d: &'a [u8],
    id: Option<u32>,
    s: Option<u64>,
}

impl<'a> Envelope<'a> {
    /// Scans and checks the whole message.
    fn scan(bytes: &'a [u8]) -> Result<Self, DecodeError> {
        let mut cur = Cursor { bytes, pos: 0 };
        let len = match cur.marker()? {
            Marker::FixMap(n) => usize::from(n),
            Marker::Map16 => usize::from(cur.u16()?),
            Marker::Map32 => cur.u32_len()?,
            _ => return Err(malformed("the message is not a map")),
        };
        let (mut t, mut d, mut id, mut s) = (None, None, None, None);
        for _ in 0..len {
            let key = cur.value(2)?;
            let start = cur.pos;
            let value = cur.value(2)?;
            // Keys that are not strings are unknown keys, and unknown keys are ignored.
            let Kind::Str(key) = key else { continue };
            match key {
                "t" => match value {
                    Kind::Str(name) => t = Some(name),
                    _ => return Err(malformed("`t` is not a string")),
                },
                "d" => match value {
                    Kind::Map => d = bytes.get(start..cur.pos),
                    _ => return Err(malformed("`d` is not a map")),
                },
                "id" => {
                    id = match value {
                        Kind::Nil => None,
                        Kind::Uint(n) => {
                            Some(u32::try_from(n).map_err(|_| malformed("`id` is not a uint32"))?)
                        }
                        _ => return Err(malformed("`id` is not a uint32")),
                    }
                }
                "s" => {
                    s = match value {
                        Kind::Nil => None,
                        Kind::Uint(n) => Some(n),
                        _ => return Err(malformed("`s` is not a uint64")),
                    }
                }
                _ => {}
            }
        }
        if cur.pos != bytes.len() {
            return Err(malformed("trailing bytes after the map"));
        }
        Ok(Self {
            t: t.ok_or_else(|| malformed("`t` is missing"))?,
            d: d.ok_or_else(|| malformed("`d` is missing"))?,
            id,
            s,
        })
    }
}

/// What a scanned value was, as far as the envelope cares.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind<'a> {
    Nil,
    /// A non-negative integer, whatever its marker.
    Uint(u64),
    Str(&'a str),
    Map,
    Other,
}

/// A read position in the message. Every read is bounds-checked: input never panics.
struct Cursor<'a> {
    bytes: &'a [u8],
    pos: usize,
}

impl<'a> Cursor<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8], DecodeError> {
        let end = self
            .pos
            .checked_add(n)
            .ok_or_else(|| malformed("length out of range"))?;
        let slice = self
            .bytes
            .get(self.pos..end)
            .ok_or_else(|| malformed("unexpected end of message"))?;
        self.pos = end;
        Ok(slice)
    }

    fn array<const N: usize>(&mut self) -> Result<[u8; N], DecodeError> {
        self.take(N)?
            .try_into()
            .map_err(|_| malformed("unexpected end of message"))
    }

    fn marker(&mut self) -> Result<Marker, DecodeError> {
        let [byte] = self.array::<1>()?;
        Ok(Marker::from_u8(byte))
    }

    fn u8(&mut self) -> Result<u8, DecodeError> {
        let [byte] = self.array::<1>()?;
        Ok(byte)
    }

    fn u16(&mut self) -> Result<u16, DecodeError> {
        self.array().map(u16::from_be_bytes)
    }

    fn u32_len(&mut self) -> Result<usize, DecodeError> {
        let n = self.array().map(u32::from_be_bytes)?;
        usize::try_from(n).map_err(|_| malformed("length out of range"))
    }

    fn u64(&mut self) -> Result<u64, DecodeError> {
        self.array().map(u64::from_be_bytes)
    }

    fn str(&mut self, len: usize) -> Result<Kind<'a>, DecodeError> {
        let bytes = self.take(len)?;
        std::str::from_utf8(bytes)
            .map(Kind::Str)
            .map_err(|_| malformed("a string is not valid UTF-8"))
    }

    fn skip(&mut self, len: usize) -> Result<Kind<'a>, DecodeError> {
        self.take(len).map(|_| Kind::Other)
    }

    /// Scans the `count` elements of a container that sits at nesting `depth`.
    fn values(&mut self, count: usize, depth: usize) -> Result<(), DecodeError> {
        if depth > MAX_NESTING_DEPTH {
            return Err(malformed("nested too deep"));
        }
        // A bogus count fails at the end of the input, after at most `bytes.len()` values.
        for _ in 0..count {
            self.value(depth + 1)?;
        }
        Ok(())
    }

    /// Scans one value that, if it is a container, sits at nesting `depth` (the envelope
    /// is at 1). Recursion is bounded by [`MAX_NESTING_DEPTH`].
    fn value(&mut self, depth: usize) -> Result<Kind<'a>, DecodeError> {
        Ok(match self.marker()? {
            Marker::Null => Kind::Nil,
            Marker::True | Marker::False => Kind::Other,
            Marker::FixPos(n) => Kind::Uint(u64::from(n)),
            Marker::FixNeg(_) => Kind::Other,
            Marker::U8 => Kind::Uint(u64::from(self.u8()?)),
            Marker::U16 => Kind::Uint(u64::from(self.u16()?)),
            Marker::U32 => Kind::Uint(u64::from(self.array().map(u32::from_be_bytes)?)),
            Marker::U64 => Kind::Uint(self.u64()?),
            Marker::I8 => {
                let n = self.array().map(i8::from_be_bytes)?;
                signed(i64::from(n))
            }
            Marker::I16 => {
                let n = self.array().map(i16::from_be_bytes)?;
                signed(i64::from(n))
            }
            Marker::I32 => {
                let n = self.array().map(i32::from_be_bytes)?;
                signed(i64::from(n))
            }
            Marker::I64 => {
                let n = self.array().map(i64::from_be_bytes)?;
                signed(n)
            }
            Marker::F32 => self.skip(4)?,
            Marker::F64 => self.skip(8)?,
            Marker::FixStr(n) => self.str(usize::from(n))?,
            Marker::Str8 => {
                let n = self.u8()?;
                self.str(usize::from(n))?
            }
            Marker::Str16 => {
                let n = self.u16()?;
                self.str(usize::from(n))?
            }
            Marker::Str32 => {
                let n = self.u32_len()?;
                self.str(n)?
            }
            Marker::Bin8 => {
                let n = self.u8()?;
                self.skip(usize::from(n))?
            }
            Marker::Bin16 => {
                let n = self.u16()?;
                self.skip(usize::from(n))?
            }
            Marker::Bin32 => {
                let n = self.u32_len()?;
                self.skip(n)?
            }
            Marker::FixArray(n) => {
                self.values(usize::from(n), depth)?;
                Kind::Other
            }
            Marker::Array16 => {
                let n = self.u16()?;
                self.values(usize::from(n), depth)?;
                Kind::Other
            }
            Marker::Array32 => {
                let n = self.u32_len()?;
                self.values(n, depth)?;
                Kind::Other
            }
            Marker::FixMap(n) => {
                self.values(2 * usize::from(n), depth)?;
                Kind::Map
            }
            Marker::Map16 => {
                let n = self.u16()?;
                self.values(2 * usize::from(n), depth)?;
                Kind::Map
            }
            Marker::Map32 => {
                let n = self.u32_len()?;
                self.values(n.saturating_mul(2), depth)?;
                Kind::Map
            }
            // An extension: one type byte, then its data.
            Marker::FixExt1 => self.skip(1 + 1)?,
            Marker::FixExt2 => self.skip(1 + 2)?,
            Marker::FixExt4 => self.skip(1 + 4)?,
            Marker::FixExt8 => self.skip(1 + 8)?,
            Marker::FixExt16 => self.skip(1 + 16)?,
            Marker::Ext8 => {
                let n = self.u8()?;
                self.skip(1 + usize::from(n))?
            }
            Marker::Ext16 => {
                let n = self.u16()?;
                self.skip(1 + usize::from(n))?
            }
            Marker::Ext32 => {
                let n = self.u32_len()?;
                self.skip(n.saturating_add(1))?
            }
            Marker::Reserved => return Err(malformed("reserved marker 0xc1")),
        })
    }
}

/// A signed integer: a `Uint` when it is not negative.
fn signed<'a>(n: i64) -> Kind<'a> {
    u64::try_from(n).map_or(Kind::Other, Kind::Uint)
}

fn malformed(reason: &str) -> DecodeError {
    DecodeError::Malformed(reason.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scan(bytes: &[u8]) -> Result<Envelope<'_>, DecodeError> {
        Envelope::scan(bytes)
    }

    /// `{"t": "PING", "d": {}}` with `extra` appended as further key-value pairs.
    fn ping_with(extra_pairs: u8, extra: &[u8]) -> Vec<u8> {
        let mut out = vec![0x82 + extra_pairs, 0xa1, b't', 0xa4, b'P', b'I', b'N', b'G'];
        out.extend_from_slice(&[0xa1, b'd', 0x80]);
        out.extend_from_slice(extra);
        out
    }

    #[test]
    fn scans_a_minimal_envelope() {
        let bytes = ping_with(0, &[]);
        let env = scan(&bytes).unwrap();
        assert_eq!(env.t, "PING");
        assert_eq!(env.d, &[0x80]);
        assert_eq!((env.id, env.s), (None, None));
    }

    #[test]
    fn ids_in_any_integer_width_and_nil() {
        for (bytes, want) in [
            (vec![0xa2, b'i', b'd', 0x05], Some(5)),
            (vec![0xa2, b'i', b'd', 0xcc, 0xff], Some(255)),
            (
                vec![0xa2, b'i', b'd', 0xce, 0xff, 0xff, 0xff, 0xff],
                Some(u32::MAX),
            ),
            (vec![0xa2, b'i', b'd', 0xd0, 0x07], Some(7)),
            (vec![0xa2, b'i', b'd', 0xc0], None),
        ] {
            let msg = ping_with(1, &bytes);
            assert_eq!(scan(&msg).unwrap().id, want, "{bytes:x?}");
        }
    }

    #[test]
    fn rejects_out_of_range_and_negative_ids() {
        for bytes in [
            vec![0xa2, b'i', b'd', 0xcf, 0, 0, 0, 1, 0, 0, 0, 0],
            vec![0xa2, b'i', b'd', 0xff],
            vec![0xa2, b'i', b'd', 0xa1, b'1'],
            vec![0xa2, b'i', b'd', 0xcb, 0, 0, 0, 0, 0, 0, 0, 0],
        ] {
            let msg = ping_with(1, &bytes);
            assert!(
                matches!(scan(&msg), Err(DecodeError::Malformed(_))),
                "{bytes:x?}"
            );
        }
    }

    #[test]
    fn depth_limit_is_exact() {
        // The envelope is level 1, so `d` is level 2 and each nested array one more.
        let nested = |levels: usize| {
            let mut extra = vec![0xa1, b'x'];
            extra.extend(std::iter::repeat_n(0x91, levels - 1));
            extra.push(0x90);
            ping_with(1, &extra)
        };
        assert!(scan(&nested(MAX_NESTING_DEPTH - 1)).is_ok());
        assert!(matches!(
            scan(&nested(MAX_NESTING_DEPTH)),
            Err(DecodeError::Malformed(_))
        ));
    }

    #[test]
    fn huge_declared_lengths_fail_cleanly() {
        for extra in [
            vec![0xa1, b'x', 0xdd, 0xff, 0xff, 0xff, 0xff],
            vec![0xa1, b'x', 0xdf, 0xff, 0xff, 0xff, 0xff],
            vec![0xa1, b'x', 0xdb, 0xff, 0xff, 0xff, 0xff],
            vec![0xa1, b'x', 0xc9, 0xff, 0xff, 0xff, 0xff, 0x01],
        ] {
            let msg = ping_with(1, &extra);
            assert!(
                matches!(scan(&msg), Err(DecodeError::Malformed(_))),
                "{extra:x?}"
            );
        }
    }

    #[test]
    fn reserved_marker_is_malformed() {
        let msg = ping_with(1, &[0xa1, b'x', 0xc1]);
        assert!(matches!(scan(&msg), Err(DecodeError::Malformed(_))));
    }

    #[test]
    fn extensions_and_binaries_in_unknown_keys_are_skipped() {
        let msg = ping_with(
            3,
            &[
                0xa1, b'x', 0xd4, 0x01, 0x02, // fixext1
                0xa1, b'y', 0xc4, 0x02, 0xff, 0xfe, // bin8 (not UTF-8, but not a string)
                0x07, 0x08, // an integer key: ignored
            ],
        );
        let env = scan(&msg).unwrap();
        assert_eq!(env.t, "PING");
    }
}
