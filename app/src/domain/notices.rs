//! Notices to people: what kinds there are, which of them a person muted or holds during quiet
//! hours, and what each says in each language. The engine queues a notice as a kind and a few
//! facts (JSON); the words are made here, once, for push messages and in-app lists alike.

use super::{
    alarm_details::{AlarmDetail, SiteClock},
    i18n::Locale,
};
use chrono::{DateTime, NaiveDateTime, NaiveTime, Timelike, Utc};
use serde::{Deserialize, Serialize};

/// The groups a person turns on or off in their settings.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Category {
    /// Each low-balance level, and "few days left".
    LowBalance,
    /// Supply cut or restricted for want of credit.
    CutOff,
    /// Supply back (or a gas valve ready to reopen at the meter).
    Reconnection,
    Payments,
    /// Alarms that are not about safety (a meter offline, a command never acknowledged);
    /// safety alarms cannot be muted.
    Alarms,
}

impl Category {
    pub const ALL: [Category; 5] = [
        Category::LowBalance,
        Category::CutOff,
        Category::Reconnection,
        Category::Payments,
        Category::Alarms,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Category::LowBalance => "low_balance",
            Category::CutOff => "cut_off",
            Category::Reconnection => "reconnection",
            Category::Payments => "payments",
            Category::Alarms => "alarms",
        }
    }

    pub fn parse(raw: &str) -> Option<Category> {
        Category::ALL
            .into_iter()
            .find(|category| category.as_str() == raw.trim())
    }

    /// The group a stored notice kind belongs to.
    pub fn of_kind(kind: &str) -> Option<Category> {
        if kind.starts_with("low_balance_") || kind == "few_days_left" {
            return Some(Category::LowBalance);
        }
        match kind {
            "cut_off" | "restricted" | "protected_at_zero" => Some(Category::CutOff),
            "reconnected" | "armed" => Some(Category::Reconnection),
            "payment_received" | "token_issued" => Some(Category::Payments),
            "fault_report" => Some(Category::Alarms),
            _ if kind.starts_with("alarm_") => Some(Category::Alarms),
            _ => None,
        }
    }

    pub fn label(self, locale: Locale) -> &'static str {
        use Locale::*;
        match (self, locale) {
            (Category::LowBalance, En) => "Low balance",
            (Category::LowBalance, Sw) => "Salio la chini",
            (Category::LowBalance, Zh) => "余额不足",
            (Category::CutOff, En) => "Supply cut off",
            (Category::CutOff, Sw) => "Huduma kukatwa",
            (Category::CutOff, Zh) => "停止供应",
            (Category::Reconnection, En) => "Supply back on",
            (Category::Reconnection, Sw) => "Huduma kurudi",
            (Category::Reconnection, Zh) => "恢复供应",
            (Category::Payments, En) => "Payments received",
            (Category::Payments, Sw) => "Malipo yaliyopokelewa",
            (Category::Payments, Zh) => "收到付款",
            (Category::Alarms, En) => "Other alarms (meter offline, command failed)",
            (Category::Alarms, Sw) => "Kengele nyingine (mita haipo mtandaoni, amri imeshindwa)",
            (Category::Alarms, Zh) => "其他告警（电表离线、指令失败）",
        }
    }
}

/// Safety alarms reach people whatever they muted and whenever it is.
pub fn is_safety(kind: &str) -> bool {
    matches!(
        kind,
        "alarm_gas_leak" | "alarm_overload" | "alarm_water_flow" | "alarm_water_spike"
    )
}

/// A daily stretch of local time when notices wait, such as 22:00 to 07:00.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct QuietHours {
    pub from: NaiveTime,
    pub to: NaiveTime,
}

#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum BadQuietHours {
    #[error("write times as HH:MM, such as 22:00")]
    Time,
    #[error("quiet hours need a start and an end that differ")]
    Empty,
}

impl QuietHours {
    /// From two `HH:MM` fields; both empty means none.
    pub fn parse(from: &str, to: &str) -> Result<Option<QuietHours>, BadQuietHours> {
        let (from, to) = (from.trim(), to.trim());
        if from.is_empty() && to.is_empty() {
            return Ok(None);
        }
        let time =
            |raw: &str| NaiveTime::parse_from_str(raw, "%H:%M").map_err(|_| BadQuietHours::Time);
        let (from, to) = (time(from)?, time(to)?);
        if from == to {
            return Err(BadQuietHours::Empty);
        }
        Ok(Some(QuietHours { from, to }))
    }

