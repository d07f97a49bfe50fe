//! Payments as pure rules: which providers exist, what a payment's state may become when a
//! provider reports something, how much a resident may pay, and what a stranger paying by
//! number may see of the account holder's name.
//!
//! The state rule is the heart of "money is never created, lost or doubled": whatever a
//! provider sends, in whatever order and however often, [`judge`] credits a payment at most
//! once, only for the amount and currency that were asked for, and never after it failed for
//! good or was refunded.

use super::Minor;
use serde::{Deserialize, Serialize};

/// A way of paying.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ProviderKind {
    /// Built in: a checkout page of our own that pays or declines on a click. Demo and tests.
    Sandbox,
    Stripe,
    Mpesa,
    Paystack,
    /// Transfers found on an imported bank statement.
    Bank,
}

impl ProviderKind {
    pub const ALL: [ProviderKind; 5] = [
        ProviderKind::Sandbox,
        ProviderKind::Stripe,
        ProviderKind::Mpesa,
        ProviderKind::Paystack,
        ProviderKind::Bank,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            ProviderKind::Sandbox => "sandbox",
            ProviderKind::Stripe => "stripe",
            ProviderKind::Mpesa => "mpesa",
            ProviderKind::Paystack => "paystack",
            ProviderKind::Bank => "bank",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|kind| kind.as_str() == raw)
    }

    pub fn label(self) -> &'static str {
        match self {
            ProviderKind::Sandbox => "Sandbox (test payments)",
            ProviderKind::Stripe => "Card (Stripe)",
            ProviderKind::Mpesa => "M-Pesa",
            ProviderKind::Paystack => "Card or bank (Paystack)",
            ProviderKind::Bank => "Bank transfer",
        }
    }

    /// Whether a payer starts a checkout with it (a bank transfer is made at the bank).
    pub fn has_checkout(self) -> bool {
        !matches!(self, ProviderKind::Bank)
    }

    /// M-Pesa's STK push asks the payer's phone; the others send the payer to a page.
    pub fn needs_phone(self) -> bool {
        matches!(self, ProviderKind::Mpesa)
    }

    /// Whether it can send money to a person (a move-out refund): M-Pesa's B2C payments to a
    /// phone, and the sandbox. Card providers only give back what a card paid.
    pub fn pays_out(self) -> bool {
        matches!(self, ProviderKind::Mpesa | ProviderKind::Sandbox)
    }
}

/// Where a payment stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PaymentStatus {
    Pending,
    Paid,
    Failed,
    /// The provider said something that does not match: a manager decides.
    Conflict,
    Refunded,
    ChargedBack,
}

impl PaymentStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            PaymentStatus::Pending => "pending",
            PaymentStatus::Paid => "paid",
            PaymentStatus::Failed => "failed",
            PaymentStatus::Conflict => "conflict",
            PaymentStatus::Refunded => "refunded",
            PaymentStatus::ChargedBack => "charged_back",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        [
            PaymentStatus::Pending,
            PaymentStatus::Paid,
            PaymentStatus::Failed,
            PaymentStatus::Conflict,
            PaymentStatus::Refunded,
            PaymentStatus::ChargedBack,
        ]
        .into_iter()
        .find(|status| status.as_str() == raw)
    }

    pub fn label(self) -> &'static str {
        match self {
            PaymentStatus::Pending => "Waiting for the payment",
            PaymentStatus::Paid => "Paid",
            PaymentStatus::Failed => "Not paid",
            PaymentStatus::Conflict => "Being checked by the site",
            PaymentStatus::Refunded => "Refunded",
            PaymentStatus::ChargedBack => "Charged back",
        }
    }

    /// Whether the resident's page should keep asking.
    pub fn is_waiting(self) -> bool {
        matches!(self, PaymentStatus::Pending)
    }
}

/// What a provider reported about a payment, after its signature (or status query) checked out.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Reported {
    Paid { amount: Minor, currency: String },
    Failed { reason: String },
    Refunded { amount: Minor },
    ChargedBack { amount: Minor },
}

/// Why a report could not be credited as it stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ConflictKind {
    Amount,
    Currency,
    /// A callback at one payment's own address named another.
    Reference,
    /// A payment pushed to us (paybill, bank transfer) whose reference names no account.
    UnknownAccount,
    /// Money reported paid after the payment was refunded or charged back.
    AfterRefund,
}

