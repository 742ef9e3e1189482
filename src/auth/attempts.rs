//! Sign-in attempts by address, for the rate limit every sign-in route
//! applies before it checks or writes anything.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Sign-in attempts allowed from one address a minute.
pub const ATTEMPTS_PER_MINUTE: usize = 10;

/// Sign-in attempts by address, for the rate limit.
#[derive(Default)]
pub struct Attempts(Mutex<HashMap<IpAddr, Vec<Instant>>>);

impl Attempts {
    /// Records an attempt; false when the address has used its allowance.
    pub fn allow(&self, address: IpAddr) -> bool {
        let mut map = self.0.lock().expect("attempts lock");
        let now = Instant::now();
        let list = map.entry(address).or_default();
        list.retain(|t| now.duration_since(*t) < Duration::from_secs(60));
        if list.len() >= ATTEMPTS_PER_MINUTE {
            return false;
        }
        list.push(now);
        if map.len() > 10_000 {
            map.retain(|_, v| v.iter().any(|t| now.duration_since(*t) < Duration::from_secs(60)));
        }
        true
    }
}
