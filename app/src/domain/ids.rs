//! One id type per entity, so a unit id can never be passed where a site id is expected.

use serde::{Deserialize, Serialize};
use std::{fmt, str::FromStr};

macro_rules! entity_id {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(pub i64);

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                self.0.fmt(f)
            }
        }

        impl FromStr for $name {
            type Err = std::num::ParseIntError;

            fn from_str(s: &str) -> Result<Self, Self::Err> {
                s.trim().parse().map(Self)
            }
        }
    };
}

entity_id!(
    /// An organisation: the tenant that owns sites and people.
    OrgId
);
entity_id!(
    /// A site: a campus, estate or park with its own time zone and currency.
    SiteId
);
entity_id!(
    /// A building on a site.
    BuildingId
);
entity_id!(
    /// A unit: flat, dorm room, shop or factory.
    UnitId
);
entity_id!(
    /// A meter for one utility in one unit.
    MeterId
);
entity_id!(
    /// A person who can sign in.
    UserId
);
entity_id!(
    /// A prepaid account (wallet): what a resident, or the landlord, spends from.
    AccountId
);