    pub fn contains(self, time: NaiveTime) -> bool {
        if self.from < self.to {
            self.from <= time && time < self.to
        } else {
            time >= self.from || time < self.to
        }
    }

    /// When the quiet stretch holding `now` (local) ends; `None` if `now` is not in one.
    pub fn ends_after(self, now: NaiveDateTime) -> Option<NaiveDateTime> {
        if !self.contains(now.time()) {
            return None;
        }
        let today = now.date().and_time(self.to);
        Some(if today > now {
            today
        } else {
            today + chrono::Duration::days(1)
        })
    }

    pub fn describe(self) -> String {
        format!(
            "{:02}:{:02}–{:02}:{:02}",
            self.from.hour(),
            self.from.minute(),
            self.to.hour(),
            self.to.minute()
        )
    }
}

/// What a person chose in their notification settings.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Preferences {
    pub muted: Vec<Category>,
    pub quiet: Option<QuietHours>,
    /// The language notices are written in; `None`: the site's.
    pub locale: Option<Locale>,
    /// Also by SMS, and by e-mail (push goes to every subscribed device anyway).
    #[serde(default)]
    pub by_sms: bool,
    #[serde(default)]
    pub by_email: bool,
}

impl Preferences {
    /// Whether a notice of this kind is sent at all.
    pub fn wants(&self, kind: &str) -> bool {
        if is_safety(kind) {
            return true;
        }
        Category::of_kind(kind).is_none_or(|category| !self.muted.contains(&category))
    }

    /// When a notice of this kind may go, if quiet hours hold it at `now` (local time).
    pub fn held_until(&self, kind: &str, now: NaiveDateTime) -> Option<NaiveDateTime> {
        if is_safety(kind) {
            return None;
        }
        self.quiet.and_then(|quiet| quiet.ends_after(now))
    }
}

/// The facts a queued notice carries (its JSON body); each kind fills some of them.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct NoticeFacts {
    pub account: Option<i64>,
    pub balance_minor: Option<i64>,
    pub amount_minor: Option<i64>,
    pub receipt: Option<String>,
    pub payment: Option<String>,
    pub alarm: Option<i64>,
    /// A resident's fault report.
    pub fault: Option<i64>,
    pub detail: Option<String>,
    /// A keypad meter's token, grouped for typing.
    pub token: Option<String>,
    /// What a move-out settled, for the statement.
    pub statement: Option<MoveOutStatement>,
    /// A site notice's heading (its text is `detail`): the manager's words.
    pub heading: Option<String>,
}

/// What a move-out settled: each closed account's remainder and where it went.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct MoveOutStatement {
    pub unit: String,
    /// The day, on the site's clock.
    pub date: String,
    pub lines: Vec<StatementLine>,
    pub refund_minor: i64,
    pub debt_minor: i64,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct StatementLine {
    /// The account's utility ("electricity"), empty for a unit wallet.
    pub utility: String,
    /// What the account held when it closed (negative: owed).
    pub remainder_minor: i64,
    /// Carried to the account of a unit moved to, not refunded.
    pub carried: bool,
}

