//! Lockout after repeated failures: an identity (the ID number's keyed
//! hash, never the number) whose verdicts failed `failures` times within
//! `window_ms` cannot get a certifyId until `cooldown_ms` after the failure
//! that made the count. Counted per app, or over every app.

/// The lockout's settings.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(default)]
pub struct LockoutSettings {
    /// Failed verdicts that lock an identity (0: never locked).
    pub failures: u32,
    /// The window they must fall in, ms.
    pub window_ms: u64,
    /// How long the lock lasts after the failure that made the count, ms.
    pub cooldown_ms: u64,
    /// Count the failures of every app together (default: each app its own).
    pub all_apps: bool,
}

impl Default for LockoutSettings {
    fn default() -> Self {
        Self {
            failures: 5,
            window_ms: 86_400_000,
            cooldown_ms: 86_400_000,
            all_apps: false,
        }
    }
}

/// The scope a lift applies to under `all_apps`.
pub const ALL_APPS: &str = "*";

impl LockoutSettings {
    /// How far back failures can matter at `now_ms`.
    pub fn since(&self, now_ms: u64) -> i64 {
        now_ms.saturating_sub(self.window_ms.saturating_add(self.cooldown_ms)) as i64
    }

    /// The scope failures are counted in: the app, or every app.
    pub fn scope<'a>(&self, app_id: &'a str) -> &'a str {
        if self.all_apps {
            ALL_APPS
        } else {
            app_id
        }
    }

    /// Until when (Unix ms) an identity with these failure times (any
    /// order) is locked at `now_ms`; None when it is not.
    pub fn locked_until(&self, failures: &[i64], now_ms: u64) -> Option<i64> {
        let n = usize::try_from(self.failures).unwrap_or(usize::MAX);
        if n == 0 || failures.len() < n {
            return None;
        }
        let mut t = failures.to_vec();
        t.sort_unstable_by(|a, b| b.cmp(a));
        let window = i64::try_from(self.window_ms).unwrap_or(i64::MAX);
        let cooldown = i64::try_from(self.cooldown_ms).unwrap_or(i64::MAX);
        let now = i64::try_from(now_ms).unwrap_or(i64::MAX);
        // failure i made the count if it and the n-1 before it fit the window
        t.windows(n)
            .filter(|w| w[0].saturating_sub(w[n - 1]) <= window)
            .map(|w| w[0].saturating_add(cooldown))
            .filter(|&until| until > now)
            .max()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const H: i64 = 3_600_000;

    fn s(failures: u32) -> LockoutSettings {
        LockoutSettings {
            failures,
            window_ms: 24 * H as u64,
            cooldown_ms: 24 * H as u64,
            all_apps: false,
        }
    }

    #[test]
    fn n_failures_in_the_window_lock_until_the_cooldown_ends() {
        let f = [H, 2 * H, 3 * H, 4 * H, 5 * H];
        assert_eq!(s(5).locked_until(&f, (6 * H) as u64), Some(29 * H));
        assert_eq!(s(5).locked_until(&f, (29 * H) as u64), None);
        assert_eq!(s(5).locked_until(&f[..4], (6 * H) as u64), None);
        assert_eq!(s(0).locked_until(&f, (6 * H) as u64), None);
    }

    #[test]
    fn failures_spread_wider_than_the_window_do_not_lock() {
        let f = [0, 10 * H, 20 * H, 30 * H, 40 * H];
        assert_eq!(s(5).locked_until(&f, (41 * H) as u64), None);
        assert_eq!(s(3).locked_until(&f, (41 * H) as u64), Some(64 * H));
    }
}
