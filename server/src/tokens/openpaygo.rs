//! OpenPAYGO Token, the open standard for keypad pay-as-you-go devices, written from its
//! specification and checked against its published test vectors (`server/tests/data/openpaygo`).
//!
//! A device and the server share a 16-byte secret key and a nine-digit starting code. Every
//! token is the starting code hashed forward `count` times with SipHash-2-4, its last three
//! digits (six for an extended token) replaced by the value added to the starting code's own.
//! The device remembers the highest count it accepted, so each token works once. Even counts
//! carry "add" tokens, odd counts "set", "disable pay-as-you-go" and "counter sync" tokens;
//! the last two are the reserved values 998 and 999 on an odd count.
//!
//! Keypads with only four keys take the "restricted digit set": each pair of bits of the token
//! becomes one digit from 1 to 4 (15 digits for a standard token, 20 for an extended one).

use siphasher::sip::SipHasher24;
use std::fmt;

/// The largest value a standard token may add or set; 996–999 are reserved.
pub const MAX_STANDARD_VALUE: u32 = 995;
/// The largest value an extended token may add or set.
pub const MAX_EXTENDED_VALUE: u32 = 999_999;
const DISABLE_VALUE: u32 = 998;
const COUNTER_SYNC_VALUE: u32 = 999;
/// How far past the last accepted count a device looks for a token's count.
const MAX_JUMP: u32 = 64;
/// A counter-sync token may be this far ahead: it exists to catch a device up.
const MAX_JUMP_COUNTER_SYNC: u32 = 100;
/// Older "add" tokens not yet entered still work within this many counts.
const MAX_UNUSED_OLDER: u32 = 16;

/// One device's secret: never logged, never serialised.
#[derive(Clone, PartialEq, Eq)]
pub struct DeviceSecret {
    key: [u8; 16],
    starting_code: u32,
}

impl fmt::Debug for DeviceSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("DeviceSecret(..)")
    }
}

impl DeviceSecret {
    /// A key with the starting code the manufacturer flashed beside it.
    pub fn new(key: [u8; 16], starting_code: u32) -> Result<Self, TokenError> {
        if starting_code > 999_999_999 {
            return Err(TokenError::StartingCode);
        }
        Ok(Self { key, starting_code })
    }

    /// A key whose starting code is derived from the key itself, as the standard allows.
    pub fn from_key(key: [u8; 16]) -> Self {
        let starting_code = standard::from_hash(SipHasher24::new_with_key(&key).hash(&key));
        Self { key, starting_code }
    }

    /// Reads the 32 hexadecimal characters a key is written as.
    pub fn parse_key(hex: &str) -> Result<[u8; 16], TokenError> {
        let hex = hex.trim();
        if hex.len() != 32 || !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(TokenError::Key);
        }
        let mut key = [0u8; 16];
        for (i, byte) in key.iter_mut().enumerate() {
            *byte = u8::from_str_radix(&hex[2 * i..2 * i + 2], 16).map_err(|_| TokenError::Key)?;
        }
        Ok(key)
    }

    pub fn key(&self) -> &[u8; 16] {
        &self.key
    }

    pub fn starting_code(&self) -> u32 {
        self.starting_code
    }

    fn hash(&self, bytes: &[u8]) -> u64 {
        SipHasher24::new_with_key(&self.key).hash(bytes)
    }
}

/// What a token tells the device to do.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Command {
    /// Adds this many units (days, kWh: whatever the device counts, times its divider).
    AddCredit(u32),
    /// Replaces what the device holds; `SetCredit(0)` clears it.
    SetCredit(u32),
    /// Unlocks the device for good: no more pay-as-you-go.
    DisablePayg,
    /// Brings the device's counter up to the server's, adding nothing.
    CounterSync,
}

impl Command {
    fn value(self) -> u32 {
        match self {
            Command::AddCredit(value) | Command::SetCredit(value) => value,
            Command::DisablePayg => DISABLE_VALUE,
            Command::CounterSync => COUNTER_SYNC_VALUE,
        }
    }