impl MoveOutStatement {
    /// The statement as a plain-text document, for an e-mail attachment and for print.
    pub fn document(&self, locale: Locale, money: &dyn Fn(i64) -> String) -> String {
        let (heading, unit, date, account, remainder, carried, refund, debt, settled) = match locale
        {
            Locale::En => (
                "Move-out statement",
                "Unit",
                "Moved out",
                "Account",
                "Remainder",
                "carried to your new unit",
                "Refund due to you",
                "Amount you owe",
                "Nothing is owed either way.",
            ),
            Locale::Sw => (
                "Taarifa ya kuhama",
                "Nyumba",
                "Tarehe ya kuhama",
                "Akaunti",
                "Salio",
                "limehamishiwa nyumba yako mpya",
                "Marejesho unayostahili",
                "Kiasi unachodaiwa",
                "Hakuna deni wala marejesho.",
            ),
            Locale::Zh => (
                "退房结算单",
                "房间",
                "退房日期",
                "账户",
                "余额",
                "已转入新房间",
                "应退还您",
                "您应付",
                "双方互不相欠。",
            ),
        };
        let mut text = format!(
            "{heading}\n\n{unit}: {}\n{date}: {}\n\n",
            self.unit, self.date
        );
        for line in &self.lines {
            let name = if line.utility.is_empty() {
                account.to_owned()
            } else {
                format!("{account} ({})", line.utility)
            };
            let note = if line.carried {
                format!(" ({carried})")
            } else {
                String::new()
            };
            text.push_str(&format!(
                "{name}: {remainder} {}{note}\n",
                money(line.remainder_minor)
            ));
        }
        text.push('\n');
        if self.refund_minor > 0 {
            text.push_str(&format!("{refund}: {}\n", money(self.refund_minor)));
        }
        if self.debt_minor > 0 {
            text.push_str(&format!("{debt}: {}\n", money(self.debt_minor)));
        }
        if self.refund_minor <= 0 && self.debt_minor <= 0 {
            text.push_str(settled);
            text.push('\n');
        }
        text
    }
}

/// A notice as a person reads it: on the lock screen, in a list.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Message {
    pub title: String,
    pub body: String,
    /// Notices with the same tag replace each other on the device (a newer low balance
    /// replaces an older one).
    pub tag: String,
    /// Where tapping it leads.
    pub url: String,
    /// Cut-offs and alarms: delivered at once even to a device saving battery.
    pub urgent: bool,
}

impl Message {
    /// The notice as an SMS, kept to one segment where the words allow.
    pub fn sms(&self) -> super::messaging::Sms {
        super::messaging::notice_sms(&self.title, &self.body)
    }

    /// The RFC 8030 topic that lets the push service drop an older, undelivered message of
    /// the same kind: balance notices only, which each replace the last.
    pub fn topic(&self) -> Option<&str> {
        self.tag
            .starts_with("balance-")
            .then_some(self.tag.as_str())
    }
}

/// The words of a notice. `money` writes an amount in minor units in the site's currency;
/// `clock` puts a time the notice names on the site's clock.
pub fn message(
    kind: &str,
    facts: &NoticeFacts,
    locale: Locale,
    site: i64,
    money: &dyn Fn(i64) -> String,
    clock: SiteClock,
) -> Message {
    let account = facts.account.unwrap_or_default();
    let balance = facts.balance_minor.map(money).unwrap_or_default();
    let account_url = format!("/accounts/{account}");
    if kind == super::site_notice::KIND {
        // The manager's own words, in the one language they wrote them in.
        let heading = facts.heading.clone().unwrap_or_default();
        return Message {
            tag: format!("site-notice-{heading}"),
            title: heading,
            body: facts.detail.clone().unwrap_or_default(),
            url: "/notifications".to_owned(),
            urgent: false,
        };
    }
    let (title, body, tag, url, urgent) = match kind {
        k if k.starts_with("low_balance_") || k == "few_days_left" => {
            let (title, body) = low_balance(locale, k == "few_days_left", &balance);
            (
                title,
                body,
                format!("balance-{account}"),
                account_url,
                false,
            )
        }
        "cut_off" | "restricted" => {
            let (title, body) = cut_off(locale, kind == "restricted");
            (title, body, format!("supply-{account}"), account_url, true)
        }
        "reconnected" | "armed" => {
            let (title, body) = reconnected(locale, kind == "armed", &balance);
            (title, body, format!("supply-{account}"), account_url, false)
        }
        "payment_received" => {
            let amount = facts.amount_minor.map(money).unwrap_or_default();
            let receipt = facts.receipt.clone().unwrap_or_default();
            let (title, body) = payment(locale, &amount, &receipt, &balance);
            let payment = facts.payment.clone().unwrap_or_default();
            let url = format!("/payments/{payment}");
            (title, body, format!("payment-{payment}"), url, false)
        }
        "token_issued" => {
            let token = facts.token.clone().unwrap_or_default();
            let detail = facts.detail.clone().unwrap_or_default();
            let (title, body) = token_issued(locale, &token, &detail);
            (title, body, format!("token-{token}"), account_url, false)
        }
        "fault_report" => {
            let title = match locale {
                Locale::En => "Fault reported",
                Locale::Sw => "Hitilafu imeripotiwa",
                Locale::Zh => "住户报修",
            };
            let body = facts.detail.clone().unwrap_or_default();
            let tag = format!("fault-{}", facts.fault.unwrap_or_default());
            let url = format!("/manage/sites/{site}/fleet");
            (title, body, tag, url, false)
        }
        "moved_out" => {
            let statement = facts.statement.clone().unwrap_or_default();
            let (title, body) = moved_out(locale, &statement, money);
            let tag = format!("moved-out-{account}");
            (title, body, tag, "/".to_owned(), false)
        }
        "protected_at_zero" => {
            let (title, body) = protected_at_zero(locale);
            let url = format!("/manage/sites/{site}");
            (title, body, format!("protected-{account}"), url, false)
        }
        other => {
            let alarm = other.strip_prefix("alarm_").unwrap_or(other);
            let (title, body) = alarm_words(locale, alarm);
            let body = match facts.detail.as_deref() {
                // The title names the alarm; the detail says how much or since when.
                Some(detail) if !detail.is_empty() && !is_safety(other) => {
                    format!("{body} ({})", AlarmDetail::reword(detail, locale, clock))
                }
                _ => body.to_owned(),
            };
            let tag = format!("alarm-{}", facts.alarm.unwrap_or_default());
            let url = if facts.account.is_some() || is_safety(other) {
                "/".to_owned()
            } else {
                format!("/manage/sites/{site}/fleet")
            };
            (title, body, tag, url, is_safety(other))
        }
    };
    Message {
        title: title.to_owned(),
        body,
        tag,
        url,
        urgent,
    }
}

