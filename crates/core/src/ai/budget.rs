//! Daily AI budgets per user and per room: requests and tokens, reset at UTC midnight.
//!
//! A request is admitted only if every scope it charges is under both limits; it is counted at
//! admission (so a burst cannot overshoot by more than the calls already in flight) and its
//! tokens are added when the answer arrives.

use crate::ids::{RoomId, UserId};
use chrono::{DateTime, NaiveDate, Utc};
use std::collections::HashMap;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum BudgetScope {
    User(UserId),
    Room(RoomId),
}

/// Limits per scope and UTC day; 0 means unlimited.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BudgetLimits {
    pub requests_per_day: u64,
    pub tokens_per_day: u64,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BudgetRefusal {
    pub scope: BudgetScope,
    /// `"requests"` or `"tokens"`.
    pub resource: &'static str,
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
struct DayUsage {
    day: Option<NaiveDate>,
    requests: u64,
    tokens: u64,
}

impl DayUsage {
    fn current(&mut self, day: NaiveDate) -> &mut Self {
        if self.day != Some(day) {
            *self = DayUsage {
                day: Some(day),
                requests: 0,
                tokens: 0,
            };
        }
        self
    }
}

#[derive(Debug, Default)]
pub struct BudgetLedger {
    usage: HashMap<BudgetScope, DayUsage>,
}

impl BudgetLedger {
    pub fn new() -> Self {
        Self::default()
    }

    /// Admits one request charged to every scope in `scopes` (each with its limits), counting
    /// it; or refuses naming the first exhausted scope, counting nothing.
    pub fn admit(
        &mut self,
        scopes: &[(BudgetScope, BudgetLimits)],
        now: DateTime<Utc>,
    ) -> Result<(), BudgetRefusal> {
        let day = now.date_naive();
        for (scope, limits) in scopes {
            let u = self.usage.entry(*scope).or_default().current(day);
            if limits.requests_per_day > 0 && u.requests >= limits.requests_per_day {
                return Err(BudgetRefusal {
                    scope: *scope,
                    resource: "requests",
                });
            }
            if limits.tokens_per_day > 0 && u.tokens >= limits.tokens_per_day {
                return Err(BudgetRefusal {
                    scope: *scope,
                    resource: "tokens",
                });
            }
        }
        for (scope, _) in scopes {
            self.usage.entry(*scope).or_default().current(day).requests += 1;
        }
        Ok(())
    }

    /// Adds the tokens a finished call used to each scope.
    pub fn charge_tokens(&mut self, scopes: &[BudgetScope], tokens: u64, now: DateTime<Utc>) {
        let day = now.date_naive();
        for scope in scopes {
            let u = self.usage.entry(*scope).or_default().current(day);
            u.tokens = u.tokens.saturating_add(tokens);
        }
    }

    /// (requests, tokens) used today by `scope`.
    pub fn used(&self, scope: BudgetScope, now: DateTime<Utc>) -> (u64, u64) {
        match self.usage.get(&scope) {
            Some(u) if u.day == Some(now.date_naive()) => (u.requests, u.tokens),
            _ => (0, 0),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn at(h: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 11, 25, h, 0, 0).unwrap()
    }

    #[test]
    fn requests_then_tokens_then_reset() {
        let user = BudgetScope::User(UserId::new());
        let room = BudgetScope::Room(RoomId::new());
        let lim = |r, t| BudgetLimits {
            requests_per_day: r,
            tokens_per_day: t,
        };
        let mut l = BudgetLedger::new();
        let scopes = [(user, lim(2, 0)), (room, lim(0, 100))];
        assert!(l.admit(&scopes, at(1)).is_ok());
        assert!(l.admit(&scopes, at(2)).is_ok());
        let r = l.admit(&scopes, at(3)).unwrap_err();
        assert_eq!((r.scope, r.resource), (user, "requests"));
        // Room tokens: a refusal by one scope counts nothing against the others.
        assert_eq!(l.used(room, at(3)), (2, 0));
        l.charge_tokens(&[user, room], 150, at(3));
        let other_user = BudgetScope::User(UserId::new());
        let r = l
            .admit(&[(other_user, lim(5, 0)), (room, lim(0, 100))], at(4))
            .unwrap_err();
        assert_eq!((r.scope, r.resource), (room, "tokens"));
        assert_eq!(l.used(other_user, at(4)), (0, 0));
        // Next UTC day: fresh.
        let tomorrow = at(23) + chrono::TimeDelta::hours(2);
        assert!(l.admit(&scopes, tomorrow).is_ok());
        assert_eq!(l.used(user, tomorrow), (1, 0));
    }
}
