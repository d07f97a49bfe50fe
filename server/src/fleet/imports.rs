//! Where each running sheet import stands, in this process's memory: the import reports each
//! step as it goes and the page asks while it waits. Nothing here is stored; an import that
//! runs on another instance is not seen by this one (the page then just waits).

use app::domain::site_sheet::{Progress, Step};
use std::{
    collections::HashMap,
    sync::{Arc, Mutex},
};

/// How many imports' last steps are kept; the oldest finished ones go first.
const KEPT: usize = 64;

/// An import: its site and the form's key.
type ImportId = (i64, String);

/// The imports of every site, each with when it last reported (a counter) and where it stands.
#[derive(Clone, Default)]
pub struct Imports {
    seen: Arc<Mutex<HashMap<ImportId, (u64, Progress)>>>,
}

impl Imports {
    /// Where the site's import under `key` stands.
    pub fn get(&self, site: i64, key: &str) -> Option<Progress> {
        let seen = self
            .seen
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        seen.get(&(site, key.to_owned()))
            .map(|(_, progress)| *progress)
    }

    /// A reporter for one import; an empty key (an old form) reports nowhere.
    pub fn track(&self, site: i64, key: &str) -> Tracker {
        Tracker {
            imports: (!key.is_empty()).then(|| (self.clone(), (site, key.to_owned()))),
        }
    }

    fn set(&self, at: &ImportId, progress: Progress) {
        let mut seen = self
            .seen
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        let order = seen.values().map(|(order, _)| *order).max().unwrap_or(0) + 1;
        seen.insert(at.clone(), (order, progress));
        if seen.len() > KEPT {
            let oldest = seen
                .iter()
                .filter(|(_, (_, progress))| progress.step == Step::Finished)
                .min_by_key(|(_, (order, _))| *order)
                .map(|(at, _)| at.clone());
            if let Some(oldest) = oldest {
                seen.remove(&oldest);
            }
        }
    }
}

/// Reports one import's steps.
pub struct Tracker {
    imports: Option<(Imports, ImportId)>,
}

impl Tracker {
    /// Every this many items within a step, the page hears how far it is.
    const EVERY: usize = 250;

    pub fn at(&self, step: Step, done: usize, of: usize) {
        if let Some((imports, at)) = &self.imports {
            imports.set(at, Progress::new(step, done, of));
        }
    }

    /// Reports item `done` of a step now and then, and its end.
    pub fn item(&self, step: Step, done: usize, of: usize) {
        if done.is_multiple_of(Self::EVERY) || done == of {
            self.at(step, done, of);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_last_step_is_kept_and_finished_imports_make_room() {
        let imports = Imports::default();
        let tracker = imports.track(1, "form-key-1");
        tracker.at(Step::Meters, 3, 10);
        assert_eq!(
            imports.get(1, "form-key-1"),
            Some(Progress::new(Step::Meters, 3, 10))
        );
        assert_eq!(imports.get(2, "form-key-1"), None, "another site's");
        imports.track(1, "").at(Step::Units, 1, 1);
        assert_eq!(imports.seen.lock().unwrap().len(), 1, "no key, nowhere");
        tracker.item(Step::Residents, 7, 10);
        assert_eq!(
            imports.get(1, "form-key-1").unwrap().step,
            Step::Meters,
            "between reports"
        );
        tracker.item(Step::Residents, 10, 10);
        assert_eq!(
            imports.get(1, "form-key-1"),
            Some(Progress::new(Step::Residents, 10, 10))
        );
        for n in 0..KEPT + 10 {
            imports
                .track(9, &format!("key-{n}"))
                .at(Step::Finished, 1, 1);
        }
        assert!(imports.seen.lock().unwrap().len() <= KEPT);
        assert!(
            imports.get(1, "form-key-1").is_some(),
            "a running import is kept"
        );
        assert!(
            imports.get(9, "key-0").is_none(),
            "the oldest finished went"
        );
    }
}