fn token_issued(locale: Locale, token: &str, units: &str) -> (&'static str, String) {
    match locale {
        Locale::En => (
            "Your meter token",
            format!("Type {token} on your meter's keypad to add {units}."),
        ),
        Locale::Sw => (
            "Tokeni ya mita yako",
            format!("Andika {token} kwenye vitufe vya mita yako kuongeza {units}."),
        ),
        Locale::Zh => (
            "您的电表充值码",
            format!("请在电表键盘上输入{token}，充入{units}。"),
        ),
    }
}

fn low_balance(locale: Locale, few_days: bool, balance: &str) -> (&'static str, String) {
    match (locale, few_days) {
        (Locale::En, false) => (
            "Low balance",
            format!("Your balance is {balance}. Top up to keep your supply on."),
        ),
        (Locale::En, true) => (
            "Credit running out",
            format!("Your credit will run out in a few days. Balance: {balance}."),
        ),
        (Locale::Sw, false) => (
            "Salio lako liko chini",
            format!("Salio lako ni {balance}. Ongeza salio ili huduma isikatike."),
        ),
        (Locale::Sw, true) => (
            "Salio linakaribia kuisha",
            format!("Salio lako litaisha baada ya siku chache. Salio: {balance}."),
        ),
        (Locale::Zh, false) => (
            "余额不足",
            format!("您的余额为{balance}。请及时充值，以免停供。"),
        ),
        (Locale::Zh, true) => (
            "余额即将用完",
            format!("您的余额将在几天内用完。余额：{balance}。"),
        ),
    }
}

fn cut_off(locale: Locale, restricted: bool) -> (&'static str, String) {
    let (title, body) = match (locale, restricted) {
        (Locale::En, false) => (
            "Supply cut off",
            "Your credit has run out and the supply was cut. Top up to reconnect.",
        ),
        (Locale::En, true) => (
            "Water flow reduced",
            "Your credit has run out: water flows slowly until you top up.",
        ),
        (Locale::Sw, false) => (
            "Huduma imekatwa",
            "Salio lako limeisha na huduma imekatwa. Ongeza salio ili kuunganishwa tena.",
        ),
        (Locale::Sw, true) => (
            "Maji yamepunguzwa",
            "Salio lako limeisha: maji yatatiririka polepole hadi uongeze salio.",
        ),
        (Locale::Zh, false) => ("已停止供应", "您的余额已用完，供应已切断。充值后即可恢复。"),
        (Locale::Zh, true) => ("水流已限制", "您的余额已用完，充值前水流将减小。"),
    };
    (title, body.to_owned())
}