    fn is_add(self) -> bool {
        matches!(self, Command::AddCredit(_))
    }

    /// The count a token for this command takes after `last`: the next even one for an
    /// add, the next odd one for anything else.
    pub fn next_count(self, last: u32) -> u32 {
        let want_odd = !self.is_add();
        if (last % 2 == 1) == want_odd {
            last + 2
        } else {
            last + 1
        }
    }
}

/// A token's length and keypad.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Format {
    /// Twelve digits, values up to 999,999, instead of nine and 995.
    pub extended: bool,
    /// Digits 1 to 4 only, for four-key keypads.
    pub restricted: bool,
}

impl Format {
    fn max_value(self) -> u32 {
        if self.extended {
            MAX_EXTENDED_VALUE
        } else {
            MAX_STANDARD_VALUE
        }
    }
}

/// A token ready to show, with the count the device will hold once it is entered.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Token {
    pub count: u32,
    pub digits: String,
}

/// A token the device accepted.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Accepted {
    pub command: Command,
    pub count: u32,
}

#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum TokenError {
    #[error("a device key is 32 hexadecimal characters")]
    Key,
    #[error("a starting code has at most nine digits")]
    StartingCode,
    #[error("this token format carries at most {0}")]
    TooLarge(u32),
    #[error("996 to 999 are reserved: a set token cannot carry them")]
    Reserved,
    #[error("the counter cannot go further")]
    CounterExhausted,
    #[error("a token is 9 or 12 digits, or 15 or 20 digits from 1 to 4 on a four-key keypad")]
    Malformed,
    #[error("this token does not belong to this device")]
    Invalid,
    #[error("this token was already used")]
    AlreadyUsed,
    #[error("the device would read this token as another command: its key cannot carry it now")]
    Ambiguous,
}

/// Makes the token for `command` after the device's last count `last`.
pub fn encode(
    secret: &DeviceSecret,
    last: u32,
    command: Command,
    format: Format,
) -> Result<Token, TokenError> {
    let value = command.value();
    if let Command::AddCredit(value) | Command::SetCredit(value) = command {
        if value > format.max_value() {
            return Err(TokenError::TooLarge(format.max_value()));
        }
        // On an odd count these values mean "disable" and "sync": refuse to send a set
        // token a device would read as one of them.
        if !command.is_add() && (DISABLE_VALUE..=COUNTER_SYNC_VALUE).contains(&value) {
            return Err(TokenError::Reserved);
        }
    }
    let first = command.next_count(last);
    if first > u32::MAX - MAX_JUMP_COUNTER_SYNC {
        return Err(TokenError::CounterExhausted);
    }
    // A key's chain of codes can come round, so a token's code is met first at an earlier
    // count of the other kind (an "add" count for a set token, or the reverse), and the device
    // would read another command: "disable" as 998 units of credit. Such a count is passed
    // over for the next of the same kind, inside the jump the device accepts; when the chain's
    // period is odd every count of the kind is met early, and the token is refused.
    (first..first + MAX_JUMP / 2)
        .step_by(2)
        .map(|count| token_at(secret, count, value, format))
        .find(|token| {
            decode(secret, &token.digits, last, &[]).is_ok_and(|read| read.command == command)
        })
        .ok_or(TokenError::Ambiguous)
}

/// The token for `value` at `count`: the key's chain of codes `count` steps on, in the format's
/// digits.
fn token_at(secret: &DeviceSecret, count: u32, value: u32, format: Format) -> Token {
    let code = if format.extended {
        extended::token(secret, count, value)
    } else {
        standard::token(secret, count, value)
    };
    let digits = match (format.extended, format.restricted) {
        (false, false) => format!("{code:09}"),
        (true, false) => format!("{code:012}"),
        (false, true) => to_keypad(code, 15),
        (true, true) => to_keypad(code, 20),
    };
    Token { count, digits }
}