impl ConflictKind {
    pub fn as_str(self) -> &'static str {
        match self {
            ConflictKind::Amount => "amount",
            ConflictKind::Currency => "currency",
            ConflictKind::Reference => "reference",
            ConflictKind::UnknownAccount => "unknown_account",
            ConflictKind::AfterRefund => "after_refund",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        [
            ConflictKind::Amount,
            ConflictKind::Currency,
            ConflictKind::Reference,
            ConflictKind::UnknownAccount,
            ConflictKind::AfterRefund,
        ]
        .into_iter()
        .find(|kind| kind.as_str() == raw)
    }

    pub fn label(self) -> &'static str {
        match self {
            ConflictKind::Amount => "Amount differs from what was asked",
            ConflictKind::Currency => "Currency differs from the site's",
            ConflictKind::Reference => "Callback named another payment",
            ConflictKind::UnknownAccount => "Reference names no account",
            ConflictKind::AfterRefund => "Paid again after a refund",
        }
    }
}

/// What to do with a report.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Action {
    /// Credit the wallet with the amount asked for and mark the payment paid.
    Credit,
    /// Record a conflict for a manager; nothing is credited.
    Conflict(ConflictKind),
    /// Mark the payment failed.
    Fail,
    /// Take `amount` back out of the wallet (a refund or chargeback).
    Reverse { amount: Minor, chargeback: bool },
    /// A repeat or a report that comes too late to matter: answer success, change nothing.
    Nothing,
}

/// Decides what a report does to a payment that asked for `amount` in `currency` and has
/// reversed `reversed` of it so far.
pub fn judge(
    status: PaymentStatus,
    amount: Minor,
    currency: &str,
    reversed: Minor,
    report: &Reported,
) -> Action {
    use PaymentStatus as S;
    match report {
        Reported::Paid {
            amount: paid,
            currency: paid_in,
        } => match status {
            S::Pending | S::Failed => {
                if !paid_in.eq_ignore_ascii_case(currency) {
                    Action::Conflict(ConflictKind::Currency)
                } else if *paid != amount {
                    Action::Conflict(ConflictKind::Amount)
                } else {
                    // A failure is not final when the provider later says the money came.
                    Action::Credit
                }
            }
            S::Refunded | S::ChargedBack => Action::Conflict(ConflictKind::AfterRefund),
            S::Paid | S::Conflict => Action::Nothing,
        },
        Reported::Failed { .. } => match status {
            S::Pending => Action::Fail,
            _ => Action::Nothing,
        },
        Reported::Refunded { amount: back } | Reported::ChargedBack { amount: back } => {
            let chargeback = matches!(report, Reported::ChargedBack { .. });
            let left = amount - reversed;
            match status {
                S::Paid if *back > Minor::ZERO && left > Minor::ZERO => Action::Reverse {
                    amount: (*back).min(left),
                    chargeback,
                },
                _ => Action::Nothing,
            }
        }
    }
}

/// The status a payment has after `amount` of it was reversed in all.
pub fn after_reversal(amount: Minor, reversed: Minor, chargeback: bool) -> PaymentStatus {
    match (reversed >= amount, chargeback) {
        (false, _) => PaymentStatus::Paid,
        (true, false) => PaymentStatus::Refunded,
        (true, true) => PaymentStatus::ChargedBack,
    }
}

/// A name as a stranger paying by number may see it: the first letter of each word, the
/// rest hidden behind a fixed number of stars so the length tells nothing either.
pub fn mask_name(name: &str) -> String {
    let masked: Vec<String> = name
        .split_whitespace()
        .filter_map(|word| word.chars().next())
        .map(|first| format!("{}***", first.to_uppercase()))
        .collect();
    if masked.is_empty() {
        "***".to_owned()
    } else {
        masked.join(" ")
    }
}

/// Suggested amounts between a site's minimum and maximum: round figures a person would pick.
pub fn presets(minimum: Minor, maximum: Minor, digits: u32) -> Vec<Minor> {
    let unit = 10_i64.pow(digits);
    let candidates = [100, 200, 500, 1_000, 2_000, 5_000, 10_000, 20_000, 50_000];
    let in_range =
        |value: &Minor| *value >= minimum && (maximum <= Minor::ZERO || *value <= maximum);
    let mut picked: Vec<Minor> = candidates
        .iter()
        .map(|whole| Minor(whole * unit))
        .filter(in_range)
        .take(4)
        .collect();
    if picked.is_empty() && minimum > Minor::ZERO {
        picked.push(minimum);
    }
    picked
}

