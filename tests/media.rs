//! Uploads and downloads end to end, over real sockets: real PNG, JPEG, GIF, WAV, PDF
//! and ZIP bytes made here, plain text under an image's name, markup and executables
//! refused, oversized bodies with and without Content-Length, hostile names, and
//! attachments travelling with messages through the gateway.

#![allow(clippy::unwrap_used)]

mod common;

use std::io::Cursor;

use common::{id, Client, Node};
use reqwest::multipart::{Form, Part};
use serde_json::{json, Value};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

const MIB: usize = 1024 * 1024;

/// Uploads `bytes` as the part `file` named `filename`; (status, body).
async fn upload(node: &Node, token: &str, filename: &str, bytes: Vec<u8>) -> (u16, Value) {
    let form = Form::new().part("file", Part::bytes(bytes).file_name(filename.to_owned()));
    let res = node
        .http
        .post(node.api("/api/chat/media/upload"))
        .bearer_auth(token)
        .multipart(form)
        .send()
        .await
        .unwrap();
    let status = res.status().as_u16();
    (status, res.json().await.unwrap_or(Value::Null))
}

/// GET of a path on the API host, with no token.
async fn get(node: &Node, path: &str) -> reqwest::Response {
    node.http.get(node.api(path)).send().await.unwrap()
}

fn encode(img: &image::DynamicImage, format: image::ImageFormat) -> Vec<u8> {
    let mut out = Cursor::new(Vec::new());
    img.write_to(&mut out, format).unwrap();
    out.into_inner()
}

fn picture(width: u32, height: u32) -> image::DynamicImage {
    image::DynamicImage::ImageRgb8(image::RgbImage::from_fn(width, height, |x, y| {
        image::Rgb([(x % 256) as u8, (y % 256) as u8, 90])
    }))
}

fn crc32(bytes: &[u8]) -> u32 {
    let mut crc = !0u32;
    for &b in bytes {
        crc ^= u32::from(b);
        for _ in 0..8 {
            crc = if crc & 1 != 0 {
                (crc >> 1) ^ 0xEDB8_8320
            } else {
                crc >> 1
            };
        }
    }
    !crc
}

/// A PNG chunk with its length and CRC.
fn png_chunk(kind: &[u8; 4], data: &[u8]) -> Vec<u8> {
    let mut out = (data.len() as u32).to_be_bytes().to_vec();
    let mut body = kind.to_vec();
    body.extend_from_slice(data);
    out.extend_from_slice(&body);
    out.extend_from_slice(&crc32(&body).to_be_bytes());
    out
}

/// A tiny PNG that declares a 50 000 x 50 000 canvas: a decompression bomb.
fn png_bomb() -> Vec<u8> {
    let mut ihdr = Vec::new();
    ihdr.extend_from_slice(&50_000u32.to_be_bytes());
    ihdr.extend_from_slice(&50_000u32.to_be_bytes());
    ihdr.extend_from_slice(&[8, 2, 0, 0, 0]);
    let mut out = b"\x89PNG\r\n\x1a\n".to_vec();
    out.extend(png_chunk(b"IHDR", &ihdr));
    // An empty zlib stream.
    out.extend(png_chunk(
        b"IDAT",
        &[0x78, 0x9c, 0x03, 0x00, 0x00, 0x00, 0x00, 0x01],
    ));
    out.extend(png_chunk(b"IEND", &[]));
    out
}

/// One second of 8 kHz 8-bit mono silence.
fn wav() -> Vec<u8> {
    let samples = vec![128u8; 8000];
    let mut out = b"RIFF".to_vec();
    out.extend_from_slice(&(36 + samples.len() as u32).to_le_bytes());
    out.extend_from_slice(b"WAVEfmt ");
    out.extend_from_slice(&16u32.to_le_bytes());
    out.extend_from_slice(&1u16.to_le_bytes()); // PCM
    out.extend_from_slice(&1u16.to_le_bytes()); // mono
    out.extend_from_slice(&8000u32.to_le_bytes());
    out.extend_from_slice(&8000u32.to_le_bytes());
    out.extend_from_slice(&1u16.to_le_bytes());
    out.extend_from_slice(&8u16.to_le_bytes());
    out.extend_from_slice(b"data");
    out.extend_from_slice(&(samples.len() as u32).to_le_bytes());
    out.extend_from_slice(&samples);
    out
}

