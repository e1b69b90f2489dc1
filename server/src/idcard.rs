//! The 18-character resident ID number (GB 11643-1999): its check character
//! (ISO 7064 MOD 11-2), its birth date, and the forms kept of it: a keyed
//! hash and a masked form, never the number itself.

use hmac::{Hmac, Mac};
use sha2::Sha256;

/// Why an ID number was refused: `(cause code, message)`.
pub type Refusal = (&'static str, String);

const WEIGHTS: [u32; 17] = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
const CHECK: &[u8; 11] = b"10X98765432";

/// The check character of the first 17 digits.
pub fn check_char(first17: &[u8]) -> Option<u8> {
    if first17.len() != 17 || !first17.iter().all(u8::is_ascii_digit) {
        return None;
    }
    let sum: u32 = first17
        .iter()
        .zip(WEIGHTS)
        .map(|(d, w)| u32::from(d - b'0') * w)
        .sum();
    Some(CHECK[(sum % 11) as usize])
}

/// Days since 1970-01-01 of a civil date (proleptic Gregorian).
pub fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (i64::from(m) + 9) % 12;
    let doy = (153 * mp + 2) / 5 + i64::from(d) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

fn days_in_month(y: i64, m: u32) -> u32 {
    match m {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if (y % 4 == 0 && y % 100 != 0) || y % 400 == 0 => 29,
        2 => 28,
        _ => 0,
    }
}

/// Checks an ID number against today (`now_ms`, Unix ms): 18 characters,
/// 17 digits then the check character (`X` upper or lower case), a birth
/// date that exists, is not in the future and not before 1900.
pub fn validate(id: &str, now_ms: u64) -> Result<(), Refusal> {
    let b = id.as_bytes();
    if b.len() != 18 {
        return Err((
            "idCard.length",
            format!("{} characters, 18 expected", id.chars().count()),
        ));
    }
    let Some(expected) = check_char(&b[..17]) else {
        return Err((
            "idCard.digits",
            "the first 17 characters must be digits".into(),
        ));
    };
    if b[17].to_ascii_uppercase() != expected {
        return Err((
            "idCard.check",
            format!(
                "check character {} does not match (expected {})",
                b[17] as char, expected as char
            ),
        ));
    }
    let num = |r: std::ops::Range<usize>| -> i64 {
        b[r].iter().fold(0, |acc, d| acc * 10 + i64::from(d - b'0'))
    };
    let (y, m, d) = (num(6..10), num(10..12) as u32, num(12..14) as u32);
    if !(1..=12).contains(&m) || d == 0 || d > days_in_month(y, m) || y < 1900 {
        return Err((
            "idCard.birthDate",
            format!("birth date {y:04}-{m:02}-{d:02} does not exist"),
        ));
    }
    let today = (now_ms / 86_400_000) as i64;
    if days_from_civil(y, m, d) > today {
        return Err((
            "idCard.birthDate",
            format!("birth date {y:04}-{m:02}-{d:02} is in the future"),
        ));
    }
    Ok(())
}

/// The masked form kept in records: the first four and last four characters.
pub fn mask(id: &str) -> String {
    let chars: Vec<char> = id.chars().collect();
    if chars.len() <= 8 {
        return "*".repeat(chars.len());
    }
    let head: String = chars[..4].iter().collect();
    let tail: String = chars[chars.len() - 4..].iter().collect();
    format!("{head}{}{tail}", "*".repeat(chars.len() - 8))
}

/// A name as kept in records: its first character, the rest masked.
pub fn mask_name(name: &str) -> String {
    let mut chars = name.chars();
    match chars.next() {
        Some(first) => format!("{first}{}", "*".repeat(chars.count())),
        None => String::new(),
    }
}

/// HMAC-SHA256 of the (upper-cased) ID number under the server's secret, hex.
pub fn keyed_hash(secret: &[u8], id: &str) -> String {
    let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(secret) else {
        // HMAC takes keys of any length; unreachable
        return String::new();
    };
    mac.update(id.to_ascii_uppercase().as_bytes());
    mac.finalize()
        .into_bytes()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: u64 = 1_796_083_200_000; // 2026-12-01

    #[test]
    fn check_characters_follow_mod_11_2() {
        // the standard's worked example
        assert_eq!(check_char(b"11010519491231002"), Some(b'X'));
        assert!(validate("11010519491231002X", NOW).is_ok());
        assert!(validate("11010519491231002x", NOW).is_ok());
        assert_eq!(
            validate("110105194912310021", NOW).unwrap_err().0,
            "idCard.check"
        );
        assert_eq!(check_char(b"44052418800101001"), Some(b'4'));
        assert!(validate("440524188001010014", NOW).is_err(), "before 1900");
    }

    #[test]
    fn birth_dates_must_exist_and_be_past() {
        let with_date = |date: &str| {
            let first = format!("110105{date}002");
            let c = check_char(first.as_bytes()).expect("digits") as char;
            format!("{first}{c}")
        };
        assert!(validate(&with_date("20000229"), NOW).is_ok());
        assert_eq!(
            validate(&with_date("19000229"), NOW).unwrap_err().0,
            "idCard.birthDate"
        );
        assert_eq!(
            validate(&with_date("20010431"), NOW).unwrap_err().0,
            "idCard.birthDate"
        );
        assert_eq!(
            validate(&with_date("20011301"), NOW).unwrap_err().0,
            "idCard.birthDate"
        );
        assert_eq!(
            validate(&with_date("20261202"), NOW).unwrap_err().0,
            "idCard.birthDate"
        );
        assert!(validate(&with_date("20261201"), NOW).is_ok());
        assert_eq!(
            validate("1101051949123100", NOW).unwrap_err().0,
            "idCard.length"
        );
        assert_eq!(
            validate("1101051949123100AX", NOW).unwrap_err().0,
            "idCard.digits"
        );
    }

    #[test]
    fn kept_forms_hide_the_number() {
        assert_eq!(mask("11010519491231002X"), "1101**********002X");
        assert_eq!(mask_name("张三丰"), "张**");
        let a = keyed_hash(b"k1", "11010519491231002x");
        assert_eq!(a, keyed_hash(b"k1", "11010519491231002X"));
        assert_ne!(a, keyed_hash(b"k2", "11010519491231002X"));
        assert_eq!(a.len(), 64);
    }

    #[test]
    fn civil_days() {
        assert_eq!(days_from_civil(1970, 1, 1), 0);
        assert_eq!(days_from_civil(2026, 12, 1), (NOW / 86_400_000) as i64);
    }
}
