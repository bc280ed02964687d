//! [`UrlSigner`]: the capability in a media url.
//!
//! API.md makes downloads public "by their unguessable ID", but a Snowflake is
//! guessable (a time, a worker, a sequence number). So the urls the API hands out
//! carry `?sig=`, an HMAC-SHA256 of the attachment id under a key derived from the
//! server secret (`JWT_SECRET`), cut to 128 bits: only someone who was given the url
//! (a member of the channel, or the uploader) can download, and no table of secrets
//! is kept. Changing the server secret invalidates every media url, as it logs every
//! user out.

use protocol::AttachmentId;
use ring::hmac;

/// Bytes of the HMAC kept in the url.
const SIG_BYTES: usize = 16;

/// Signs and checks media urls.
#[derive(Clone)]
pub struct UrlSigner {
    key: hmac::Key,
}

impl std::fmt::Debug for UrlSigner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("UrlSigner")
    }
}

impl UrlSigner {
    /// A signer keyed from the server secret (a key of its own, so a media signature
    /// can never serve as anything else).
    pub fn new(server_secret: &[u8]) -> Self {
        let root = hmac::Key::new(hmac::HMAC_SHA256, server_secret);
        let derived = hmac::sign(&root, b"layer4 media url v1");
        Self {
            key: hmac::Key::new(hmac::HMAC_SHA256, derived.as_ref()),
        }
    }

    /// The signature of `id`, in lowercase hex.
    pub fn sign(&self, id: AttachmentId) -> String {
        let tag = hmac::sign(&self.key, &id.get().to_be_bytes());
        tag.as_ref()[..SIG_BYTES]
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect()
    }

    /// Whether `sig` is the signature of `id` (compared in constant time).
    pub fn verify(&self, id: AttachmentId, sig: &str) -> bool {
        let want = self.sign(id);
        want.len() == sig.len()
            && want
                .bytes()
                .zip(sig.bytes())
                .fold(0u8, |acc, (a, b)| acc | (a ^ b))
                == 0
    }

    /// The download url of the file.
    pub fn file_url(&self, id: AttachmentId, filename: &str) -> String {
        format!("/media/{id}/{filename}?sig={}", self.sign(id))
    }

    /// The url of the thumbnail.
    pub fn thumbnail_url(&self, id: AttachmentId) -> String {
        format!("/media/{id}/thumbnail?sig={}", self.sign(id))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signatures_are_per_id_and_per_secret() {
        let signer = UrlSigner::new(b"secret-one");
        let id = AttachmentId::new(42);
        let sig = signer.sign(id);
        assert_eq!(sig.len(), 32);
        assert!(signer.verify(id, &sig));
        assert!(!signer.verify(AttachmentId::new(43), &sig));
        assert!(!signer.verify(id, &sig[..31]));
        assert!(!signer.verify(id, ""));
        assert!(!UrlSigner::new(b"secret-two").verify(id, &sig));
        assert_eq!(
            signer.file_url(id, "a.png"),
            format!("/media/42/a.png?sig={sig}")
        );
    }
}
