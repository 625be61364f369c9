//! `sfprivacy subject-digest EMAIL` prints what stands for a subject in this deployment's logs:
//! the digest keyed by the token key, the same the worker logs; never the address itself.

use base64::Engine;
use std::process::Command;

fn digest_cli(email: &str, token_key: &str) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_sfprivacy"))
        .args(["subject-digest", email])
        .env_clear()
        .env("SFPRIVACY_TOKEN_KEY", token_key)
        .output()
        .expect("run sfprivacy subject-digest")
}

#[test]
fn prints_the_keyed_digest_of_the_normalised_address() {
    let key = [7u8; 32];
    let b64 = base64::engine::general_purpose::STANDARD.encode(key);
    let out = digest_cli(" Jane.Doe@Example.COM ", &b64);
    assert!(out.status.success(), "{out:?}");
    let printed = String::from_utf8_lossy(&out.stdout).trim().to_string();
    assert_eq!(
        printed,
        sfprivacy::subject_digest::digest_for(&key, "jane.doe@example.com")
    );
    // Another deployment's key gives another digest.
    let other = base64::engine::general_purpose::STANDARD.encode([8u8; 32]);
    let out = digest_cli("jane.doe@example.com", &other);
    assert_ne!(String::from_utf8_lossy(&out.stdout).trim(), printed);
}

#[test]
fn an_invalid_address_is_refused_without_being_repeated() {
    let b64 = base64::engine::general_purpose::STANDARD.encode([7u8; 32]);
    let out = digest_cli("jane.doe@", &b64);
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("not an email address"), "{stderr}");
    assert!(!stderr.contains("jane.doe"), "{stderr}");
}
