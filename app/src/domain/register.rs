//! How far a meter's register moved between two readings. Rating charges by it, and the
//! console says what a final reading typed at the meter counts as used before it is sent,
//! with the same rule.

use rust_decimal::Decimal;

/// A register's move from one reading to the next.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RegisterStep {
    /// It moved on by this much on its dial (past zero, for a meter that wraps); what was used
    /// is this times the meter's multiplier.
    Forward(Decimal),
    /// It is lower and no plausible rollover: the reading is rejected, never charged negative.
    Backwards,
}

impl RegisterStep {
    /// From `last` to `now` on a meter whose register wraps to zero at `wraps_at`, if it
    /// does. A lower register is a rollover only if the use it implies is under a tenth of
    /// the register's range: anything more is likelier a meter swapped or misread.
    pub fn between(last: Decimal, now: Decimal, wraps_at: Option<Decimal>) -> Self {
        if now >= last {
            return Self::Forward(now - last);
        }
        match wraps_at {
            Some(wraps) if wraps - last + now < wraps / Decimal::TEN => {
                Self::Forward(wraps - last + now)
            }
            _ => Self::Backwards,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn dec(text: &str) -> Decimal {
        text.parse().unwrap()
    }

    #[test]
    fn a_register_moves_forward_wraps_near_its_end_and_otherwise_goes_backwards() {
        let step = RegisterStep::between;
        assert_eq!(
            step(dec("5"), dec("5"), None),
            RegisterStep::Forward(dec("0"))
        );
        assert_eq!(
            step(dec("5"), dec("7.5"), None),
            RegisterStep::Forward(dec("2.5"))
        );
        assert_eq!(step(dec("5"), dec("4"), None), RegisterStep::Backwards);
        // 99,998 to 3 on a five-digit dial: 5 used.
        assert_eq!(
            step(dec("99998"), dec("3"), Some(dec("100000"))),
            RegisterStep::Forward(dec("5"))
        );
        // 50,000 to 3 would be 50,003 used, half the dial: not a rollover.
        assert_eq!(
            step(dec("50000"), dec("3"), Some(dec("100000"))),
            RegisterStep::Backwards
        );
        // Just under and just at a tenth of the dial.
        assert_eq!(
            step(dec("99000"), dec("8999"), Some(dec("100000"))),
            RegisterStep::Forward(dec("9999"))
        );
        assert_eq!(
            step(dec("99000"), dec("9000"), Some(dec("100000"))),
            RegisterStep::Backwards
        );
    }

    proptest! {
        /// Use read in two steps is the use read in one, on a dial that wraps or not: a
        /// reading in between never changes what the interval counts as used.
        #[test]
        fn a_reading_in_between_never_changes_the_use(
            a in 0u32..100_000, b in 0u32..5_000, c in 0u32..5_000, wraps in any::<bool>(),
        ) {
            let wraps_at = wraps.then_some(Decimal::from(100_000));
            let dial = |value: u32| {
                let value = Decimal::from(value);
                wraps_at.map_or(value, |wraps| value % wraps)
            };
            let (first, middle, last) = (dial(a), dial(a + b), dial(a + b + c));
            let forward = |from, to| match RegisterStep::between(from, to, wraps_at) {
                RegisterStep::Forward(used) => used,
                RegisterStep::Backwards => panic!("{from} to {to} went backwards"),
            };
            prop_assert_eq!(
                forward(first, middle) + forward(middle, last),
                forward(first, last)
            );
        }
    }
}