fn reconnected(locale: Locale, armed: bool, balance: &str) -> (&'static str, String) {
    match (locale, armed) {
        (Locale::En, false) => (
            "Supply back on",
            format!("Thank you for topping up. Balance: {balance}."),
        ),
        (Locale::En, true) => (
            "Gas ready at the meter",
            "Credit is back: press the button on your gas meter to reopen the valve.".into(),
        ),
        (Locale::Sw, false) => (
            "Huduma imerudi",
            format!("Asante kwa kuongeza salio. Salio: {balance}."),
        ),
        (Locale::Sw, true) => (
            "Gesi iko tayari kwenye mita",
            "Salio limerudi: bonyeza kitufe kwenye mita ya gesi ili kufungua valvu.".into(),
        ),
        (Locale::Zh, false) => ("供应已恢复", format!("感谢充值。余额：{balance}。")),
        (Locale::Zh, true) => (
            "燃气表已就绪",
            "余额已恢复：请按燃气表上的按钮重新开阀。".into(),
        ),
    }
}

fn payment(locale: Locale, amount: &str, receipt: &str, balance: &str) -> (&'static str, String) {
    match locale {
        Locale::En => (
            "Payment received",
            format!("{amount} received, receipt {receipt}. Balance: {balance}."),
        ),
        Locale::Sw => (
            "Malipo yamepokelewa",
            format!("{amount} yamepokelewa, risiti {receipt}. Salio: {balance}."),
        ),
        Locale::Zh => (
            "已收到付款",
            format!("已收到{amount}，收据{receipt}。余额：{balance}。"),
        ),
    }
}

fn moved_out(
    locale: Locale,
    statement: &MoveOutStatement,
    money: &dyn Fn(i64) -> String,
) -> (&'static str, String) {
    let refund = money(statement.refund_minor);
    let debt = money(statement.debt_minor);
    let unit = &statement.unit;
    let owed = (statement.refund_minor > 0, statement.debt_minor > 0);
    match locale {
        Locale::En => (
            "Moved out",
            match owed {
                (true, _) => format!("Your accounts at {unit} are closed. Refund due: {refund}."),
                (_, true) => format!("Your accounts at {unit} are closed. You owe {debt}."),
                _ => format!("Your accounts at {unit} are closed. Nothing is owed."),
            },
        ),
        Locale::Sw => (
            "Umehama",
            match owed {
                (true, _) => format!("Akaunti zako za {unit} zimefungwa. Marejesho: {refund}."),
                (_, true) => format!("Akaunti zako za {unit} zimefungwa. Unadaiwa {debt}."),
                _ => format!("Akaunti zako za {unit} zimefungwa. Hakuna deni."),
            },
        ),
        Locale::Zh => (
            "已退房",
            match owed {
                (true, _) => format!("您在{unit}的账户已关闭。应退还：{refund}。"),
                (_, true) => format!("您在{unit}的账户已关闭。您应付：{debt}。"),
                _ => format!("您在{unit}的账户已关闭，双方互不相欠。"),
            },
        ),
    }
}

fn protected_at_zero(locale: Locale) -> (&'static str, String) {
    let (title, body) = match locale {
        Locale::En => (
            "Protected household out of credit",
            "A protected household has no credit left and was not cut off.",
        ),
        Locale::Sw => (
            "Kaya inayolindwa imeishiwa salio",
            "Kaya inayolindwa haina salio na haikukatiwa huduma.",
        ),
        Locale::Zh => ("受保护住户余额用完", "一户受保护住户余额已用完，未被停供。"),
    };
    (title, body.to_owned())
}

/// An alarm kind's name as the notices give it, for pages in Kiswahili or Chinese.
pub fn alarm_title(alarm: &str, locale: Locale) -> &'static str {
    alarm_words(locale, alarm).0
}

