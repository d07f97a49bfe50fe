//! Reaching people outside the app: the channels a notice may take, phone numbers parsed at
//! the edge, which channels one notice takes for one person, and SMS text kept to one segment.

use super::i18n::Locale;
use serde::{Deserialize, Serialize};
use std::fmt;

/// A way a notice reaches a person.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Channel {
    Push,
    Sms,
    Email,
}

impl Channel {
    pub const ALL: [Channel; 3] = [Channel::Push, Channel::Sms, Channel::Email];

    pub fn as_str(self) -> &'static str {
        match self {
            Channel::Push => "push",
            Channel::Sms => "sms",
            Channel::Email => "email",
        }
    }

    pub fn parse(raw: &str) -> Option<Channel> {
        Channel::ALL
            .into_iter()
            .find(|channel| channel.as_str() == raw.trim())
    }
}

/// A mobile number in E.164 form: `+`, a country code and the number, 8 to 15 digits.
#[derive(Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct PhoneNumber(String);

#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum PhoneError {
    #[error("Enter a mobile number.")]
    Empty,
    #[error("Write the number with its country code, such as +254 712 345 678.")]
    NoCountryCode,
    #[error("A phone number has 8 to 15 digits after the +.")]
    Length,
    #[error("A phone number holds only digits, spaces, dashes and brackets.")]
    Characters,
}

impl PhoneNumber {
    pub fn parse(raw: &str) -> Result<Self, PhoneError> {
        let trimmed = raw.trim();
        if trimmed.is_empty() {
            return Err(PhoneError::Empty);
        }
        // 00 is the international prefix most of the world dials instead of +.
        let rest = match (trimmed.strip_prefix('+'), trimmed.strip_prefix("00")) {
            (Some(rest), _) | (None, Some(rest)) => rest,
            (None, None) => return Err(PhoneError::NoCountryCode),
        };
        let mut digits = String::with_capacity(16);
        for c in rest.chars() {
            match c {
                '0'..='9' => digits.push(c),
                ' ' | '-' | '(' | ')' | '.' => {}
                _ => return Err(PhoneError::Characters),
            }
        }
        if !(8..=15).contains(&digits.len()) || digits.starts_with('0') {
            return Err(PhoneError::Length);
        }
        Ok(Self(format!("+{digits}")))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The number with all but its last three digits hidden, for pages and lists that only
    /// need to recognise it.
    pub fn masked(&self) -> String {
        mask_phone(&self.0)
    }
}

/// `+254712345678` as `+254 ••• ••• 678`; anything shorter is hidden entirely.
pub fn mask_phone(number: &str) -> String {
    let digits: Vec<char> = number.chars().filter(char::is_ascii_digit).collect();
    if digits.len() < 8 {
        return "•••".into();
    }
    let country: String = digits[..3].iter().collect();
    let last: String = digits[digits.len() - 3..].iter().collect();
    format!("+{country} ••• ••• {last}")
}

/// `someone@example.org` as `so•••@example.org`.
pub fn mask_email(address: &str) -> String {
    match address.rsplit_once('@') {
        Some((local, domain)) => {
            let shown: String = local.chars().take(2).collect();
            format!("{shown}•••@{domain}")
        }
        None => "•••".into(),
    }
}

impl fmt::Debug for PhoneNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "PhoneNumber({})", self.masked())
    }
}

impl TryFrom<String> for PhoneNumber {
    type Error = PhoneError;

    fn try_from(value: String) -> Result<Self, Self::Error> {
        Self::parse(&value)
    }
}

impl From<PhoneNumber> for String {
    fn from(value: PhoneNumber) -> Self {
        value.0
    }
}

/// What decides the channels of one notice for one person.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Reach {
    /// The person has at least one browser subscribed to push.
    pub push_devices: bool,
    /// They asked for SMS, and for e-mail, as well.
    pub wants_sms: bool,
    pub wants_email: bool,
    /// A confirmed phone number is known.
    pub has_phone: bool,
    /// The site lets notices go by SMS, and by e-mail, and the platform has a sender for each.
    pub site_sms: bool,
    pub site_email: bool,
}

