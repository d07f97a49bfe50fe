//! The entry points the fuzzers drive (`server/fuzz`, cargo-fuzz) and the tests that replay
//! their saved corpus on the pinned toolchain (`server/tests/fuzz_corpus.rs`): every parser of
//! outside input, fed arbitrary bytes. Each must answer or refuse; none may panic. Beyond not
//! panicking, each checks what it can of the result.

use crate::payments::{
    mpesa::Mpesa,
    paystack::Paystack,
    provider::{Provider, sign_timestamped, signature},
    sandbox::Sandbox,
    stripe::Stripe,
};
use axum::http::{HeaderMap, HeaderValue};
use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use std::sync::OnceLock;

/// One fuzz target: it takes any bytes.
pub type Target = fn(&[u8]);

/// The targets, by the name of their corpus folder.
pub const TARGETS: &[(&str, Target)] = &[
    ("telemetry", telemetry),
    ("callback", callback),
    ("csv_import", csv_import),
    ("tariff", tariff),
];

/// A meter's uplink: the first byte picks the channel (as the topic would), the rest is the
/// payload; and the whole input as a topic.
pub fn telemetry(data: &[u8]) {
    use crate::fleet::wire::{Uplink, parse_uplink_topic};
    let Some((&pick, payload)) = data.split_first() else {
        return;
    };
    let channel = ["reading", "status", "alarm", "ack", "other"][usize::from(pick % 5)];
    if let Ok(uplink) = Uplink::parse(channel, payload) {
        // What was read is written back the same way it would be sent.
        assert_eq!(uplink.channel(), channel);
        let again =
            Uplink::parse(channel, &uplink.to_json()).expect("an uplink read once reads again");
        assert_eq!(again.channel(), channel);
    }
    if let Ok(topic) = std::str::from_utf8(data) {
        let _ = parse_uplink_topic(topic);
    }
}

const SECRET: &str = "whsec_fuzzing";

struct Providers {
    stripe: Stripe,
    paystack: Paystack,
    mpesa: Mpesa,
    sandbox: Sandbox,
}

fn providers() -> &'static Providers {
    static PROVIDERS: OnceLock<Providers> = OnceLock::new();
    PROVIDERS.get_or_init(|| {
        let secret = || crate::config::Secret::new(SECRET);
        let http = reqwest::Client::new();
        Providers {
            stripe: Stripe {
                http: http.clone(),
                base_url: "http://127.0.0.1:9".into(),
                secret_key: secret(),
                webhook_secret: secret(),
            },
            paystack: Paystack {
                http: http.clone(),
                base_url: "http://127.0.0.1:9".into(),
                secret_key: secret(),
            },
            mpesa: Mpesa {
                http,
                base_url: "http://127.0.0.1:9".into(),
                short_code: "174379".into(),
                consumer_key: secret(),
                consumer_secret: secret(),
                passkey: secret(),
                initiator: None,
                payout_short_code: "600000".into(),
            },
            sandbox: Sandbox {
                origin: "http://127.0.0.1:9".into(),
                secret: secret(),
            },
        }
    })
}

/// A payment provider's callback. The first byte picks the provider and whether the body is
/// signed correctly (so the fuzzer reaches the parser behind the signature check, as a
/// provider's own malformed event would); the rest is the body.
pub fn callback(data: &[u8]) {
    let Some((&pick, body)) = data.split_first() else {
        return;
    };
    let now: DateTime<Utc> = DateTime::from_timestamp(1_790_000_000, 0).expect("a time");
    let signed = pick & 0x80 != 0;
    let providers = providers();
    let mut headers = HeaderMap::new();
    let (provider, header): (&dyn Provider, Option<(&str, String)>) = match pick % 4 {
        0 => (
            &providers.stripe,
            Some((
                "stripe-signature",
                sign_timestamped(SECRET.as_bytes(), body, now.timestamp()),
            )),
        ),
        1 => (
            &providers.paystack,
            Some((
                "x-paystack-signature",
                signature::hex(
                    ring::hmac::sign(
                        &ring::hmac::Key::new(ring::hmac::HMAC_SHA512, SECRET.as_bytes()),
                        body,
                    )
                    .as_ref(),
                ),
            )),
        ),
        2 => (&providers.mpesa, None),
        _ => (
            &providers.sandbox,
            Some((
                crate::payments::sandbox::SIGNATURE_HEADER,
                sign_timestamped(SECRET.as_bytes(), body, now.timestamp()),
            )),
        ),
    };
    if let Some((name, value)) = header
        && signed
    {
        headers.insert(name, HeaderValue::from_str(&value).expect("hex"));
    }
    let verified = provider.verify(&headers, body, now);
    if let Ok(notices) = verified {
        // Unsigned bodies never pass a provider that signs.
        assert!(signed || pick % 4 == 2, "an unsigned callback was believed");
        for notice in notices {
            assert!(
                !notice.event_key.is_empty(),
                "a notice without its event key"
            );
        }
    }
}

/// The CSV files managers import: bank statements and providers' settlement reports.
pub fn csv_import(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    for digits in [0, 2, 3] {
        if let Ok((credits, _skipped)) = app::domain::payments::parse_statement(text, digits) {
            for credit in credits {
                assert!(credit.amount.0 > 0, "a statement credit of nothing");
            }
        }
        let _ = app::domain::reconciliation::parse_settlement(text, digits);
    }
    if let Ok(table) = app::domain::csv::Table::parse(text, "fuzz") {
        for row in table.rows().flatten() {
            let _ = row.amount(0, 2);
        }
    }
}

/// A tariff definition as a manager's form or the API sends it (JSON): checked, then priced
/// on sample consumption taken from the same input.
pub fn tariff(data: &[u8]) {
    use app::domain::tariff::{Tariff, Usage, Version, price};
    let Ok(tariff) = serde_json::from_slice::<Tariff>(data) else {
        return;
    };
    if tariff.check().is_err() {
        return;
    }
    let zone = chrono_tz::Africa::Nairobi;
    let start: DateTime<Utc> = DateTime::from_timestamp(1_790_000_000, 0).expect("a time");
    // Sample consumption from the input's last bytes: up to about 4.3 million units, spread
    // over up to 200 hours, so bands, tiers and cycles all come into play.
    let mut tail = [0_u8; 4];
    for (slot, byte) in tail.iter_mut().zip(data.iter().rev()) {
        *slot = *byte;
    }
    let quantity = Decimal::from(u32::from_le_bytes(tail)) / Decimal::from(1000);
    let end = start + chrono::Duration::hours(i64::from(data.len() as u16 % 200) + 1);
    let versions = [Version {
        effective_from: start,
        tariff,
    }];
    let mut usage = Usage::starting_at(start, &zone, versions[0].tariff.cycle_start_day);
    let whole =
        price(&versions, &zone, start, end, quantity, &mut usage).expect("a checked tariff prices");
    assert!(whole.gross() >= Decimal::ZERO, "a charge below nothing");
}
