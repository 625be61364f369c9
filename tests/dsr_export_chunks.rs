//! A copy whose export is larger than `SFPRIVACY_EXPORT_CHUNK_BYTES`, through the worker on
//! real RabbitMQ and Redis with the emulator: numbered `dsr.export_chunk` messages, then one
//! terminal result listing them, each checksum matching its chunk's bytes as carried.

mod common;

use common::{AppOptions, is_terminal, spawn_app};
use sha2::{Digest, Sha256};
use std::time::Duration;

/// The raw bytes of the top-level member `key` (an array) of a compact JSON object, exactly as
/// the message carries them.
fn raw_array<'a>(body: &'a [u8], key: &str) -> &'a [u8] {
    let needle = format!("\"{key}\":[");
    let start = body
        .windows(needle.len())
        .position(|w| w == needle.as_bytes())
        .unwrap_or_else(|| panic!("no {key} array"))
        + needle.len()
        - 1;
    let (mut depth, mut in_str, mut escaped) = (0usize, false, false);
    for (i, &b) in body[start..].iter().enumerate() {
        if in_str {
            match (escaped, b) {
                (true, _) => escaped = false,
                (false, b'\\') => escaped = true,
                (false, b'"') => in_str = false,
                _ => {}
            }
            continue;
        }
        match b {
            b'"' => in_str = true,
            b'[' | b'{' => depth += 1,
            b']' | b'}' => {
                depth -= 1;
                if depth == 0 {
                    return &body[start..=start + i];
                }
            }
            _ => {}
        }
    }
    panic!("unterminated {key} array")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_large_copy_is_sent_as_numbered_chunks_then_a_result_listing_their_checksums() {
    let emu = sf_emulator::Emulator::new(sf_emulator::EmulatorConfig {
        seed: 7,
        size: 0,
        ..Default::default()
    })
    .start("127.0.0.1:0")
    .await
    .unwrap();
    let email = "chunky.export@example.com";
    // Non-ASCII values travel as themselves (not `\u` escapes), and the checksum covers them so.
    let contacts: Vec<serde_json::Value> = (0..12)
        .map(|i| {
            serde_json::json!({
                "FirstName": format!("Zoë {i}"), "LastName": "Müller-Chunk", "Email": email,
                "Title": "Directrice générale", "Description": "x".repeat(300),
            })
        })
        .collect();
    let ids = common::insert_records(&emu.base_url, "Contact", contacts).await;
    let conn = sfprivacy::demo::emulator_connection(&emu.base_url).unwrap();
    let mut opts = AppOptions::new(vec![conn], None);
    // Small chunks (the settings allow 1 KiB and up): a dozen Contacts need several.
    opts.chunk_bytes = 4096;
    let app = spawn_app(opts).await;
    app.publish(
        "dsr",
        &common::dsr_request("copy", "r-chunks", "emulator", email),
    )
    .await;
    let got = app
        .collect_until(&app.reply_queue, Duration::from_secs(60), |all| {
            all.iter().any(|g| is_terminal(&g.json()))
        })
        .await;
    let (result, chunks) = got.split_last().expect("messages");
    let result_v = result.json();
    assert!(is_terminal(&result_v), "the result comes last: {result_v}");
    assert_eq!(result_v["status"], "completed", "{result_v}");
    let export = &result_v["export"];
    assert!(
        export["records"].as_array().is_none_or(|a| a.is_empty()),
        "records travel in the chunks: {export}"
    );
    let refs = export["chunks"].as_array().expect("export.chunks");
    assert!(refs.len() >= 3, "several chunks: {export}");
    assert_eq!(chunks.len(), refs.len(), "one message per listed chunk");

    let mut exported_ids = Vec::new();
    let mut total = 0;
    for (i, (msg, r)) in chunks.iter().zip(refs).enumerate() {
        let v = msg.json();
        let number = i as u64 + 1;
        assert_eq!(
            (&v["type"], &v["chunk"], &v["request_id"]),
            (
                &serde_json::json!("dsr.export_chunk"),
                &serde_json::json!(number),
                &serde_json::json!("r-chunks")
            )
        );
        assert_eq!(r["chunk"], number);
        assert_eq!(r["message_id"], v["message_id"]);
        assert_eq!(
            msg.props.message_id().as_ref().map(|m| m.as_str()),
            v["message_id"].as_str()
        );
        let records = v["records"].as_array().unwrap();
        assert_eq!(r["records"], records.len() as u64);
        assert!(msg.body.len() <= 4096 + 512, "a chunk near the limit");
        let raw = raw_array(&msg.body, "records");
        let sum = format!("sha256:{}", hex::encode(Sha256::digest(raw)));
        assert_eq!(r["checksum"], sum, "chunk {number}");
        assert!(
            std::str::from_utf8(raw).unwrap().contains("Zoë"),
            "non-ASCII as itself"
        );
        total += records.len();
        exported_ids.extend(
            records
                .iter()
                .map(|r| r["id"].as_str().unwrap().to_string()),
        );
    }
    assert_eq!(export["record_count"], total as u64);
    exported_ids.sort();
    let mut want = ids.clone();
    want.sort();
    assert_eq!(exported_ids, want, "every Contact exported once");
    app.cleanup().await;
    emu.shutdown.cancel();
}
