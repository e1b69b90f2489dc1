//! Prices: progressive tiers per contract year, in fen (1/100 yuan), never
//! floats. Call n of a contract year costs its tier's price; the counter
//! restarts on each contract anniversary.

use crate::idcard::days_from_civil;

/// (last call of the tier, price per call in fen); the last tier is open.
pub const TIERS: [(u64, i64); 4] = [(100_000, 85), (200_000, 80), (500_000, 70), (u64::MAX, 60)];

/// The most one call can cost: what issuing a certifyId freezes.
pub const MAX_PRICE_FEN: i64 = TIERS[0].1;

/// The price of the `n`-th call (1-based) of a contract year.
pub fn price_of(n: u64) -> i64 {
    TIERS
        .iter()
        .find(|(last, _)| n <= *last)
        .map_or(TIERS[3].1, |(_, p)| *p)
}

/// What `calls` calls cost in one contract year, in fen.
pub fn total_for(calls: u64) -> i64 {
    let mut total = 0i64;
    let mut first = 1u64;
    for (last, price) in TIERS {
        if calls < first {
            break;
        }
        let n = calls.min(last) - first + 1;
        total += n as i64 * price;
        first = last.saturating_add(1);
    }
    total
}

/// Fen as yuan with two decimals (`93000.00`).
pub fn yuan(fen: i64) -> String {
    let sign = if fen < 0 { "-" } else { "" };
    let a = fen.unsigned_abs();
    format!("{sign}{}.{:02}", a / 100, a % 100)
}

/// Yuan (`12`, `12.5`, `12.34`) as fen; more than two decimals, a sign or
/// anything else is refused.
pub fn parse_yuan(s: &str) -> Option<i64> {
    let (whole, frac) = s.trim().split_once('.').unwrap_or((s.trim(), ""));
    if whole.is_empty() || !whole.bytes().all(|b| b.is_ascii_digit()) || frac.len() > 2 {
        return None;
    }
    if !frac.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let w: i64 = whole.parse().ok()?;
    let f: i64 = format!("{frac:0<2}").parse().ok()?;
    w.checked_mul(100)?.checked_add(f)
}

/// The civil date of a day number (days since 1970-01-01).
pub fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

/// `YYYY-MM-DD` of a day number.
pub fn day_string(day: i64) -> String {
    let (y, m, d) = civil_from_days(day);
    format!("{y:04}-{m:02}-{d:02}")
}

/// The day number of `YYYY-MM-DD` (a date that exists).
pub fn parse_day(s: &str) -> Option<i64> {
    let b = s.as_bytes();
    if b.len() != 10 || b[4] != b'-' || b[7] != b'-' {
        return None;
    }
    let y: i64 = s[0..4].parse().ok()?;
    let m: u32 = s[5..7].parse().ok()?;
    let d: u32 = s[8..10].parse().ok()?;
    let day = days_from_civil(y, m, d);
    (civil_from_days(day) == (y, m, d)).then_some(day)
}

/// The day number of Unix ms (UTC).
pub fn day_of(ms: u64) -> i64 {
    (ms / 86_400_000) as i64
}

/// The anniversary of a contract that started on `start` (a day number) in
/// year `y`; a 29 February start has its anniversary on 28 February in
/// other years.
fn anniversary(start: i64, y: i64) -> i64 {
    let (_, m, d) = civil_from_days(start);
    let mut day = days_from_civil(y, m, d);
    if civil_from_days(day) != (y, m, d) {
        day = days_from_civil(y, m, d - 1);
    }
    day
}

/// The first day of the contract year `now_day` falls in.
pub fn contract_year_start(start: i64, now_day: i64) -> i64 {
    if now_day < start {
        return start;
    }
    let (y, _, _) = civil_from_days(now_day);
    let this_year = anniversary(start, y);
    if this_year <= now_day {
        this_year
    } else {
        anniversary(start, y - 1).max(start)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_products_worked_examples() {
        assert_eq!(yuan(total_for(100_000)), "85000.00");
        assert_eq!(yuan(total_for(110_000)), "93000.00");
        assert_eq!(yuan(total_for(550_000)), "405000.00");
        assert_eq!(total_for(0), 0);
        assert_eq!(total_for(1), 85);
    }

    #[test]
    fn tier_edges() {
        assert_eq!((price_of(100_000), price_of(100_001)), (85, 80));
        assert_eq!((price_of(200_000), price_of(200_001)), (80, 70));
        assert_eq!((price_of(500_000), price_of(500_001)), (70, 60));
        assert_eq!(total_for(100_001) - total_for(100_000), 80);
        assert_eq!(total_for(500_000), 8_500_000 + 8_000_000 + 21_000_000);
        assert_eq!(total_for(500_001) - total_for(500_000), 60);
        // the sum of the per-call prices is the total
        let mut sum = 0;
        for n in 1..=200_010u64 {
            sum += price_of(n);
        }
        assert_eq!(sum, total_for(200_010));
    }

    #[test]
    fn anniversaries_restart_the_counter() {
        let start = parse_day("2025-03-15").expect("day");
        let d = |s| parse_day(s).expect("day");
        assert_eq!(contract_year_start(start, d("2025-03-15")), start);
        assert_eq!(contract_year_start(start, d("2026-03-14")), start);
        assert_eq!(contract_year_start(start, d("2026-03-15")), d("2026-03-15"));
        assert_eq!(contract_year_start(start, d("2027-01-01")), d("2026-03-15"));
        let leap = d("2024-02-29");
        assert_eq!(contract_year_start(leap, d("2025-02-28")), d("2025-02-28"));
        assert_eq!(contract_year_start(leap, d("2025-02-27")), leap);
        assert_eq!(contract_year_start(leap, d("2028-03-01")), d("2028-02-29"));
    }

    #[test]
    fn money_text() {
        assert_eq!(parse_yuan("12"), Some(1200));
        assert_eq!(parse_yuan("12.5"), Some(1250));
        assert_eq!(parse_yuan("0.07"), Some(7));
        assert_eq!(parse_yuan("1.234"), None);
        assert_eq!(parse_yuan("-1"), None);
        assert_eq!(parse_yuan("1e3"), None);
        assert_eq!(parse_yuan(""), None);
        assert_eq!(yuan(7), "0.07");
        assert_eq!(
            day_string(parse_day("2026-12-01").expect("day")),
            "2026-12-01"
        );
        assert_eq!(parse_day("2026-02-30"), None);
    }
}
