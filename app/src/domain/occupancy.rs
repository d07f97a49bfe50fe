//! Who lives where, as the console's move-out page sees it: the residents of a site now, and
//! a batch of them moved out (the end of a term), previewed first and then done.

use serde::{Deserialize, Serialize};

/// The most residents one batch moves out: a whole campus at the end of term fits, a runaway
/// form does not.
pub const MAX_BATCH: usize = 5_000;

/// Someone living in a unit of the site now.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Occupant {
    /// The occupancy: what a move-out ends.
    pub id: i64,
    pub building: String,
    pub unit: String,
    pub name: String,
    pub email: String,
    /// The day they moved in, in the site's time zone (`YYYY-MM-DD`).
    pub since: String,
    /// What their own open accounts hold together, formatted in the site's currency.
    pub balance: String,
    pub balance_minor: i64,
}

impl Occupant {
    /// Does the console's filter (building, unit, name or e-mail, any case) let it through?
    pub fn matches(&self, query: &str) -> bool {
        let query = query.trim().to_lowercase();
        query.is_empty()
            || [&self.building, &self.unit, &self.name, &self.email]
                .iter()
                .any(|field| field.to_lowercase().contains(&query))
    }
}

/// The residents of a site now, and how its money is written.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Occupants {
    pub site_name: String,
    pub currency: String,
    pub occupants: Vec<Occupant>,
}

/// One resident of a batch: what their move-out settles, or why it cannot be done.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct MoveOutLine {
    pub id: i64,
    /// "Building · unit · name"; empty when the occupancy is not the site's.
    pub who: String,
    /// How many of their accounts close (a wallet shared with a room-mate stays open).
    pub accounts: usize,
    pub refund: String,
    pub debt: String,
    /// Why this one is not (or was not) moved out; nothing changed for them then.
    pub problem: Option<String>,
}

/// A batch of move-outs, previewed (`done` false: nothing changed) or done.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct MoveOutBatch {
    pub done: bool,
    pub currency: String,
    pub lines: Vec<MoveOutLine>,
    /// Refunds payable and debts recorded, over the lines without a problem.
    pub refund_total: String,
    pub debt_total: String,
}

impl MoveOutBatch {
    /// The lines that go (or went) through.
    pub fn settled(&self) -> usize {
        self.lines.iter().filter(|l| l.problem.is_none()).count()
    }
}

/// The occupancies a batch names, as the console sends them: ids separated by commas.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OccupancyList(Vec<i64>);

impl OccupancyList {
    pub fn ids(&self) -> &[i64] {
        &self.0
    }
}

impl std::str::FromStr for OccupancyList {
    type Err = String;

    /// Ids in the order given, each once; none, a word, or more than [`MAX_BATCH`] is refused.
    fn from_str(raw: &str) -> Result<Self, Self::Err> {
        let mut ids = Vec::new();
        for part in raw.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            let id: i64 = part
                .parse()
                .ok()
                .filter(|id| *id > 0)
                .ok_or_else(|| format!("“{part}” does not name a resident."))?;
            if !ids.contains(&id) {
                ids.push(id);
            }
            if ids.len() > MAX_BATCH {
                return Err(format!(
                    "At most {MAX_BATCH} residents move out in one batch."
                ));
            }
        }
        if ids.is_empty() {
            return Err("Choose at least one resident.".into());
        }
        Ok(Self(ids))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_list_keeps_order_and_drops_repeats() {
        let list: OccupancyList = " 7, 3,7,, 12 ".parse().unwrap();
        assert_eq!(list.ids(), &[7, 3, 12]);
    }

    #[test]
    fn a_list_refuses_nothing_words_and_floods() {
        assert!("".parse::<OccupancyList>().is_err());
        assert!(" , ".parse::<OccupancyList>().is_err());
        assert!("3,x".parse::<OccupancyList>().is_err());
        assert!("0".parse::<OccupancyList>().is_err());
        assert!("-4".parse::<OccupancyList>().is_err());
        let flood = (1..=MAX_BATCH as i64 + 1)
            .map(|id| id.to_string())
            .collect::<Vec<_>>()
            .join(",");
        assert!(flood.parse::<OccupancyList>().is_err());
        let full = (1..=MAX_BATCH as i64)
            .map(|id| id.to_string())
            .collect::<Vec<_>>()
            .join(",");
        assert_eq!(
            full.parse::<OccupancyList>().unwrap().ids().len(),
            MAX_BATCH
        );
    }

    #[test]
    fn the_filter_looks_at_every_named_field() {
        let occupant = Occupant {
            id: 1,
            building: "North".into(),
            unit: "A-101".into(),
            name: "Amina Otieno".into(),
            email: "a101@demo.example".into(),
            since: "2026-09-01".into(),
            balance: "12.00".into(),
            balance_minor: 1200,
        };
        for query in ["", "north", "a-101", "AMINA", "demo.example"] {
            assert!(occupant.matches(query), "{query}");
        }
        assert!(!occupant.matches("B-202"));
    }
}