fn pdf() -> Vec<u8> {
    b"%PDF-1.4\n1 0 obj << /Type /Catalog /Pages 2 0 R >> endobj\n\
      2 0 obj << /Type /Pages /Kids [] /Count 0 >> endobj\n\
      trailer << /Root 1 0 R >>\n%%EOF\n"
        .to_vec()
}

/// A ZIP archive holding `hello.txt`, stored uncompressed.
fn zip() -> Vec<u8> {
    let name = b"hello.txt";
    let data = b"hello from a zip\n";
    let crc = crc32(data).to_le_bytes();
    let size = (data.len() as u32).to_le_bytes();
    let mut local = b"PK\x03\x04\x14\x00\x00\x00\x00\x00\x00\x00\x00\x00".to_vec();
    local.extend_from_slice(&crc);
    local.extend_from_slice(&size);
    local.extend_from_slice(&size);
    local.extend_from_slice(&(name.len() as u16).to_le_bytes());
    local.extend_from_slice(&0u16.to_le_bytes());
    local.extend_from_slice(name);
    local.extend_from_slice(data);
    let mut central = b"PK\x01\x02\x14\x00\x14\x00\x00\x00\x00\x00\x00\x00\x00\x00".to_vec();
    central.extend_from_slice(&crc);
    central.extend_from_slice(&size);
    central.extend_from_slice(&size);
    central.extend_from_slice(&(name.len() as u16).to_le_bytes());
    central.extend_from_slice(&[0; 12]);
    central.extend_from_slice(&0u32.to_le_bytes()); // local header offset
    central.extend_from_slice(name);
    let mut out = local.clone();
    out.extend_from_slice(&central);
    out.extend_from_slice(b"PK\x05\x06\x00\x00\x00\x00\x01\x00\x01\x00");
    out.extend_from_slice(&(central.len() as u32).to_le_bytes());
    out.extend_from_slice(&(local.len() as u32).to_le_bytes());
    out.extend_from_slice(&0u16.to_le_bytes());
    out
}

fn elf() -> Vec<u8> {
    let mut out = b"\x7fELF\x02\x01\x01\x00".to_vec();
    out.resize(64, 0);
    out[16] = 2; // ET_EXEC
    out[18] = 0x3e; // x86-64
    out.extend_from_slice(&[0x90; 256]);
    out
}

fn pe() -> Vec<u8> {
    let mut out = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff".to_vec();
    out.resize(0x3c, 0);
    out.extend_from_slice(&0x80u32.to_le_bytes());
    out.resize(0x80, 0);
    out.extend_from_slice(b"PE\0\0\x64\x86");
    out.resize(512, 0);
    out
}

/// Every allowed kind is stored with the type its bytes say and served back with it,
/// nosniff, the right disposition and a sandboxing CSP; images get a size and a
/// thumbnail.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn uploads_each_allowed_type_and_serves_it_back() {
    let node = Node::start().await;
    let (_, token) = node.register("uploader").await;
    let png = encode(&picture(640, 480), image::ImageFormat::Png);
    let jpeg = encode(&picture(300, 600), image::ImageFormat::Jpeg);
    let gif = encode(
        &image::DynamicImage::ImageRgba8(picture(40, 20).to_rgba8()),
        image::ImageFormat::Gif,
    );
    // (name, bytes, stored type, image size, shown inline)
    type Case = (
        &'static str,
        Vec<u8>,
        &'static str,
        Option<(u64, u64)>,
        bool,
    );
    let cases: Vec<Case> = vec![
        ("cat.png", png, "image/png", Some((640, 480)), true),
        ("photo.jpg", jpeg, "image/jpeg", Some((300, 600)), true),
        ("anim.gif", gif, "image/gif", Some((40, 20)), true),
        ("beep.wav", wav(), "audio/wav", None, true),
        ("report.pdf", pdf(), "application/pdf", None, false),
        ("archive.zip", zip(), "application/zip", None, false),
        (
            "notes.png",
            b"just some notes\n".to_vec(),
            "text/plain",
            None,
            false,
        ),
    ];
    for (name, bytes, content_type, size, inline) in cases {
        let (status, body) = upload(&node, &token, name, bytes.clone()).await;
        assert_eq!(status, 201, "{name}: {body}");
        let a = &body["attachment"];
        assert_eq!(a["content_type"], content_type, "{name}");
        assert_eq!(a["filename"], name);
        assert_eq!(a["size"], bytes.len() as u64);
        let url = a["url"].as_str().unwrap();
        assert_eq!(url, format!("/media/{}/{name}", id(&a["id"])));
        match size {
            Some((w, h)) => {
                assert_eq!(
                    (a["width"].as_u64(), a["height"].as_u64()),
                    (Some(w), Some(h))
                );
                let thumbnail_url = a["thumbnail_url"].as_str().unwrap();
                assert_eq!(thumbnail_url, format!("/media/{}/thumbnail", id(&a["id"])));
                let thumb = get(&node, thumbnail_url).await;
                assert_eq!(thumb.status(), 200);
                assert_eq!(thumb.headers()["content-type"], "image/png");
                assert_eq!(thumb.headers()["x-content-type-options"], "nosniff");
                let img = image::load_from_memory(&thumb.bytes().await.unwrap()).unwrap();
                assert!(img.width().max(img.height()) <= 256, "{name}");
            }
            None => assert!(a.get("width").is_none() && a.get("thumbnail_url").is_none()),
        }
        let res = get(&node, url).await;
        assert_eq!(res.status(), 200, "{name}");
        let headers = res.headers().clone();
        let served = headers["content-type"].to_str().unwrap();
        assert!(served.starts_with(content_type), "{name}: {served}");
        assert_eq!(headers["x-content-type-options"], "nosniff");
        let disposition = headers["content-disposition"].to_str().unwrap();
        let want = if inline { "inline" } else { "attachment" };
        assert!(disposition.starts_with(want), "{name}: {disposition}");
        let csp = headers["content-security-policy"].to_str().unwrap();
        assert!(csp.contains("sandbox") && csp.contains("default-src 'none'"));
        assert_eq!(
            res.bytes().await.unwrap().as_ref(),
            bytes.as_slice(),
            "{name}"
        );
    }
}