/// What a device does with a typed token, given the highest count it accepted (`last`) and
/// the recent counts it has used (so an older, unused "add" token still works once).
pub fn decode(
    secret: &DeviceSecret,
    typed: &str,
    last: u32,
    used: &[u32],
) -> Result<Accepted, TokenError> {
    let (code, extended) = parse_typed(typed)?;
    let offset = if extended { 1_000_000 } else { 1_000 };
    let base = code % offset;
    let starting_base = u64::from(secret.starting_code) % offset;
    let value = ((base + offset - starting_base) % offset) as u32;
    let reach = if value == COUNTER_SYNC_VALUE {
        MAX_JUMP_COUNTER_SYNC
    } else {
        MAX_JUMP
    };
    let mut seen_used = false;
    let mut current = with_base(u64::from(secret.starting_code), base, offset);
    for count in 0..=last.saturating_add(reach) {
        if with_base(current, base, offset) == code {
            let command = command_at(count, value);
            if count_is_valid(count, last, command, used) {
                return Ok(Accepted { command, count });
            }
            seen_used = true;
        }
        current = if extended {
            extended::next(secret, current)
        } else {
            standard::next(secret, current as u32).into()
        };
    }
    Err(if seen_used {
        TokenError::AlreadyUsed
    } else {
        TokenError::Invalid
    })
}

fn command_at(count: u32, value: u32) -> Command {
    match (count % 2 == 1, value) {
        (false, value) => Command::AddCredit(value),
        (true, DISABLE_VALUE) => Command::DisablePayg,
        (true, COUNTER_SYNC_VALUE) => Command::CounterSync,
        (true, value) => Command::SetCredit(value),
    }
}

fn count_is_valid(count: u32, last: u32, command: Command, used: &[u32]) -> bool {
    match command {
        Command::CounterSync => count + MAX_JUMP > last,
        _ if count > last => true,
        Command::AddCredit(_) => count + MAX_UNUSED_OLDER > last && !used.contains(&count),
        _ => false,
    }
}

/// Reads what was typed into the number it encodes and whether it is an extended token.
fn parse_typed(typed: &str) -> Result<(u64, bool), TokenError> {
    let typed: String = typed.chars().filter(|c| !c.is_whitespace()).collect();
    if !typed.bytes().all(|b| b.is_ascii_digit()) {
        return Err(TokenError::Malformed);
    }
    match typed.len() {
        9 | 12 => Ok((
            typed.parse().map_err(|_| TokenError::Malformed)?,
            typed.len() == 12,
        )),
        15 | 20 => {
            let code = from_keypad(&typed).ok_or(TokenError::Malformed)?;
            Ok((code, typed.len() == 20))
        }
        _ => Err(TokenError::Malformed),
    }
}

fn with_base(code: u64, base: u64, offset: u64) -> u64 {
    code - code % offset + base
}

/// Two bits per digit, most significant first, each written as 1 to 4.
fn to_keypad(code: u64, digits: u32) -> String {
    (0..digits)
        .rev()
        .map(|pair| char::from(b'1' + ((code >> (2 * pair)) & 0b11) as u8))
        .collect()
}

fn from_keypad(typed: &str) -> Option<u64> {
    typed.bytes().try_fold(0u64, |code, digit| match digit {
        b'1'..=b'4' => Some((code << 2) | u64::from(digit - b'1')),
        _ => None,
    })
}

/// Nine-digit tokens: the code is hashed as its four bytes twice over, and the 64-bit hash
/// folded to 32 bits and then to 30.
mod standard {
    use super::{DeviceSecret, with_base};

    pub fn token(secret: &DeviceSecret, count: u32, value: u32) -> u64 {
        let base = (u64::from(secret.starting_code % 1_000) + u64::from(value)) % 1_000;
        let mut current = with_base(u64::from(secret.starting_code), base, 1_000) as u32;
        for _ in 0..count {
            current = next(secret, current);
        }
        with_base(u64::from(current), base, 1_000)
    }

