//! The site's accounts table: which accounts a manager asked for (supply state, utility,
//! building, a few words), in which order, a page at a time. Pure, so the page a manager
//! reads and the CSV they download hold the same rows in the same order.

use super::{Utility, supply::SupplyState, views::AccountView};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use std::cmp::Ordering;

/// Rows on one page: enough to scan, few enough that a site of thousands of units stays quick.
pub const PAGE_SIZE: usize = 100;

/// The column the table is ordered by; ties always fall back to building, unit and utility,
/// so a page boundary never moves between two requests for the same data.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum SortKey {
    /// Lowest balance first: who is about to be cut off.
    #[default]
    Balance,
    /// Fewest days of credit left first; accounts with no recent spend last.
    DaysLeft,
    /// Building, then unit, as the site is laid out.
    Unit,
    /// Longest silent meters first.
    LastReading,
}

impl SortKey {
    pub const ALL: [SortKey; 4] = [
        SortKey::Balance,
        SortKey::DaysLeft,
        SortKey::Unit,
        SortKey::LastReading,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            SortKey::Balance => "balance",
            SortKey::DaysLeft => "days_left",
            SortKey::Unit => "unit",
            SortKey::LastReading => "last_reading",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            SortKey::Balance => "Balance",
            SortKey::DaysLeft => "Days left",
            SortKey::Unit => "Building and unit",
            SortKey::LastReading => "Last reading",
        }
    }

    fn parse(raw: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|key| key.as_str() == raw)
    }
}

/// Which wallets a manager wants by what they pay for.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum UtilityFilter {
    #[default]
    Any,
    /// The wallets of one utility's meters.
    Only(Utility),
    /// Unit wallets, which pay for every utility of their unit.
    WholeUnit,
}

impl UtilityFilter {
    pub fn as_str(self) -> &'static str {
        match self {
            UtilityFilter::Any => "",
            UtilityFilter::Only(utility) => utility.as_str(),
            UtilityFilter::WholeUnit => "unit",
        }
    }

    fn parse(raw: &str) -> Option<Self> {
        match raw {
            "" => Some(UtilityFilter::Any),
            "unit" => Some(UtilityFilter::WholeUnit),
            other => other.parse().ok().map(UtilityFilter::Only),
        }
    }

    fn admits(self, utility: Option<Utility>) -> bool {
        match self {
            UtilityFilter::Any => true,
            UtilityFilter::Only(wanted) => utility == Some(wanted),
            UtilityFilter::WholeUnit => utility.is_none(),
        }
    }
}

/// The table's filters, order and page, as typed in its search form.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccountQuery {
    pub state: Option<SupplyState>,
    pub utility: UtilityFilter,
    /// A building's exact name.
    pub building: Option<String>,
    /// Words found in the unit, the building, the resident's name or the account number.
    pub words: String,
    pub sort: SortKey,
    pub descending: bool,
    /// From 1; a page past the last shows the last.
    pub page: usize,
}

/// The raw fields of the search form, each possibly empty (or missing from an address).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct QueryFields {
    pub state: String,
    pub utility: String,
    pub building: String,
    pub words: String,
    pub sort: String,
    pub order: String,
    pub page: String,
}

impl QueryFields {
    /// The fields that choose accounts, without an order or a page: what a batch action
    /// (adjust, send a notice) carries of the search it acts on.
    pub fn search(state: String, utility: String, building: String, words: String) -> Self {
        QueryFields {
            state,
            utility,
            building,
            words,
            ..QueryFields::default()
        }
    }
}

impl AccountQuery {
    /// Reads the form; an empty field means "any" (or the default order and the first page).
    pub fn parse(fields: &QueryFields) -> Result<Self, String> {
        let state = match fields.state.trim() {
            "" => None,
            raw => Some(
                SupplyState::parse(raw).ok_or_else(|| format!("Unknown supply state “{raw}”."))?,
            ),
        };
        let utility = UtilityFilter::parse(fields.utility.trim())
            .ok_or_else(|| format!("Unknown utility “{}”.", fields.utility.trim()))?;
        let building = Some(fields.building.trim())
            .filter(|name| !name.is_empty())
            .map(str::to_owned);
        let words = fields.words.trim();
        if words.chars().count() > 100 {
            return Err("Search with at most 100 characters.".into());
        }
        let sort = match fields.sort.trim() {
            "" => SortKey::default(),
            raw => SortKey::parse(raw).ok_or_else(|| format!("Cannot sort by “{raw}”."))?,
        };
        let descending = match fields.order.trim() {
            "" | "asc" => false,
            "desc" => true,
            raw => return Err(format!("Order “{raw}” is neither asc nor desc.")),
        };
        let page = match fields.page.trim() {
            "" => 1,
            raw => raw
                .parse::<usize>()
                .ok()
                .filter(|page| *page >= 1)
                .ok_or_else(|| format!("Page “{raw}” is not a page number."))?,
        };
        Ok(AccountQuery {
            state,
            utility,
            building,
            words: words.to_owned(),
            sort,
            descending,
            page,
        })
    }