/// A receipt's printed number: the site, then its place in the site's unbroken sequence.
pub fn receipt_label(site: i64, number: i64) -> String {
    format!("R{site}-{number:06}")
}

/// A Kenyan phone number in the form M-Pesa wants (2547XXXXXXXX), from what a person types
/// (07..., +2547..., 2547..., 01... for the newer range).
pub fn mpesa_phone(raw: &str) -> Option<String> {
    let digits: String = raw
        .chars()
        .filter(|c| !matches!(c, ' ' | '-' | '(' | ')'))
        .collect();
    let digits = digits.strip_prefix('+').unwrap_or(&digits);
    if !digits.chars().all(|c| c.is_ascii_digit()) {
        return None;
    }
    let national = if let Some(rest) = digits.strip_prefix("254") {
        rest
    } else if let Some(rest) = digits.strip_prefix('0') {
        rest
    } else {
        digits
    };
    (national.len() == 9 && (national.starts_with('7') || national.starts_with('1')))
        .then(|| format!("254{national}"))
}

/// One credit on an imported bank statement.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StatementCredit {
    /// The bank's own id of the transfer: a line imported twice credits once.
    pub reference: String,
    pub amount: Minor,
    /// What the payer wrote: the account or meter number is looked for in it.
    pub description: String,
}

/// What importing a statement did.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImportReport {
    pub credited: u32,
    /// Credits naming no account: held as conflicts for a manager.
    pub conflicts: u32,
    /// Lines imported before.
    pub repeats: u32,
    /// Debits and zero lines, which are not payments to us.
    pub skipped: u32,
}

/// Reads a bank statement in CSV: a header naming `reference`, `amount` and `description`
/// (any order, any case, other columns ignored), then one line per transaction. Debits are
/// skipped. Any bad line refuses the whole file, naming the line.
pub fn parse_statement(text: &str, digits: u32) -> Result<(Vec<StatementCredit>, u32), String> {
    let table = super::csv::Table::parse(text, "statement")?;
    let (reference, amount, description) = (
        table.column(&["reference"])?,
        table.column(&["amount"])?,
        table.column(&["description"])?,
    );
    let mut credits = Vec::new();
    let mut skipped = 0;
    for row in table.rows() {
        let row = row?;
        let minor = row.amount(amount, digits)?;
        if minor <= Minor::ZERO {
            skipped += 1;
            continue;
        }
        let reference = row.get(reference)?;
        if reference.is_empty() {
            return Err(format!("Line {} has no reference.", row.number));
        }
        credits.push(StatementCredit {
            reference: reference.to_owned(),
            amount: minor,
            description: row.get(description)?.to_owned(),
        });
    }
    Ok((credits, skipped))
}

/// The words of a transfer's description that could be an account or meter number.
pub fn candidate_references(description: &str) -> Vec<String> {
    description
        .split(|c: char| !(c.is_ascii_alphanumeric() || c == '-'))
        .map(|word| word.trim_matches('-'))
        .filter(|word| word.len() >= 4 && word.chars().any(|c| c.is_ascii_digit()))
        .map(str::to_uppercase)
        .collect()
}