/// SVG, HTML and executables (whatever their names) are 415; a request without a
/// `file` part, an empty file or a body that is not multipart is 400; no token is 401;
/// a PNG declaring a huge canvas is 413 before any pixel is decoded.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refuses_markup_executables_and_bad_requests() {
    let node = Node::start().await;
    let (_, token) = node.register("mallory").await;
    for (name, bytes) in [
        (
            "logo.svg",
            br#"<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>"#.to_vec(),
        ),
        (
            "logo.png",
            br#"<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg"/>"#.to_vec(),
        ),
        (
            "page.html",
            b"<!DOCTYPE html><html><script>alert(1)</script></html>".to_vec(),
        ),
        ("page.txt", b"  <html><body>hi</body></html>".to_vec()),
        ("tool.png", elf()),
        ("setup.png", pe()),
        (
            "mixed.txt",
            [b"text first ".as_slice(), &[0u8; 64]].concat(),
        ),
    ] {
        let (status, body) = upload(&node, &token, name, bytes).await;
        assert_eq!(status, 415, "{name}: {body}");
        assert_eq!(body["error"]["code"], "UNSUPPORTED_MEDIA_TYPE", "{name}");
    }

    let (status, body) = upload(&node, &token, "huge.png", png_bomb()).await;
    assert_eq!(status, 413, "{body}");
    assert_eq!(body["error"]["code"], "TOO_LARGE");

    let (status, body) = upload(&node, &token, "empty.txt", Vec::new()).await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (400, Some("BAD_REQUEST"))
    );

    let form = Form::new().text("note", "no file here");
    let res = node
        .http
        .post(node.api("/api/chat/media/upload"))
        .bearer_auth(&token)
        .multipart(form)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 400);
    let body: Value = res.json().await.unwrap();
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .starts_with("file:"),
        "{body}"
    );

    let (status, _) = node
        .call(
            "POST",
            "/api/chat/media/upload",
            &token,
            Some(json!({"file": "x"})),
        )
        .await;
    assert_eq!(status, 400);

    let form = Form::new().part("file", Part::bytes(b"hi".to_vec()).file_name("a.txt"));
    let res = node
        .http
        .post(node.api("/api/chat/media/upload"))
        .multipart(form)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 401);

    let stored = std::fs::read_dir(node.dir.path().join("media/attachments"))
        .map(|dir| dir.count())
        .unwrap_or(0);
    assert_eq!(stored, 0, "nothing refused was stored");
}

