//! Counted work for one search. Every loop whose length a query decides
//! (terms tried for typos, wildcard characters compared, documents
//! filtered, postings scored) spends from one budget, so no query, however
//! strange, can keep a worker busy for long. Steps are counted rather than
//! timed so that a query over budget is over it on every machine, in
//! optimised and unoptimised builds alike.

use std::cell::Cell;

/// The steps one request's search may take. Measured in a release build on
/// the development machine (BENCHMARKS.md, "Search work budget"), spending
/// all of them takes about half a second of one core.
pub const SEARCH_STEPS: u64 = 50_000_000;

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error(
    "the search needs more work than one request may do; use fewer words or wildcards, or more letters between wildcards"
)]
pub struct OverBudget;

/// What is left of one search's steps.
#[derive(Debug)]
pub struct Budget {
    left: Cell<u64>,
}

impl Budget {
    pub fn new(steps: u64) -> Budget {
        Budget { left: Cell::new(steps) }
    }

    /// The budget of one request.
    pub fn for_request() -> Budget {
        Budget::new(SEARCH_STEPS)
    }

    /// Takes `steps`, or fails (and stays empty) when fewer are left.
    pub fn spend(&self, steps: u64) -> Result<(), OverBudget> {
        let left = self.left.get();
        if steps > left {
            self.left.set(0);
            return Err(OverBudget);
        }
        self.left.set(left - steps);
        Ok(())
    }

    pub fn left(&self) -> u64 {
        self.left.get()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spending_more_than_is_left_fails_and_empties_the_budget() {
        let b = Budget::new(10);
        assert_eq!(b.spend(4), Ok(()));
        assert_eq!(b.left(), 6);
        assert_eq!(b.spend(7), Err(OverBudget));
        assert_eq!(b.left(), 0);
        assert_eq!(b.spend(1), Err(OverBudget));
    }
}