/// A payment history as CSV, for the resident's download.
pub fn history_csv(payments: &[PaymentView]) -> String {
    let mut out = String::from(
        "created_at,paid_at,account,provider,amount,currency,status,receipt,reference\n",
    );
    for p in payments {
        let fields = [
            p.created_at.to_rfc3339(),
            p.paid_at.map(|at| at.to_rfc3339()).unwrap_or_default(),
            p.account_number.clone(),
            p.provider.as_str().to_owned(),
            p.amount.clone(),
            p.currency.clone(),
            p.status.as_str().to_owned(),
            p.receipt.clone().unwrap_or_default(),
            p.provider_reference.clone().unwrap_or_default(),
        ];
        out.push_str(&super::csv::line(&fields));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const ASKED: Minor = Minor(50_000);

    fn paid(amount: i64, currency: &str) -> Reported {
        Reported::Paid {
            amount: Minor(amount),
            currency: currency.into(),
        }
    }

    #[test]
    fn a_matching_payment_is_credited_once() {
        let report = paid(50_000, "kes");
        assert_eq!(
            judge(PaymentStatus::Pending, ASKED, "KES", Minor::ZERO, &report),
            Action::Credit
        );
        assert_eq!(
            judge(PaymentStatus::Paid, ASKED, "KES", Minor::ZERO, &report),
            Action::Nothing
        );
    }

    #[test]
    fn a_different_amount_or_currency_is_a_conflict_not_a_credit() {
        assert_eq!(
            judge(
                PaymentStatus::Pending,
                ASKED,
                "KES",
                Minor::ZERO,
                &paid(49_999, "KES")
            ),
            Action::Conflict(ConflictKind::Amount)
        );
        assert_eq!(
            judge(
                PaymentStatus::Pending,
                ASKED,
                "KES",
                Minor::ZERO,
                &paid(50_000, "USD")
            ),
            Action::Conflict(ConflictKind::Currency)
        );
    }

    #[test]
    fn a_late_failure_never_undoes_a_payment_but_a_late_success_after_failure_credits() {
        let failed = Reported::Failed {
            reason: "timeout".into(),
        };
        assert_eq!(
            judge(PaymentStatus::Paid, ASKED, "KES", Minor::ZERO, &failed),
            Action::Nothing
        );
        assert_eq!(
            judge(
                PaymentStatus::Failed,
                ASKED,
                "KES",
                Minor::ZERO,
                &paid(50_000, "KES")
            ),
            Action::Credit
        );
    }

    #[test]
    fn refunds_never_take_back_more_than_was_paid() {
        let refund = Reported::Refunded {
            amount: Minor(80_000),
        };
        assert_eq!(
            judge(PaymentStatus::Paid, ASKED, "KES", Minor(20_000), &refund),
            Action::Reverse {
                amount: Minor(30_000),
                chargeback: false
            }
        );
        assert_eq!(
            judge(PaymentStatus::Refunded, ASKED, "KES", ASKED, &refund),
            Action::Nothing
        );
        assert_eq!(
            judge(PaymentStatus::Pending, ASKED, "KES", Minor::ZERO, &refund),
            Action::Nothing
        );
        assert_eq!(
            after_reversal(ASKED, Minor(50_000), true),
            PaymentStatus::ChargedBack
        );
        assert_eq!(after_reversal(ASKED, Minor(1), false), PaymentStatus::Paid);
    }

    #[test]
    fn masked_names_show_initials_only() {
        assert_eq!(mask_name("grace brewster hopper"), "G*** B*** H***");
        assert_eq!(mask_name("Al"), "A***");
        assert_eq!(mask_name("  "), "***");
    }

    #[test]
    fn statements_are_read_by_their_header_and_bad_lines_refuse_the_file() {
        let text = "Date,Description,Amount,Reference\n\
                    2026-11-01,\"Rent, A0000042\",\"1,500.00\",TRX-1\n\
                    2026-11-02,Bank fee,-25.00,TRX-2\n\
                    2026-11-03,meter wa-b105 top up,200,TRX-3\n";
        let (credits, skipped) = parse_statement(text, 2).unwrap();
        assert_eq!(skipped, 1);
        assert_eq!(credits.len(), 2);
        assert_eq!(credits[0].amount, Minor(150_000));
        assert_eq!(credits[0].description, "Rent, A0000042");
        assert_eq!(
            candidate_references(&credits[0].description),
            vec!["A0000042"]
        );
        assert_eq!(
            candidate_references(&credits[1].description),
            vec!["WA-B105"]
        );
        assert!(
            parse_statement("Reference,Amount\nX,1\n", 2)
                .unwrap_err()
                .contains("description")
        );
        let bad = parse_statement("reference,amount,description\nX,ten,y\n", 2).unwrap_err();
        assert!(bad.contains("Line 2"), "{bad}");
        assert!(parse_statement("reference,amount,description\nX,1.005,y\n", 2).is_err());
        assert!(parse_statement("reference,amount,description\n\"X,1,y\n", 2).is_err());
    }

    #[test]
    fn presets_stay_inside_the_limits() {
        assert_eq!(
            presets(Minor(15_000), Minor(100_000), 2),
            vec![Minor(20_000), Minor(50_000), Minor(100_000)]
        );
        assert_eq!(presets(Minor(7), Minor(8), 0), vec![Minor(7)]);
    }

    #[test]
    fn phone_numbers_become_msisdns() {
        assert_eq!(mpesa_phone("0712 345 678").as_deref(), Some("254712345678"));
        assert_eq!(
            mpesa_phone("+254 112 345 678").as_deref(),
            Some("254112345678")
        );
        assert_eq!(mpesa_phone("254712345678").as_deref(), Some("254712345678"));
        assert_eq!(mpesa_phone("0812 345 678"), None);
        assert_eq!(mpesa_phone("07123"), None);
        assert_eq!(mpesa_phone("07x2345678"), None);
    }

    fn any_report() -> impl Strategy<Value = Reported> {
        prop_oneof![
            (49_999_i64..=50_001, prop_oneof![Just("KES"), Just("USD")])
                .prop_map(|(amount, currency)| paid(amount, currency)),
            Just(Reported::Failed {
                reason: "declined".into()
            }),
            (1_i64..60_000).prop_map(|amount| Reported::Refunded {
                amount: Minor(amount)
            }),
            (1_i64..60_000).prop_map(|amount| Reported::ChargedBack {
                amount: Minor(amount)
            }),
        ]
    }

    proptest! {
        /// Any storm of reports, repeated and reordered: at most one credit, only of the
        /// amount asked, and never more taken back than was credited.
        #[test]
        fn a_storm_of_reports_credits_at_most_once(reports in prop::collection::vec(any_report(), 0..40)) {
            let mut status = PaymentStatus::Pending;
            let mut credited = Minor::ZERO;
            let mut reversed = Minor::ZERO;
            let mut credits = 0;
            for report in &reports {
                match judge(status, ASKED, "KES", reversed, report) {
                    Action::Credit => {
                        credits += 1;
                        credited = credited + ASKED;
                        status = PaymentStatus::Paid;
                    }
                    Action::Conflict(_) => {
                        if status == PaymentStatus::Pending {
                            status = PaymentStatus::Conflict;
                        }
                    }
                    Action::Fail => status = PaymentStatus::Failed,
                    Action::Reverse { amount, chargeback } => {
                        prop_assert!(amount > Minor::ZERO);
                        reversed = reversed + amount;
                        status = after_reversal(ASKED, reversed, chargeback);
                    }
                    Action::Nothing => {}
                }
                prop_assert!(credits <= 1);
                prop_assert!(reversed <= credited);
            }
        }
    }
}

/// What the recharge page offers for one account.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RechargeOptions {
    pub account: super::views::AccountView,
    pub providers: Vec<ProviderKind>,
    pub minimum: String,
    /// `None`: no maximum.
    pub maximum: Option<String>,
    pub presets: Vec<String>,
    /// The signed-in payer's phone and e-mail, to fill the form in.
    pub email: Option<String>,
    pub payments: Vec<PaymentView>,
    /// The account's site's clock, for the payments' times.
    pub zone: super::zone::SiteZone,
}