/// Over 50 MiB is 413: refused from the Content-Length before the body is read, and
/// counted as it streams when the body is chunked with no length.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn oversized_uploads_are_413_with_and_without_content_length() {
    let node = Node::start().await;
    let (_, token) = node.register("bigfile").await;

    // Declared: only the head is sent; the answer comes without the rest.
    let mut tcp = tokio::net::TcpStream::connect(node.stack.api_addr())
        .await
        .unwrap();
    let head = format!(
        "POST /api/chat/media/upload HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {token}\r\n\
         Content-Type: multipart/form-data; boundary=XX\r\nContent-Length: {}\r\n\r\n\
         --XX\r\nContent-Disposition: form-data; name=\"file\"; filename=\"big.txt\"\r\n\r\n",
        60 * MIB
    );
    tcp.write_all(head.as_bytes()).await.unwrap();
    let mut answer = Vec::new();
    let mut buf = [0u8; 4096];
    while !answer.windows(4).any(|w| w == b"\r\n\r\n") {
        let n = tokio::time::timeout(common::WAIT, tcp.read(&mut buf))
            .await
            .unwrap()
            .unwrap();
        assert!(n > 0, "closed without an answer");
        answer.extend_from_slice(&buf[..n]);
    }
    let answer = String::from_utf8_lossy(&answer);
    assert!(answer.starts_with("HTTP/1.1 413"), "{answer}");

    // Chunked, no length: 50 MiB + 512 KiB of text.
    let chunks = (0..=50 * 2).map(|_| Ok::<_, std::io::Error>(vec![b'a'; MIB / 2]));
    let body = reqwest::Body::wrap_stream(futures_util::stream::iter(chunks));
    let form = Form::new().part("file", Part::stream(body).file_name("big.txt"));
    let res = node
        .http
        .post(node.api("/api/chat/media/upload"))
        .bearer_auth(&token)
        .multipart(form)
        .send()
        .await
        .unwrap();
    assert!(res.headers().get("content-length").is_some());
    assert_eq!(res.status(), 413);
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["error"]["code"], "TOO_LARGE");
}

/// `../../etc/passwd` is stored as `passwd`, inside the media folder under its id; no
/// name in a download url reaches outside it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_filenames_stay_inside_the_media_folder() {
    let node = Node::start().await;
    let (_, token) = node.register("climber").await;
    let (status, body) = upload(&node, &token, "../../etc/passwd", b"root:x:0:0\n".to_vec()).await;
    assert_eq!(status, 201, "{body}");
    let a = &body["attachment"];
    assert_eq!(a["filename"], "passwd");
    assert_eq!(a["content_type"], "text/plain");
    let attachment = id(&a["id"]);
    let media = node.dir.path().join("media");
    let files: Vec<_> = std::fs::read_dir(media.join("attachments"))
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    assert_eq!(files, vec![attachment.to_string()]);
    assert!(!node.dir.path().join("etc").exists());

    // The url built from the id and the stored name, as API.md describes it, is the
    // file; nothing else is.
    let url = format!("/media/{attachment}/passwd");
    assert_eq!(a["url"], url);
    let res = get(&node, &url).await;
    assert_eq!(res.status(), 200);
    assert_eq!(res.bytes().await.unwrap().as_ref(), b"root:x:0:0\n");
    for path in [
        format!("/media/{attachment}/..%2F..%2Fetc%2Fpasswd"),
        format!("/media/{attachment}/%2e%2e%2f%2e%2e%2fetc%2fpasswd"),
        format!("/media/{attachment}/..%2F..%2F..%2F..%2Fetc%2Fpasswd"),
        format!("/media/{attachment}/%2e%2e%2fattachments%2f{attachment}"),
        format!("/media/{attachment}/..%5C..%5Cetc%5Cpasswd"),
        format!("/media/{attachment}/%2E%2E"),
        format!("/media/{attachment}/other.txt"),
        format!("/media/{attachment}/PASSWD"),
        format!("/media/{attachment}/passwd%00.png"),
        format!("/media/{attachment}/thumbnail"),
        format!("/media/{}/passwd", attachment + 1),
    ] {
        let res = get(&node, &path).await;
        assert_eq!(res.status(), 404, "{path}");
    }
    // The id is an id: a climbing one is bad input, never a path.
    let climbing_id = "/media/..%2F..%2Fetc%2Fpasswd/passwd";
    assert_eq!(get(&node, climbing_id).await.status(), 400);
    // Raw request lines that climb (no client normalizes them): never a file from
    // outside the media folder.
    for target in [
        format!("/media/{attachment}/../../../../etc/passwd"),
        format!("/media/{attachment}/.."),
        format!("/media/{attachment}/../{attachment}/passwd/../passwd"),
        "/media/../../../../etc/passwd".to_owned(),
    ] {
        let mut tcp = tokio::net::TcpStream::connect(node.stack.api_addr())
            .await
            .unwrap();
        tcp.write_all(
            format!("GET {target} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").as_bytes(),
        )
        .await
        .unwrap();
        let mut answer = String::new();
        tcp.read_to_string(&mut answer).await.unwrap();
        assert!(answer.starts_with("HTTP/1.1 404"), "{target}: {answer}");
    }
}