fn alarm_words(locale: Locale, alarm: &str) -> (&'static str, &'static str) {
    use Locale::*;
    match (alarm, locale) {
        ("gas_leak", En) => (
            "Gas leak detected",
            "The gas was shut off. Open the windows, switch nothing on or off, leave and call the emergency number.",
        ),
        ("gas_leak", Sw) => (
            "Gesi inavuja",
            "Gesi imefungwa. Fungua madirisha, usiwashe wala kuzima chochote, toka nje na upige simu ya dharura.",
        ),
        ("gas_leak", Zh) => (
            "检测到燃气泄漏",
            "燃气已关闭。请开窗通风，不要开关任何电器，离开现场并拨打急救电话。",
        ),
        ("overload", En) => (
            "Electricity overload",
            "The supply was cut because more power was drawn than the circuit allows.",
        ),
        ("overload", Sw) => (
            "Umeme umezidi",
            "Umeme umekatwa kwa sababu matumizi yamezidi kiwango cha saketi.",
        ),
        ("overload", Zh) => ("用电过载", "用电超出线路允许的功率，供电已切断。"),
        ("water_flow", En) => (
            "Water running without a break",
            "Water has been running for a long time. Check for a leak or a tap left open.",
        ),
        ("water_flow", Sw) => (
            "Maji yanatiririka bila kukoma",
            "Maji yametiririka kwa muda mrefu. Angalia kama kuna uvujaji au bomba lililo wazi.",
        ),
        ("water_flow", Zh) => (
            "用水持续不断",
            "长时间持续用水。请检查是否漏水或水龙头未关。",
        ),
        ("water_spike", En) => (
            "Unusual water use",
            "Far more water than usual was used. Check for a leak.",
        ),
        ("water_spike", Sw) => (
            "Matumizi ya maji yasiyo ya kawaida",
            "Maji mengi kuliko kawaida yametumika. Angalia kama kuna uvujaji.",
        ),
        ("water_spike", Zh) => ("用水异常", "用水量远高于平时，请检查是否漏水。"),
        ("tamper", En) => (
            "Meter tampering",
            "The meter reports it was tampered with. Staff will check it.",
        ),
        ("tamper", Sw) => (
            "Mita imechezewa",
            "Mita inaripoti kuwa imechezewa. Wafanyakazi wataikagua.",
        ),
        ("tamper", Zh) => ("电表被改动", "电表报告被人为改动，工作人员将进行检查。"),
        ("offline", En) => (
            "Meter offline",
            "A meter has not been heard from. Staff will check it.",
        ),
        ("offline", Sw) => (
            "Mita haipo mtandaoni",
            "Mita haijasikika kwa muda. Wafanyakazi wataikagua.",
        ),
        ("offline", Zh) => ("电表离线", "电表已有一段时间未上报，工作人员将进行检查。"),
        ("command_expired", En) => (
            "Command not delivered",
            "A command to a meter was not delivered in time.",
        ),
        ("command_expired", Sw) => ("Amri haikufika", "Amri kwa mita haikufika kwa wakati."),
        ("command_expired", Zh) => ("指令未送达", "发给电表的指令未能及时送达。"),
        ("clock_drift", En) => (
            "Meter clock drift",
            "A meter's clock is off: the times of its readings may be wrong.",
        ),
        ("clock_drift", Sw) => (
            "Saa ya mita si sahihi",
            "Saa ya mita imepotoka: nyakati za masomo yake huenda si sahihi.",
        ),
        ("clock_drift", Zh) => ("电表时钟偏差", "电表时钟不准，读数时间可能有误。"),
        ("cut_cap", En) => (
            "Cut-offs held",
            "More cut-offs than the site allows per minute: confirm to send them.",
        ),
        ("cut_cap", Sw) => (
            "Ukataji umesitishwa",
            "Ukataji ni mwingi kuliko eneo linavyoruhusu kwa dakika: thibitisha ili utumwe.",
        ),
        ("cut_cap", Zh) => ("断供已暂停", "断供数量超过站点每分钟上限：请确认后发送。"),
        (_, En) => ("Meter alarm", "A meter raised an alarm."),
        (_, Sw) => ("Kengele ya mita", "Mita imetoa kengele."),
        (_, Zh) => ("电表告警", "电表发出告警。"),
    }
}

/// A browser's push subscription, as `PushSubscription.toJSON()` gives it, and a name for it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewSubscription {
    pub endpoint: String,
    /// The browser's P-256 public key, base64url (RFC 8291 `ua_public`).
    pub p256dh: String,
    /// The browser's 16-byte authentication secret, base64url.
    pub auth: String,
    pub label: String,
}

