//! Time-based one-time passwords (RFC 6238 over RFC 4226): HMAC-SHA1, 30-second steps, six
//! digits, what every authenticator app speaks. A code is accepted for the step before and
//! after the current one (clocks drift), and each step only once.

use ring::hmac;

pub const STEP_S: i64 = 30;
const DIGITS: u32 = 6;
/// 160 bits, as RFC 4226 recommends.
pub const SECRET_BYTES: usize = 20;

/// The code for one step.
pub fn code_at(secret: &[u8], step: i64) -> u32 {
    let key = hmac::Key::new(hmac::HMAC_SHA1_FOR_LEGACY_USE_ONLY, secret);
    let digest = hmac::sign(&key, &step.to_be_bytes());
    let digest = digest.as_ref();
    let offset = usize::from(digest[digest.len() - 1] & 0x0f);
    let binary = u32::from_be_bytes([
        digest[offset] & 0x7f,
        digest[offset + 1],
        digest[offset + 2],
        digest[offset + 3],
    ]);
    binary % 10_u32.pow(DIGITS)
}

/// The step a code typed at `unix_s` matches, if any, newer than `last_used` (a code already
/// accepted, or an older one, never is again).
pub fn accepts(secret: &[u8], typed: &str, unix_s: i64, last_used: Option<i64>) -> Option<i64> {
    let typed: String = typed.chars().filter(|c| !c.is_whitespace()).collect();
    if typed.len() != DIGITS as usize || !typed.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let typed: u32 = typed.parse().ok()?;
    let now = unix_s.div_euclid(STEP_S);
    // Every candidate is computed, so the time taken does not tell which one matched.
    let mut matched = None;
    for step in [now - 1, now, now + 1] {
        if code_at(secret, step) == typed && last_used.is_none_or(|last| step > last) {
            matched = matched.or(Some(step));
        }
    }
    matched
}

/// RFC 4648 base32 without padding: how authenticator apps take a secret typed by hand.
pub fn base32(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 32] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
    let mut out = String::with_capacity(bytes.len().div_ceil(5) * 8);
    let (mut buffer, mut bits) = (0_u32, 0_u32);
    for &byte in bytes {
        buffer = (buffer << 8) | u32::from(byte);
        bits += 8;
        while bits >= 5 {
            bits -= 5;
            out.push(char::from(ALPHABET[((buffer >> bits) & 31) as usize]));
        }
    }
    if bits > 0 {
        out.push(char::from(ALPHABET[((buffer << (5 - bits)) & 31) as usize]));
    }
    out
}

/// The `otpauth://` address an authenticator app reads from the QR code.
pub fn otpauth_uri(issuer: &str, account: &str, secret: &[u8]) -> String {
    let escape = |text: &str| -> String {
        text.bytes()
            .map(|b| match b {
                b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' | b'@' => {
                    char::from(b).to_string()
                }
                _ => format!("%{b:02X}"),
            })
            .collect()
    };
    format!(
        "otpauth://totp/{}:{}?secret={}&issuer={}&algorithm=SHA1&digits={DIGITS}&period={STEP_S}",
        escape(issuer),
        escape(account),
        base32(secret),
        escape(issuer)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 6238's appendix B, SHA-1 column, to six digits.
    #[test]
    fn the_rfcs_test_vectors() {
        let secret = b"12345678901234567890";
        for (time, code) in [
            (59, 287_082),
            (1_111_111_109, 81_804),
            (1_111_111_111, 50_471),
            (1_234_567_890, 5_924),
            (2_000_000_000, 279_037),
            (20_000_000_000, 353_130),
        ] {
            assert_eq!(code_at(secret, time / STEP_S), code, "at {time}");
        }
    }

    #[test]
    fn a_code_works_in_its_window_once_and_never_after_a_newer_one() {
        let secret = b"12345678901234567890";
        let now = 1_234_567_890;
        let code = format!("{:06}", code_at(secret, now / STEP_S));
        assert_eq!(accepts(secret, &code, now, None), Some(now / STEP_S));
        assert_eq!(
            accepts(secret, &code, now + STEP_S, None),
            Some(now / STEP_S)
        );
        assert_eq!(
            accepts(secret, &code, now + 3 * STEP_S, None),
            None,
            "too late"
        );
        assert_eq!(
            accepts(secret, &code, now, Some(now / STEP_S)),
            None,
            "used"
        );
        assert_eq!(
            accepts(secret, &code, now, Some(now / STEP_S + 1)),
            None,
            "older than one used"
        );
        assert_eq!(accepts(secret, "12345", now, None), None);
        assert_eq!(accepts(secret, "abcdef", now, None), None);
        let spaced = format!("{} {}", &code[..3], &code[3..]);
        assert!(accepts(secret, &spaced, now, None).is_some());
    }

    #[test]
    fn base32_as_rfc_4648_writes_it() {
        assert_eq!(base32(b""), "");
        assert_eq!(base32(b"f"), "MY");
        assert_eq!(base32(b"fo"), "MZXQ");
        assert_eq!(base32(b"foobar"), "MZXW6YTBOI");
        assert_eq!(
            base32(b"12345678901234567890"),
            "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ"
        );
    }

    #[test]
    fn the_authenticator_address_names_issuer_and_account() {
        let uri = otpauth_uri("Prepaid", "a b@x.example", b"12345678901234567890");
        assert!(uri.starts_with("otpauth://totp/Prepaid:a%20b@x.example?secret=GEZDGNBV"));
        assert!(uri.contains("&issuer=Prepaid&"));
    }
}