    pub fn next(secret: &DeviceSecret, code: u32) -> u32 {
        let bytes = code.to_be_bytes();
        let mut twice = [0u8; 8];
        twice[..4].copy_from_slice(&bytes);
        twice[4..].copy_from_slice(&bytes);
        from_hash(secret.hash(&twice))
    }

    pub fn from_hash(hash: u64) -> u32 {
        let folded = (hash >> 32) as u32 ^ hash as u32;
        let code = folded >> 2;
        // 30 bits reach 1,073,741,823: fold the excess back under nine digits.
        if code > 999_999_999 {
            code - 73_741_825
        } else {
            code
        }
    }
}

/// Twelve-digit tokens: the code is hashed as eight bytes, and the top 40 bits of the hash
/// kept.
mod extended {
    use super::{DeviceSecret, with_base};

    pub fn token(secret: &DeviceSecret, count: u32, value: u32) -> u64 {
        let offset = 1_000_000;
        let base = (u64::from(secret.starting_code) % offset + u64::from(value)) % offset;
        let mut current = with_base(u64::from(secret.starting_code), base, offset);
        for _ in 0..count {
            current = next(secret, current);
        }
        with_base(current, base, offset)
    }

    pub fn next(secret: &DeviceSecret, code: u64) -> u64 {
        let code = secret.hash(&code.to_be_bytes()) >> 24;
        // 40 bits reach 1,099,511,627,775: fold the excess back under twelve digits.
        if code > 999_999_999_999 {
            code - 99_511_627_777
        } else {
            code
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn secret() -> DeviceSecret {
        DeviceSecret::new(
            DeviceSecret::parse_key("bc41ec9530f6dac86b1a29ab82edc5fb").unwrap(),
            516_959_010,
        )
        .unwrap()
    }

    #[test]
    fn siphash_matches_the_reference_vector() {
        // SipHash paper, appendix A: key 00..0f, message 00..0e.
        let key: [u8; 16] = core::array::from_fn(|i| i as u8);
        let message: Vec<u8> = (0..15).collect();
        assert_eq!(
            SipHasher24::new_with_key(&key).hash(&message),
            0xa129_ca61_49be_45e5
        );
    }

    #[test]
    fn keypad_digits_round_trip() {
        for code in [0, 1, 999_999_999, 123_456_789] {
            assert_eq!(from_keypad(&to_keypad(code, 15)), Some(code));
        }
        assert_eq!(to_keypad(0, 15), "111111111111111");
        assert_eq!(from_keypad("5"), None);
    }

    #[test]
    fn counts_alternate_by_kind() {
        assert_eq!(Command::AddCredit(1).next_count(1), 2);
        assert_eq!(Command::AddCredit(1).next_count(2), 4);
        assert_eq!(Command::SetCredit(1).next_count(1), 3);
        assert_eq!(Command::DisablePayg.next_count(10), 11);
    }

    #[test]
    fn refuses_what_a_device_would_misread() {
        let standard = Format::default();
        assert_eq!(
            encode(&secret(), 1, Command::AddCredit(996), standard),
            Err(TokenError::TooLarge(995))
        );
        let extended = Format {
            extended: true,
            restricted: false,
        };
        assert_eq!(
            encode(&secret(), 1, Command::SetCredit(998), extended),
            Err(TokenError::Reserved)
        );
        assert!(encode(&secret(), 1, Command::AddCredit(998), extended).is_ok());
        assert_eq!(DeviceSecret::parse_key("xyz"), Err(TokenError::Key));
        assert_eq!(
            decode(&secret(), "12345", 0, &[]),
            Err(TokenError::Malformed)
        );
        assert_eq!(
            decode(&secret(), "123451234512345", 0, &[]),
            Err(TokenError::Malformed)
        );
    }

    #[test]
    fn a_token_works_once_and_an_older_unused_add_still_works() {
        let format = Format::default();
        let first = encode(&secret(), 1, Command::AddCredit(30), format).unwrap();
        let second = encode(&secret(), first.count, Command::AddCredit(7), format).unwrap();
        let accepted = decode(&secret(), &second.digits, 1, &[]).unwrap();
        assert_eq!(accepted.command, Command::AddCredit(7));
        // The first, typed after the second, still adds (it was never used)...
        let late = decode(&secret(), &first.digits, accepted.count, &[accepted.count]).unwrap();
        assert_eq!(late.command, Command::AddCredit(30));
        // ...but not twice.
        assert_eq!(
            decode(&secret(), &first.digits, accepted.count, &[2, 4]),
            Err(TokenError::AlreadyUsed)
        );
    }

    /// The standard's published vectors (`server/tests/data/openpaygo/SOURCE.md`): each token
    /// is generated from its device, count, type and value, and decoded back by the device.
    #[test]
    fn every_published_vector_generates_and_decodes() {
        let vectors = include_str!("../../tests/data/openpaygo/test_tokens.jsonl");
        let mut checked = 0;
        for line in vectors.lines() {
            let case: serde_json::Value = serde_json::from_str(line).unwrap();
            let secret = DeviceSecret::new(
                DeviceSecret::parse_key(case["key"].as_str().unwrap()).unwrap(),
                case["starting_code"].as_u64().unwrap() as u32,
            )
            .unwrap();
            let count = case["count"].as_u64().unwrap() as u32;
            let value = case["value_raw"].as_u64().map(|v| v as u32);
            let command = match (case["token_type"].as_str().unwrap(), value) {
                ("ADD_TIME", Some(value)) => Command::AddCredit(value),
                ("SET_TIME", Some(value)) => Command::SetCredit(value),
                ("DISABLE_PAYG", None) => Command::DisablePayg,
                ("COUNTER_SYNC", None) => Command::CounterSync,
                other => panic!("unknown case {other:?}"),
            };
            let format = Format {
                extended: case["extended_token"].as_bool().unwrap(),
                restricted: case["restricted_digit_set"].as_bool().unwrap(),
            };
            let expected = Token {
                count: case["new_count"].as_u64().unwrap() as u32,
                digits: case["token"].as_str().unwrap().to_owned(),
            };
            assert_eq!(
                encode(&secret, count, command, format),
                Ok(expected.clone()),
                "{line}"
            );
            assert_eq!(
                decode(&secret, &expected.digits, count, &[]),
                Ok(Accepted {
                    command,
                    count: expected.count
                }),
                "{line}"
            );
            // Entered twice, it is refused the second time; a counter sync, which adds
            // nothing, may be entered again.
            let again = decode(&secret, &expected.digits, expected.count, &[expected.count]);
            if command == Command::CounterSync {
                assert!(again.is_ok(), "{line}");
            } else {
                assert_eq!(again, Err(TokenError::AlreadyUsed), "{line}");
            }
            checked += 1;
        }
        assert_eq!(checked, 80);
    }

    /// A token is for one device: every vector of the first device is refused by the second's.
    #[test]
    fn another_devices_decoder_refuses_every_token() {
        let vectors = include_str!("../../tests/data/openpaygo/test_tokens.jsonl");
        let other = DeviceSecret::new(
            DeviceSecret::parse_key("dac86b1a29ab82edc5fbbc41ec9530f6").unwrap(),
            432_435_255,
        )
        .unwrap();
        for line in vectors
            .lines()
            .filter(|line| line.contains("TEST220000001"))
        {
            let case: serde_json::Value = serde_json::from_str(line).unwrap();
            assert_eq!(
                decode(&other, case["token"].as_str().unwrap(), 1, &[]),
                Err(TokenError::Invalid),
                "{line}"
            );
        }
    }

    /// A case the property below once found. A device's codes are a chain of hashes, which
    /// can come round to an earlier code (its codes are nine digits); from there on a token
    /// reads as the earlier count's. OpenPAYGo's own decoder does the same: searching from
    /// zero, it records the earlier count for a "set" or "sync" token still within reach. (An
    /// "add" at a count the device passed is skipped and read at its own count.)
    #[test]
    fn a_token_whose_code_came_round_reads_at_the_earlier_count() {
        let key = [
            27, 86, 160, 153, 220, 192, 234, 157, 200, 65, 122, 185, 109, 245, 90, 123,
        ];
        let secret = DeviceSecret::from_key(key);
        let token = encode(&secret, 3309, Command::CounterSync, Format::default()).unwrap();
        assert_eq!(token.count, 3311);
        let earlier = token_at(&secret, 3263, COUNTER_SYNC_VALUE, Format::default());
        assert_eq!(earlier.digits, token.digits);
        let accepted = decode(&secret, &token.digits, 3309, &[]).unwrap();
        assert_eq!(
            accepted,
            Accepted {
                command: Command::CounterSync,
                count: 3263
            }
        );
    }

    /// A key whose chain of codes comes round with an odd period (found by the property below
    /// on CI): past it, every "disable" code is met first at an earlier "add" count, and the
    /// device would read 998 units of credit. The server refuses to make it.
    #[test]
    fn a_set_token_an_add_count_would_read_first_is_refused() {
        let key = [
            94, 213, 189, 174, 64, 170, 12, 44, 194, 179, 227, 79, 32, 7, 20, 14,
        ];
        let secret = DeviceSecret::from_key(key);
        let plain = token_at(&secret, 6193, DISABLE_VALUE, Format::default());
        let misread = decode(&secret, &plain.digits, 6191, &[]).unwrap();
        assert_eq!(misread.command, Command::AddCredit(DISABLE_VALUE));
        assert_eq!(
            encode(&secret, 6191, Command::DisablePayg, Format::default()),
            Err(TokenError::Ambiguous)
        );
        // An add token at the same point is made and read as it was meant.
        let add = encode(&secret, 6191, Command::AddCredit(5), Format::default()).unwrap();
        let read = decode(&secret, &add.digits, 6191, &[]).unwrap();
        assert_eq!(read.command, Command::AddCredit(5));
    }

    proptest::proptest! {
        /// Whatever the key, counter, command and format, the device reads back what the
        /// server made, at the count the server expects or, where the key's chain came round,
        /// at the earlier count whose code it is.
        #[test]
        fn the_device_reads_what_the_server_made(
            key in proptest::array::uniform16(proptest::num::u8::ANY),
            last in 0u32..10_000,
            value in 0u32..=995,
            kind in 0u8..4,
            extended: bool,
            restricted: bool,
        ) {
            let secret = DeviceSecret::from_key(key);
            let command = match kind {
                0 => Command::AddCredit(value),
                1 => Command::SetCredit(value.min(995)),
                2 => Command::DisablePayg,
                _ => Command::CounterSync,
            };
            let format = Format { extended, restricted };
            let token = match encode(&secret, last, command, format) {
                Ok(token) => token,
                Err(TokenError::Ambiguous) => {
                    // Refused only when the device would indeed misread it.
                    let plain = token_at(&secret, command.next_count(last), command.value(), format);
                    let read = decode(&secret, &plain.digits, last, &[]).map(|read| read.command);
                    proptest::prop_assert_ne!(read, Ok(command));
                    return Ok(());
                }
                Err(error) => return Err(proptest::test_runner::TestCaseError::fail(error.to_string())),
            };
            let accepted = decode(&secret, &token.digits, last, &[]).unwrap();
            proptest::prop_assert_eq!(accepted.command, command);
            if accepted.count != token.count {
                // Only where the chain came round (the test above): the device's code at the
                // count it read is this very token.
                let earlier = token_at(&secret, accepted.count, command.value(), format);
                proptest::prop_assert_eq!(earlier.digits, token.digits);
            }
        }
    }
}