/// A device that receives push notices.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Device {
    pub id: i64,
    pub label: String,
    /// Lets a browser recognise its own subscription among the person's devices.
    pub endpoint: String,
    pub since: DateTime<Utc>,
    pub last_sent: Option<DateTime<Utc>>,
}

/// Everything the notification settings page shows.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct NotificationSettings {
    pub preferences: Preferences,
    pub devices: Vec<Device>,
    /// The platform's VAPID public key, for `pushManager.subscribe`.
    pub vapid_public_key: String,
    /// The language notices use when the person chose none: their site's.
    pub site_locale: Locale,
    /// Quiet hours are in this zone (their site's); the devices' times are shown on it.
    pub zone: super::zone::SiteZone,
    /// The person's confirmed mobile number, if any.
    pub phone: Option<String>,
    pub email: String,
    /// Whether their site (and the platform) can send notices by SMS, and by e-mail.
    pub sms_available: bool,
    pub email_available: bool,
}

/// A notice in the person's in-app list.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct InboxLine {
    pub at: DateTime<Utc>,
    /// `at` on the site's clock.
    pub local: NaiveDateTime,
    pub kind: String,
    pub message: Message,
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::NaiveDate;

    fn at(h: u32, m: u32) -> NaiveDateTime {
        NaiveDate::from_ymd_opt(2026, 11, 30)
            .unwrap()
            .and_hms_opt(h, m, 0)
            .unwrap()
    }

    #[test]
    fn quiet_hours_across_midnight_hold_notices_until_they_end() {
        let quiet = QuietHours::parse("22:00", "07:00").unwrap().unwrap();
        assert_eq!(
            quiet.ends_after(at(23, 30)),
            Some(at(7, 0) + chrono::Duration::days(1))
        );
        assert_eq!(quiet.ends_after(at(6, 59)), Some(at(7, 0)));
        assert_eq!(quiet.ends_after(at(7, 0)), None);
        assert_eq!(quiet.ends_after(at(21, 59)), None);
        let afternoon = QuietHours::parse("13:00", "15:30").unwrap().unwrap();
        assert_eq!(afternoon.ends_after(at(14, 0)), Some(at(15, 30)));
        assert_eq!(afternoon.ends_after(at(16, 0)), None);
        assert_eq!(QuietHours::parse("", " "), Ok(None));
        assert_eq!(QuietHours::parse("22:00", ""), Err(BadQuietHours::Time));
        assert_eq!(
            QuietHours::parse("25:00", "07:00"),
            Err(BadQuietHours::Time)
        );
        assert_eq!(
            QuietHours::parse("07:00", "07:00"),
            Err(BadQuietHours::Empty)
        );
    }

    #[test]
    fn safety_alarms_ignore_what_was_muted_and_quiet_hours() {
        let preferences = Preferences {
            muted: vec![Category::LowBalance, Category::Alarms],
            quiet: QuietHours::parse("00:00", "23:59").unwrap(),
            locale: None,
            by_sms: true,
            by_email: false,
        };
        assert!(!preferences.wants("low_balance_2"));
        assert!(!preferences.wants("few_days_left"));
        assert!(!preferences.wants("alarm_offline"));
        assert!(preferences.wants("cut_off"));
        assert!(preferences.wants("alarm_gas_leak"));
        assert!(preferences.held_until("cut_off", at(12, 0)).is_some());
        assert_eq!(preferences.held_until("alarm_gas_leak", at(12, 0)), None);
    }

    #[test]
    fn every_alarm_kind_has_a_title_of_its_own_and_its_detail_in_the_readers_words() {
        for kind in super::super::fleet::AlarmKind::ALL {
            for locale in Locale::ALL {
                let title = alarm_title(kind.as_str(), locale);
                assert!(
                    !["Meter alarm", "Kengele ya mita", "电表告警"].contains(&title),
                    "{kind:?} {locale}"
                );
            }
        }
        let facts = NoticeFacts {
            alarm: Some(3),
            detail: Some("nothing heard since 2026-12-06 03:00 UTC".into()),
            ..NoticeFacts::default()
        };
        let money = |minor: i64| minor.to_string();
        let nairobi = |at: DateTime<Utc>| at.naive_utc() + chrono::Duration::hours(3);
        let message = message("alarm_offline", &facts, Locale::Sw, 1, &money, &nairobi);
        assert_eq!(message.title, "Mita haipo mtandaoni");
        // On the site's clock, written as the reader's pages write times.
        assert!(
            message
                .body
                .ends_with("(hakuna kilichosikika tangu 06/12/2026 06:00)"),
            "{}",
            message.body
        );
        assert!(!message.body.contains("offline"), "{}", message.body);
    }

    #[test]
    fn every_kind_has_words_in_every_language_and_balance_notices_share_a_topic() {
        let money = |minor: i64| format!("KES {}.{:02}", minor / 100, minor % 100);
        let utc = |at: DateTime<Utc>| at.naive_utc();
        let facts = NoticeFacts {
            account: Some(7),
            balance_minor: Some(12_050),
            amount_minor: Some(50_000),
            receipt: Some("R-000042".into()),
            payment: Some("pay_abc".into()),
            alarm: Some(3),
            fault: Some(9),
            detail: Some("1.2 kW".into()),
            token: Some("588 224 011".into()),
            statement: Some(MoveOutStatement {
                unit: "A-101".into(),
                date: "2026-12-01".into(),
                lines: vec![StatementLine {
                    utility: "electricity".into(),
                    remainder_minor: 12_050,
                    carried: false,
                }],
                refund_minor: 12_050,
                debt_minor: 0,
            }),
            heading: Some("Water off on Tuesday".into()),
        };
        let kinds = [
            "low_balance_1",
            "few_days_left",
            "cut_off",
            "restricted",
            "reconnected",
            "armed",
            "payment_received",
            "protected_at_zero",
            "alarm_gas_leak",
            "alarm_offline",
            "alarm_tamper",
            "alarm_command_expired",
            "alarm_clock_drift",
            "alarm_cut_cap",
            "fault_report",
            "token_issued",
            "moved_out",
            "site_notice",
        ];
        for locale in Locale::ALL {
            for kind in kinds {
                let message = message(kind, &facts, locale, 1, &money, &utc);
                assert!(
                    !message.title.is_empty() && !message.body.is_empty(),
                    "{kind} {locale}"
                );
                // Every notice in every language fits one SMS.
                let sms = message.sms();
                assert_eq!(sms.segments, 1, "{kind} {locale}: {}", sms.text);
            }
            let statement = facts.statement.as_ref().unwrap().document(locale, &money);
            assert!(statement.contains("A-101") && statement.contains("KES 120.50"));
            let low = message("low_balance_2", &facts, locale, 1, &money, &utc);
            assert!(low.body.contains("KES 120.50"), "{}", low.body);
            assert_eq!(low.topic(), Some("balance-7"));
            assert_eq!(
                message("few_days_left", &facts, locale, 1, &money, &utc).topic(),
                Some("balance-7")
            );
            let paid = message("payment_received", &facts, locale, 1, &money, &utc);
            assert!(paid.body.contains("KES 500.00") && paid.body.contains("R-000042"));
            assert_eq!(paid.url, "/payments/pay_abc");
            assert_eq!(paid.topic(), None);
            let token = message("token_issued", &facts, locale, 1, &money, &utc);
            assert!(token.body.contains("588 224 011"), "{}", token.body);
            assert_eq!(token.url, "/accounts/7");
        }
        assert!(message("alarm_gas_leak", &facts, Locale::En, 1, &money, &utc).urgent);
        assert_eq!(
            Category::of_kind("low_balance_3"),
            Some(Category::LowBalance)
        );
        assert_eq!(Category::of_kind("alarm_tamper"), Some(Category::Alarms));
    }

    #[test]
    fn an_alarm_is_named_in_the_page_s_language() {
        assert_eq!(alarm_title("gas_leak", Locale::Sw), "Gesi inavuja");
        assert_eq!(alarm_title("overload", Locale::Zh), "用电过载");
        assert_eq!(alarm_title("tamper", Locale::Zh), "电表被改动");
        // A kind this version does not know still gets a title.
        assert_eq!(alarm_title("something_new", Locale::Zh), "电表告警");
    }
}