/// The channels a notice takes: push to every device, SMS and e-mail when asked for and
/// possible; and someone with no device and nothing else possible falls back to SMS, then
/// e-mail, so that nobody is left unwarned for want of the app.
pub fn channels_for(reach: Reach) -> Vec<Channel> {
    let sms = reach.site_sms && reach.has_phone;
    let email = reach.site_email;
    let mut chosen = Vec::with_capacity(3);
    if reach.push_devices {
        chosen.push(Channel::Push);
    }
    if reach.wants_sms && sms {
        chosen.push(Channel::Sms);
    }
    if reach.wants_email && email {
        chosen.push(Channel::Email);
    }
    if chosen.is_empty() {
        if sms {
            chosen.push(Channel::Sms);
        } else if email {
            chosen.push(Channel::Email);
        }
    }
    chosen
}

/// Characters an SMS may carry in the GSM 03.38 default alphabet without switching the whole
/// message to UCS-2 (which holds 70 characters a segment instead of 160).
const GSM_BASIC: &str = "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞ ÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?\
¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà";
/// Characters of the GSM extension table: each takes two septets.
const GSM_EXTENDED: &str = "^{}\\[~]|€\x0c";

fn gsm_septets(c: char) -> Option<usize> {
    if GSM_BASIC.contains(c) {
        Some(1)
    } else if GSM_EXTENDED.contains(c) {
        Some(2)
    } else {
        None
    }
}

/// Look-alikes from outside the GSM alphabet written with one from inside it, so that one
/// stray character (a typographic apostrophe, an accent) does not cost a message half its room.
fn to_gsm(c: char) -> Option<&'static str> {
    Some(match c {
        '‘' | '’' | '`' => "'",
        '“' | '”' => "\"",
        '–' | '—' | '−' => "-",
        '…' => "...",
        '•' | '·' => ".",
        '\u{a0}' | '\u{202f}' => " ",
        'á' | 'â' | 'ã' => "a",
        'ç' => "c",
        'ê' | 'ë' => "e",
        'í' | 'î' | 'ï' => "i",
        'ó' | 'ô' | 'õ' => "o",
        'ú' | 'û' => "u",
        'Á' | 'À' | 'Â' => "A",
        'È' | 'Ê' => "E",
        _ => return None,
    })
}

/// An SMS ready to send: its text and how many segments it takes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Sms {
    pub text: String,
    /// UCS-2 (any script), else the GSM 7-bit alphabet.
    pub unicode: bool,
    pub segments: usize,
}

impl Sms {
    /// The text in the GSM alphabet when it can be written in it (with look-alikes replaced),
    /// else as it is in UCS-2, and its length in segments.
    pub fn new(text: &str) -> Sms {
        let mut gsm = String::with_capacity(text.len());
        let mut septets = 0;
        let mut fits = true;
        for c in text.chars() {
            if let Some(size) = gsm_septets(c) {
                gsm.push(c);
                septets += size;
            } else if let Some(plain) = to_gsm(c) {
                gsm.push_str(plain);
                septets += plain.len();
            } else {
                fits = false;
                break;
            }
        }
        if fits {
            let segments = if septets <= 160 {
                1
            } else {
                septets.div_ceil(153)
            };
            return Sms {
                text: gsm,
                unicode: false,
                segments,
            };
        }
        let units = text.encode_utf16().count();
        let segments = if units <= 70 { 1 } else { units.div_ceil(67) };
        Sms {
            text: text.to_owned(),
            unicode: true,
            segments,
        }
    }
}

/// A notice as an SMS: "Title: body" when that fits one segment, else the body alone (the
/// title mostly repeats it), else the longer text as it is.
pub fn notice_sms(title: &str, body: &str) -> Sms {
    let full = Sms::new(&format!("{title}: {body}"));
    if full.segments == 1 {
        return full;
    }
    let short = Sms::new(body);
    if short.segments < full.segments {
        short
    } else {
        full
    }
}