    /// The query back as form fields, for links to other pages and orders of the same search.
    pub fn fields(&self) -> QueryFields {
        QueryFields {
            state: self.state.map(SupplyState::as_str).unwrap_or("").to_owned(),
            utility: self.utility.as_str().to_owned(),
            building: self.building.clone().unwrap_or_default(),
            words: self.words.clone(),
            sort: self.sort.as_str().to_owned(),
            order: if self.descending { "desc" } else { "asc" }.to_owned(),
            page: self.page.to_string(),
        }
    }

    /// Whether one account is among those asked for.
    pub fn admits(&self, account: &AccountView) -> bool {
        self.state.is_none_or(|state| account.state == state)
            && self.utility.admits(account.utility)
            && self
                .building
                .as_deref()
                .is_none_or(|building| account.building == building)
            && mentions(account, &self.words)
    }

    /// Every account asked for, in the order asked: what the CSV download holds.
    pub fn select(&self, mut accounts: Vec<AccountView>) -> Vec<AccountView> {
        accounts.retain(|account| self.admits(account));
        accounts.sort_by(|a, b| {
            let primary = primary_order(self.sort, a, b);
            let primary = if self.descending {
                primary.reverse()
            } else {
                primary
            };
            primary.then_with(|| place_order(a, b))
        });
        accounts
    }

    /// The page asked for out of every open account of the site.
    pub fn page_of(&self, accounts: Vec<AccountView>) -> AccountPage {
        let total = accounts.len();
        let buildings = {
            let mut names: Vec<String> = accounts.iter().map(|a| a.building.clone()).collect();
            names.sort();
            names.dedup();
            names
        };
        let unit_wallets = accounts.iter().any(|a| a.utility.is_none());
        let utilities = Utility::ALL
            .into_iter()
            .filter(|utility| accounts.iter().any(|a| a.utility == Some(*utility)))
            .collect();
        let selected = self.select(accounts);
        let matching = selected.len();
        let pages = matching.div_ceil(PAGE_SIZE).max(1);
        let page = self.page.clamp(1, pages);
        let rows = selected
            .into_iter()
            .skip((page - 1) * PAGE_SIZE)
            .take(PAGE_SIZE)
            .collect();
        AccountPage {
            rows,
            matching,
            total,
            page,
            pages,
            buildings,
            utilities,
            unit_wallets,
            may_adjust: false,
            may_notify: false,
            form_nonce: String::new(),
            plans: Vec::new(),
        }
    }
}

/// One page of the table, with what its filters can choose from.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AccountPage {
    pub rows: Vec<AccountView>,
    /// Accounts that pass the filters, on every page.
    pub matching: usize,
    /// Open accounts of the site.
    pub total: usize,
    pub page: usize,
    pub pages: usize,
    pub buildings: Vec<String>,
    pub utilities: Vec<Utility>,
    pub unit_wallets: bool,
    /// The viewer may ask for an adjustment of the accounts found (set by the server).
    #[serde(default)]
    pub may_adjust: bool,
    /// The viewer may send a notice to the homes of the accounts found (set by the server).
    #[serde(default)]
    pub may_notify: bool,
    /// A fresh nonce for those forms (set by the server).
    #[serde(default)]
    pub form_nonce: String,
    /// The plans the viewer may put the units found on: empty unless they may change the
    /// site's tariffs (set by the server).
    #[serde(default)]
    pub plans: Vec<crate::domain::tariff::Plan>,
}

/// The CSV header of [`csv_line`].
pub const CSV_HEADER: [&str; 11] = [
    "account",
    "building",
    "unit",
    "utility",
    "resident",
    "balance",
    "currency",
    "supply",
    "days_left",
    "last_reading_local",
    "emergency_owed",
];

/// One account as a CSV line, with amounts as the site writes them.
pub fn csv_line(account: &AccountView) -> String {
    super::csv::line(&[
        account.number.as_str(),
        &account.building,
        &account.unit,
        account.utility.map_or("unit", Utility::as_str),
        account.occupant.as_deref().unwrap_or(""),
        &account.balance,
        &account.currency,
        account.state.as_str(),
        account.days_left.as_deref().unwrap_or(""),
        &account
            .last_reading_local
            .map(|at| at.format("%Y-%m-%d %H:%M").to_string())
            .unwrap_or_default(),
        account.emergency_owed.as_deref().unwrap_or(""),
    ])
}