/// One payment as its payer (or staff) sees it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PaymentView {
    pub public_id: String,
    pub account: super::ids::AccountId,
    pub account_number: String,
    pub provider: ProviderKind,
    pub channel: String,
    pub amount: String,
    pub amount_minor: i64,
    pub currency: String,
    pub status: PaymentStatus,
    pub created_at: chrono::DateTime<chrono::Utc>,
    pub paid_at: Option<chrono::DateTime<chrono::Utc>>,
    pub receipt: Option<String>,
    pub failure: Option<String>,
    /// The provider's page, while the payment waits for the payer.
    pub checkout_url: Option<String>,
    pub provider_reference: Option<String>,
    /// How much has gone back (refunds, chargebacks), formatted; `None` if nothing.
    pub reversed: Option<String>,
}

/// A payment's status page: what anyone holding its link sees, and more for the account's
/// own resident and staff (the balance and supply after it).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PaymentPage {
    pub payment: PaymentView,
    /// The account holder's name, masked.
    pub payee: String,
    /// For the account's resident and staff only.
    pub account: Option<super::views::AccountView>,
    /// The token it bought, for a keypad meter: shown to whoever holds the payment's link,
    /// like a vending receipt (someone paying for a relative passes it on).
    #[serde(default)]
    pub token: Option<super::tokens::TokenView>,
}