/// A search of the notices a site sent: by person (name or address), kind, channel, failures.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeliveryQuery {
    pub person: String,
    pub kind: String,
    pub channel: Option<Channel>,
    pub failed_only: bool,
    /// Only lines older than this delivery id (the next page).
    pub before: Option<i64>,
}

/// One notice to one person on one channel, as a manager sees it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeliveryLine {
    pub id: i64,
    /// When it was handed out, on the site's clock.
    pub at: chrono::NaiveDateTime,
    pub person: String,
    pub unit: Option<String>,
    pub kind: String,
    pub channel: Channel,
    /// The number or address, masked; a device's name for push.
    pub to: String,
    /// queued, sending, sent, delivered, replaced, gone, failed.
    pub status: String,
    pub attempts: i64,
    pub error: Option<String>,
}

/// What a site lets its notices take, and what the platform can send.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SiteChannels {
    pub sms: bool,
    pub email: bool,
    pub email_from: Option<String>,
    /// An SMS provider, and a mail server, are configured on the platform.
    pub sms_configured: bool,
    pub email_configured: bool,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeliveryPage {
    pub lines: Vec<DeliveryLine>,
    /// The id to ask `before` for the next page, if there is one.
    pub older: Option<i64>,
    /// Deliveries per status over the whole search (not only this page).
    pub totals: Vec<(String, i64)>,
    pub channels: SiteChannels,
    /// The site's time zone's name, for the times shown.
    pub zone: String,
}

/// A message the demo's sandbox outbox kept instead of sending it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SandboxMessage {
    pub id: u64,
    pub at: chrono::DateTime<chrono::Utc>,
    pub channel: Channel,
    pub to: String,
    /// An e-mail's subject.
    pub subject: Option<String>,
    pub text: String,
}

/// Why a one-time code or link was sent.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CodePurpose {
    /// A forgotten password.
    Reset,
    /// A new account's first password.
    Invite,
    /// Signing in with a phone number.
    SignIn,
    /// Confirming a phone number before it is saved.
    VerifyPhone,
}

impl CodePurpose {
    pub fn as_str(self) -> &'static str {
        match self {
            CodePurpose::Reset => "reset",
            CodePurpose::Invite => "invite",
            CodePurpose::SignIn => "sign_in",
            CodePurpose::VerifyPhone => "verify_phone",
        }
    }
}

/// The SMS carrying a six-digit code: the code first, so phones offer to fill it in.
pub fn code_sms(purpose: CodePurpose, code: &str, minutes: i64, locale: Locale) -> String {
    let what = match (purpose, locale) {
        (CodePurpose::SignIn, Locale::En) => "to sign in",
        (CodePurpose::SignIn, Locale::Sw) => "kuingia",
        (CodePurpose::SignIn, Locale::Zh) => "登录",
        (CodePurpose::VerifyPhone, Locale::En) => "to confirm this number",
        (CodePurpose::VerifyPhone, Locale::Sw) => "kuthibitisha namba hii",
        (CodePurpose::VerifyPhone, Locale::Zh) => "验证此号码",
        (_, Locale::En) => "to choose a new password",
        (_, Locale::Sw) => "kuchagua nenosiri jipya",
        (_, Locale::Zh) => "设置新密码",
    };
    match locale {
        Locale::En => format!(
            "{code} is your code {what}. It works once, for {minutes} minutes. Never share it."
        ),
        Locale::Sw => format!(
            "{code} ni nambari yako {what}. Inatumika mara moja, kwa dakika {minutes}. Usimpe mtu."
        ),
        Locale::Zh => {
            format!("{code}是您{what}的验证码，{minutes}分钟内有效，仅可使用一次。请勿告诉他人。")
        }
    }
}