fn mentions(account: &AccountView, words: &str) -> bool {
    let words = words.to_lowercase();
    words.split_whitespace().all(|word| {
        account.unit.to_lowercase().contains(word)
            || account.building.to_lowercase().contains(word)
            || account.number.to_lowercase().contains(word)
            || account
                .occupant
                .as_deref()
                .is_some_and(|name| name.to_lowercase().contains(word))
    })
}

fn primary_order(key: SortKey, a: &AccountView, b: &AccountView) -> Ordering {
    match key {
        SortKey::Balance => a.balance_minor.cmp(&b.balance_minor),
        // No spend means no end in sight: after every account that has one.
        SortKey::DaysLeft => match (days(a), days(b)) {
            (Some(x), Some(y)) => x.cmp(&y),
            (Some(_), None) => Ordering::Less,
            (None, Some(_)) => Ordering::Greater,
            (None, None) => Ordering::Equal,
        },
        SortKey::Unit => Ordering::Equal,
        // Never read sorts as the longest silence.
        SortKey::LastReading => a.last_reading_at.cmp(&b.last_reading_at),
    }
}

fn days(account: &AccountView) -> Option<Decimal> {
    account.days_left.as_deref()?.parse().ok()
}

/// The site's layout order, then the account itself: a total order over distinct accounts.
fn place_order(a: &AccountView, b: &AccountView) -> Ordering {
    a.building
        .cmp(&b.building)
        .then_with(|| a.unit.cmp(&b.unit))
        .then_with(|| {
            a.utility
                .map(Utility::as_str)
                .cmp(&b.utility.map(Utility::as_str))
        })
        .then_with(|| a.id.0.cmp(&b.id.0))
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::domain::{AccountId, SiteId};
    use proptest::prelude::*;

    /// An account as the tables list it; other modules' tests borrow it.
    pub(crate) fn account(
        id: i64,
        building: &str,
        unit: &str,
        utility: Option<Utility>,
    ) -> AccountView {
        AccountView {
            id: AccountId(id),
            number: format!("PP-{id:06}"),
            site: SiteId(1),
            unit: unit.into(),
            building: building.into(),
            utility,
            currency: "KES".into(),
            balance: String::new(),
            balance_minor: 0,
            state: SupplyState::On,
            days_left: None,
            last_reading_at: None,
            last_reading_local: None,
            allowance: None,
            emergency_owed: None,
            emergency_available: None,
            safety_hold: None,
            vulnerable: false,
            occupant: None,
            last_token: None,
        }
    }

    fn query(fields: &[(&str, &str)]) -> AccountQuery {
        let mut form = QueryFields::default();
        for (name, value) in fields {
            let slot = match *name {
                "state" => &mut form.state,
                "utility" => &mut form.utility,
                "building" => &mut form.building,
                "words" => &mut form.words,
                "sort" => &mut form.sort,
                "order" => &mut form.order,
                "page" => &mut form.page,
                other => panic!("no field {other}"),
            };
            *slot = (*value).into();
        }
        AccountQuery::parse(&form).expect("a good query")
    }

    fn ids(accounts: &[AccountView]) -> Vec<i64> {
        accounts.iter().map(|a| a.id.0).collect()
    }

    #[test]
    fn filters_combine_state_utility_building_and_words() {
        let mut low_water = account(1, "Block A", "A-101", Some(Utility::Water));
        low_water.state = SupplyState::Low;
        low_water.occupant = Some("Wanjiru Kamau".into());
        let mut low_gas = account(2, "Block A", "A-102", Some(Utility::Gas));
        low_gas.state = SupplyState::Low;
        let mut low_b = account(3, "Block B", "B-101", Some(Utility::Water));
        low_b.state = SupplyState::Low;
        let whole = account(4, "Block A", "A-103", None);
        let all = vec![low_water, low_gas, low_b, whole];

        let asked = query(&[
            ("state", "low"),
            ("utility", "water"),
            ("building", "Block A"),
        ]);
        assert_eq!(ids(&asked.select(all.clone())), [1]);
        assert_eq!(
            ids(&query(&[("words", "kamau a-101")]).select(all.clone())),
            [1]
        );
        assert_eq!(
            ids(&query(&[("words", "kamau b-1")]).select(all.clone())),
            [] as [i64; 0]
        );
        assert_eq!(ids(&query(&[("utility", "unit")]).select(all.clone())), [4]);
        assert_eq!(ids(&query(&[("words", "PP-000002")]).select(all)), [2]);
    }

    #[test]
    fn days_left_puts_the_soonest_first_and_no_spend_last_either_way() {
        let mut soon = account(1, "A", "1", Some(Utility::Water));
        soon.days_left = Some("2.5".into());
        let mut later = account(2, "A", "2", Some(Utility::Water));
        later.days_left = Some("12".into());
        let idle = account(3, "A", "0", Some(Utility::Water));
        let all = vec![idle, later, soon];
        assert_eq!(
            ids(&query(&[("sort", "days_left")]).select(all.clone())),
            [1, 2, 3]
        );
        assert_eq!(
            ids(&query(&[("sort", "days_left"), ("order", "desc")]).select(all)),
            [3, 2, 1]
        );
    }

    #[test]
    fn bad_fields_are_refused_with_what_was_typed() {
        let refused = |name: &str, value: &str| {
            let mut form = QueryFields::default();
            match name {
                "state" => form.state = value.into(),
                "utility" => form.utility = value.into(),
                "sort" => form.sort = value.into(),
                "order" => form.order = value.into(),
                _ => form.page = value.into(),
            }
            AccountQuery::parse(&form).unwrap_err()
        };
        assert!(refused("state", "sleepy").contains("sleepy"));
        assert!(refused("utility", "steam").contains("steam"));
        assert!(refused("sort", "colour").contains("colour"));
        assert!(refused("order", "up").contains("up"));
        assert!(refused("page", "0").contains('0'));
        assert!(refused("page", "-3").contains("-3"));
    }

    #[test]
    fn fields_read_back_as_the_same_query() {
        let asked = query(&[
            ("state", "cut"),
            ("utility", "gas"),
            ("building", "Block B"),
            ("words", "lee"),
            ("sort", "last_reading"),
            ("order", "desc"),
            ("page", "3"),
        ]);
        assert_eq!(AccountQuery::parse(&asked.fields()), Ok(asked));
    }

    #[test]
    fn a_page_past_the_last_shows_the_last() {
        let all: Vec<AccountView> = (0..250)
            .map(|i| account(i, "A", &format!("{i:03}"), Some(Utility::Water)))
            .collect();
        let page = query(&[("sort", "unit"), ("page", "9")]).page_of(all);
        assert_eq!((page.page, page.pages, page.matching), (3, 3, 250));
        assert_eq!(ids(&page.rows), (200..250).collect::<Vec<_>>());
    }

    fn any_account() -> impl Strategy<Value = AccountView> {
        (
            0..4usize,
            0..6usize,
            -500i64..500,
            proptest::option::of(0u32..40),
            0..3usize,
        )
            .prop_map(|(building, unit, balance, days, state)| {
                let states = [SupplyState::On, SupplyState::Low, SupplyState::Cut];
                let mut account = account(
                    0,
                    ["Block A", "Block B", "Hall", "Annex"][building],
                    &format!("U-{unit}"),
                    Some(Utility::ALL[unit % 3]),
                );
                account.balance_minor = balance;
                account.days_left = days.map(|d| d.to_string());
                account.state = states[state];
                account
            })
    }

    proptest! {
        /// Walking the pages shows every matching account exactly once, in the order the
        /// download has, whatever the filters and the order.
        #[test]
        fn the_pages_hold_every_match_once_in_the_download_s_order(
            mut accounts in proptest::collection::vec(any_account(), 0..450),
            state in 0..4usize,
            sort in 0..4usize,
            descending: bool,
        ) {
            for (id, account) in accounts.iter_mut().enumerate() {
                account.id = AccountId(id as i64);
            }
            let mut asked = AccountQuery {
                state: [None, Some(SupplyState::On), Some(SupplyState::Low), Some(SupplyState::Cut)][state],
                sort: SortKey::ALL[sort],
                descending,
                ..AccountQuery::default()
            };
            let download = asked.select(accounts.clone());
            let expected = accounts.iter().filter(|a| asked.admits(a)).count();
            prop_assert_eq!(download.len(), expected);
            let mut walked = Vec::new();
            let pages = asked.page_of(accounts.clone()).pages;
            for page in 1..=pages {
                asked.page = page;
                let shown = asked.page_of(accounts.clone());
                prop_assert!(shown.rows.len() <= PAGE_SIZE);
                prop_assert_eq!(shown.total, accounts.len());
                walked.extend(shown.rows);
            }
            prop_assert_eq!(ids(&walked), ids(&download));
        }
    }
}