/// A payment just started: where to send the payer next.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct StartedPayment {
    pub public_id: String,
    /// The provider's page; `None` when the payer confirms on their phone.
    pub redirect: Option<String>,
}

impl StartedPayment {
    /// Where the payer goes: the provider's page, else the payment's status page.
    pub fn next(&self) -> String {
        self.redirect
            .clone()
            .unwrap_or_else(|| format!("/payments/{}", self.public_id))
    }
}

/// What the public pay-by-number page shows about the account a number names: enough to be
/// sure it is the right one, nothing more.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PublicPayee {
    /// The number as the platform knows it (an account number or a meter serial).
    pub reference: String,
    pub payee: String,
    pub site: String,
    pub utility: Option<super::Utility>,
    pub currency: String,
    pub minimum: String,
    pub maximum: Option<String>,
    pub presets: Vec<String>,
    pub providers: Vec<ProviderKind>,
}

/// A conflict waiting for a manager.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ConflictView {
    pub id: i64,
    pub kind: ConflictKind,
    pub provider: ProviderKind,
    pub detail: String,
    pub amount: Option<String>,
    pub payment: Option<String>,
    pub account_number: Option<String>,
    pub created_at: chrono::DateTime<chrono::Utc>,
    pub resolved: Option<String>,
}

/// The manager's payments page for a site.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SitePayments {
    pub site: super::ids::SiteId,
    pub site_name: String,
    pub currency: String,
    pub payments: Vec<PaymentView>,
    pub conflicts: Vec<ConflictView>,
    /// Move-out refunds: those still owed first.
    pub payouts: Vec<PayoutView>,
    /// The site's enabled providers that can pay a person.
    pub payout_providers: Vec<ProviderKind>,
    /// Every provider the site has set up, for reconciliation.
    pub providers: Vec<ProviderKind>,
    /// Today (UTC), for the reconciliation period's defaults.
    pub today: chrono::NaiveDate,
    pub may_refund: bool,
    pub may_resolve: bool,
    /// Refunds asked for and waiting for a second person, oldest first.
    #[serde(default)]
    pub refunds_waiting: Vec<RefundRequestView>,
}

/// A refund asked for, waiting for a second person's approval.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RefundRequestView {
    pub id: i64,
    /// The payment's public id.
    pub payment: String,
    pub account_number: String,
    pub amount: String,
    pub reason: String,
    pub by_hand: bool,
    pub asked_by: String,
    pub asked_at: chrono::DateTime<chrono::Utc>,
    /// The viewer asked for it: they may withdraw it, not approve it.
    pub mine: bool,
}

/// Where a move-out refund stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PayoutStatus {
    /// Nobody has paid it yet.
    Owed,
    /// A provider is paying it; its answer is awaited.
    Sent,
    Paid,
}

impl PayoutStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            PayoutStatus::Owed => "owed",
            PayoutStatus::Sent => "sent",
            PayoutStatus::Paid => "paid",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        [PayoutStatus::Owed, PayoutStatus::Sent, PayoutStatus::Paid]
            .into_iter()
            .find(|status| status.as_str() == raw)
    }

    pub fn label(self) -> &'static str {
        match self {
            PayoutStatus::Owed => "Owed",
            PayoutStatus::Sent => "Sent, awaiting the provider",
            PayoutStatus::Paid => "Paid",
        }
    }
}

/// A move-out refund owed to a person, and how it was paid.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PayoutView {
    pub id: i64,
    pub person: String,
    pub email: String,
    pub amount: String,
    pub status: PayoutStatus,
    /// How it was paid: the provider's name, or "By hand".
    pub method: Option<String>,
    /// The provider's id of the transfer, or the cheque or receipt number written by hand.
    pub reference: Option<String>,
    pub note: String,
    /// Why the last try at a provider failed.
    pub failure: Option<String>,
    pub created_at: chrono::DateTime<chrono::Utc>,
    pub paid_at: Option<chrono::DateTime<chrono::Utc>>,
    /// Who settled the move-out, when a person did.
    pub settled_by: Option<String>,
    /// Settled by the one looking: somebody else pays it.
    pub mine: bool,
}