/// SEND_MESSAGE takes only the sender's own unattached uploads; the message carries
/// them with their urls in the ACK, the event and history; downloads are public by id
/// and filename (API.md), and a deleted message's files are gone.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn attachments_travel_with_messages_and_only_their_uploader_attaches_them() {
    let node = Node::start().await;
    let (_, alice_token) = node.register("alice").await;
    let (bob, bob_token) = node.register("bob").await;
    let (_, carol_token) = node.register("carol").await;
    let group = node.group(&alice_token, "files", false, &[bob]).await;
    let png = encode(&picture(64, 32), image::ImageFormat::Png);
    let (_, body) = upload(&node, &alice_token, "dot.png", png.clone()).await;
    let attachment = body["attachment"].clone();
    let attachment_id = id(&attachment["id"]);

    let (mut a, _) = Client::identify(node.gateway_addr(), &alice_token).await;
    let (mut b, _) = Client::identify(node.gateway_addr(), &bob_token).await;
    // Bob cannot attach Alice's upload.
    b.send(json!({"t": "SEND_MESSAGE", "id": 1, "d": {"channel_id": group, "content": "mine", "attachment_ids": [attachment_id]}}))
        .await;
    let err = b.expect("ERROR").await;
    assert_eq!(err["d"]["code"], "BAD_REQUEST", "{err}");

    a.send(json!({"t": "SEND_MESSAGE", "id": 2, "d": {"channel_id": group, "content": "a picture", "attachment_ids": [attachment_id]}}))
        .await;
    let ack = a.expect("ACK").await;
    let sent = &ack["d"]["message"];
    assert_eq!(sent["attachments"].as_array().unwrap().len(), 1);
    let carried = &sent["attachments"][0];
    assert_eq!(carried["url"], attachment["url"]);
    assert_eq!(carried["thumbnail_url"], attachment["thumbnail_url"]);
    assert_eq!(
        (carried["width"].as_u64(), carried["height"].as_u64()),
        (Some(64), Some(32))
    );
    let event = b.expect("MESSAGE_RECEIVED").await;
    assert_eq!(
        event["d"]["message"]["attachments"][0]["url"],
        attachment["url"]
    );

    // Attached once only.
    a.send(json!({"t": "SEND_MESSAGE", "id": 3, "d": {"channel_id": group, "content": "again", "attachment_ids": [attachment_id]}}))
        .await;
    assert_eq!(a.expect("ERROR").await["d"]["code"], "BAD_REQUEST");

    let (status, history) = node
        .call(
            "GET",
            &format!("/api/chat/channels/{group}/messages"),
            &bob_token,
            None,
        )
        .await;
    assert_eq!(status, 200);
    assert_eq!(
        history["messages"][0]["attachments"][0]["url"],
        attachment["url"]
    );

    let url = attachment["url"].as_str().unwrap();
    let res = get(&node, url).await;
    assert_eq!(res.status(), 200);
    assert_eq!(res.bytes().await.unwrap().as_ref(), png.as_slice());
    // Downloads are public by id and filename (API.md): the url built from them is the
    // attachment's url, and it answers with or without a token, a non-member's too,
    // though carol cannot read the channel itself.
    assert_eq!(url, format!("/media/{attachment_id}/dot.png"));
    let res = node
        .http
        .get(node.api(url))
        .bearer_auth(&carol_token)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(res.bytes().await.unwrap().as_ref(), png.as_slice());
    let (status, _) = node
        .call(
            "GET",
            &format!("/api/chat/channels/{group}/messages"),
            &carol_token,
            None,
        )
        .await;
    assert_eq!(status, 404);

    let message_id = id(&sent["id"]);
    a.send(json!({"t": "DELETE_MESSAGE", "id": 4, "d": {"message_id": message_id}}))
        .await;
    a.expect("ACK").await;
    assert_eq!(
        get(&node, url).await.status(),
        404,
        "a deleted message's file"
    );
    assert_eq!(
        get(&node, attachment["thumbnail_url"].as_str().unwrap())
            .await
            .status(),
        404
    );
}