/// The words of a message carrying a one-time link: subject and text. A reset link works for
/// an hour, an invitation for seven days (`RESET_LINK_HOURS`, `INVITE_HOURS` on the server).
pub fn link_message(
    purpose: CodePurpose,
    name: &str,
    link: &str,
    locale: Locale,
) -> (String, String) {
    let invite = purpose == CodePurpose::Invite;
    let valid = match (locale, invite) {
        (Locale::En, true) => "seven days",
        (Locale::En, false) => "one hour",
        (Locale::Sw, true) => "siku saba",
        (Locale::Sw, false) => "saa moja",
        (Locale::Zh, true) => "七天",
        (Locale::Zh, false) => "一小时",
    };
    match locale {
        Locale::En if invite => (
            "Your prepaid account is ready".into(),
            format!(
                "Hello {name},\n\nAn account was opened for you. Choose your password here (the link works once, for {valid}):\n{link}"
            ),
        ),
        Locale::En => (
            "Choose a new password".into(),
            format!(
                "Hello {name},\n\nSomeone asked to reset your password. If it was you, choose a new one here (the link works once, for {valid}):\n{link}\n\nIf it was not you, ignore this message: nothing changes."
            ),
        ),
        Locale::Sw if invite => (
            "Akaunti yako ya malipo ya awali iko tayari".into(),
            format!(
                "Habari {name},\n\nAkaunti imefunguliwa kwa ajili yako. Chagua nenosiri lako hapa (kiungo kinatumika mara moja, kwa {valid}):\n{link}"
            ),
        ),
        Locale::Sw => (
            "Chagua nenosiri jipya".into(),
            format!(
                "Habari {name},\n\nMtu ameomba kubadilisha nenosiri lako. Kama ni wewe, chagua jipya hapa (kiungo kinatumika mara moja, kwa {valid}):\n{link}\n\nKama si wewe, puuza ujumbe huu: hakuna kitakachobadilika."
            ),
        ),
        Locale::Zh if invite => (
            "您的预付费账户已开通".into(),
            format!(
                "{name}您好：\n\n您的账户已开通。请点击以下链接设置密码（仅可使用一次，{valid}内有效）：\n{link}"
            ),
        ),
        Locale::Zh => (
            "设置新密码".into(),
            format!(
                "{name}您好：\n\n有人申请重置您的密码。如果是您本人，请点击以下链接设置新密码（仅可使用一次，{valid}内有效）：\n{link}\n\n如果不是您本人，请忽略本邮件，账户不会有任何变化。"
            ),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn phone_numbers_are_parsed_to_e164_and_masked() {
        let number = PhoneNumber::parse(" +254 (712) 345-678 ").unwrap();
        assert_eq!(number.as_str(), "+254712345678");
        assert_eq!(
            PhoneNumber::parse("00254712345678").unwrap().as_str(),
            "+254712345678"
        );
        assert_eq!(number.masked(), "+254 ••• ••• 678");
        assert!(!format!("{number:?}").contains("712345"));
        assert_eq!(
            PhoneNumber::parse("0712345678"),
            Err(PhoneError::NoCountryCode)
        );
        assert_eq!(PhoneNumber::parse("+12345"), Err(PhoneError::Length));
        assert_eq!(
            PhoneNumber::parse("+2547x2345678"),
            Err(PhoneError::Characters)
        );
        assert_eq!(PhoneNumber::parse("  "), Err(PhoneError::Empty));
        assert_eq!(mask_email("amina@example.org"), "am•••@example.org");
    }

    #[test]
    fn gsm_text_takes_160_characters_a_segment_and_unicode_70() {
        assert_eq!(Sms::new(&"a".repeat(160)).segments, 1);
        assert_eq!(Sms::new(&"a".repeat(161)).segments, 2);
        assert_eq!(Sms::new(&"a".repeat(306)).segments, 2);
        // € is in the extension table: two septets.
        assert_eq!(Sms::new(&"€".repeat(80)).segments, 1);
        assert_eq!(Sms::new(&"€".repeat(81)).segments, 2);
        let chinese = Sms::new(&"电".repeat(70));
        assert!(chinese.unicode);
        assert_eq!(chinese.segments, 1);
        assert_eq!(Sms::new(&"电".repeat(71)).segments, 2);
        // A typographic apostrophe does not turn the message into UCS-2.
        let quoted = Sms::new("Your meter’s token – ready");
        assert!(!quoted.unicode);
        assert_eq!(quoted.text, "Your meter's token - ready");
    }

    #[test]
    fn a_long_notice_drops_its_title_to_stay_in_one_segment() {
        // "A title: " and 155 characters pass 160; the body alone fits.
        let body = "b".repeat(155);
        let sms = notice_sms("A title", &body);
        assert_eq!(sms.segments, 1);
        assert_eq!(sms.text, body);
        assert_eq!(notice_sms("Low", "balance").text, "Low: balance");
    }

    #[test]
    fn channels_follow_choices_and_fall_back_when_there_is_no_device() {
        let all_possible = Reach {
            has_phone: true,
            site_sms: true,
            site_email: true,
            ..Reach::default()
        };
        let chosen = |reach| channels_for(reach);
        assert_eq!(
            chosen(Reach {
                push_devices: true,
                ..all_possible
            }),
            vec![Channel::Push]
        );
        assert_eq!(
            chosen(Reach {
                push_devices: true,
                wants_sms: true,
                wants_email: true,
                ..all_possible
            }),
            vec![Channel::Push, Channel::Sms, Channel::Email]
        );
        assert_eq!(chosen(all_possible), vec![Channel::Sms]);
        assert_eq!(
            chosen(Reach {
                has_phone: false,
                ..all_possible
            }),
            vec![Channel::Email]
        );
        assert_eq!(
            chosen(Reach {
                site_sms: false,
                wants_sms: true,
                ..all_possible
            }),
            vec![Channel::Email]
        );
        assert_eq!(chosen(Reach::default()), Vec::<Channel>::new());
    }

    #[test]
    fn codes_fit_one_sms_in_every_language() {
        for locale in Locale::ALL {
            for purpose in [
                CodePurpose::Reset,
                CodePurpose::Invite,
                CodePurpose::SignIn,
                CodePurpose::VerifyPhone,
            ] {
                let text = code_sms(purpose, "123456", 10, locale);
                assert!(text.starts_with("123456"), "{text}");
                assert_eq!(Sms::new(&text).segments, 1, "{text}");
            }
            let (subject, text) =
                link_message(CodePurpose::Invite, "Amina", "https://x/reset/t", locale);
            assert!(!subject.is_empty() && text.contains("https://x/reset/t"));
        }
    }

    proptest! {
        /// Whoever can be reached at all is reached by some channel, and nothing is chosen
        /// that the site or the person's details rule out.
        #[test]
        fn nobody_reachable_is_left_out(
            push_devices: bool, wants_sms: bool, wants_email: bool,
            has_phone: bool, site_sms: bool, site_email: bool,
        ) {
            let reach = Reach { push_devices, wants_sms, wants_email, has_phone, site_sms, site_email };
            let chosen = channels_for(reach);
            let reachable = push_devices || (has_phone && site_sms) || site_email;
            prop_assert_eq!(!chosen.is_empty(), reachable);
            prop_assert_eq!(chosen.contains(&Channel::Push), push_devices);
            if chosen.contains(&Channel::Sms) {
                prop_assert!(has_phone && site_sms);
            }
            if chosen.contains(&Channel::Email) {
                prop_assert!(site_email);
            }
        }

        /// Whatever the text, the count of segments is what a phone would need.
        #[test]
        fn segments_cover_the_text(text in "\\PC{0,400}") {
            let sms = Sms::new(&text);
            let room = if sms.unicode {
                if sms.segments == 1 { 70 } else { 67 * sms.segments }
            } else if sms.segments == 1 { 160 } else { 153 * sms.segments };
            let used = if sms.unicode {
                sms.text.encode_utf16().count()
            } else {
                sms.text.chars().map(|c| gsm_septets(c).unwrap_or(99)).sum()
            };
            prop_assert!(used <= room);
        }
    }
}
