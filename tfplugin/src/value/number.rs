//! Arbitrary-precision numbers kept as canonical decimal text.
//!
//! Owns: `Number`, its canonical form and conversions to and from Rust
//! numbers. Does not own: numbers in JSON (see `json`) or msgpack (see
//! `codec`).

use std::fmt;

/// An arbitrary-precision number, kept as canonical decimal text so that equal
/// numbers compare equal (`1.50` and `15e-1` are both `1.5`). Very large or
/// small magnitudes use scientific notation (`1e400`).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Number(String);

/// Plain notation is used while the number needs at most this many digits.
const PLAIN_DIGITS: i64 = 40;

impl Number {
    /// A number from an `i64`.
    pub fn from_i64(i: i64) -> Number {
        Number(i.to_string())
    }
    /// A number from a `u64`.
    pub fn from_u64(i: u64) -> Number {
        Number(i.to_string())
    }
    /// A number from an `f64`; infinities are kept, NaN gives `None`.
    pub fn from_f64(f: f64) -> Option<Number> {
        if f.is_nan() {
            None
        } else if f.is_infinite() {
            Some(Number(
                if f > 0.0 { "Infinity" } else { "-Infinity" }.into(),
            ))
        } else {
            // Rust prints the shortest text that reads back as the same f64.
            Number::parse(&format!("{f}"))
        }
    }
    /// Parses decimal text (`-12.5`, `1e400`, `0012.30`), normalising it.
    pub fn parse(text: &str) -> Option<Number> {
        let t = text.trim();
        match t {
            "Infinity" | "+Infinity" | "+Inf" | "Inf" => return Some(Number("Infinity".into())),
            "-Infinity" | "-Inf" => return Some(Number("-Infinity".into())),
            _ => {}
        }
        let (neg, rest) = match t.as_bytes().first()? {
            b'-' => (true, &t[1..]),
            b'+' => (false, &t[1..]),
            _ => (false, t),
        };
        let (mant, exp) = match rest.find(['e', 'E']) {
            Some(i) => (&rest[..i], rest[i + 1..].parse::<i64>().ok()?),
            None => (rest, 0),
        };
        let (int, frac) = match mant.find('.') {
            Some(i) => (&mant[..i], &mant[i + 1..]),
            None => (mant, ""),
        };
        if int.is_empty() && frac.is_empty() {
            return None;
        }
        if !int.bytes().chain(frac.bytes()).all(|b| b.is_ascii_digit()) {
            return None;
        }
        let mut digits: String = format!("{int}{frac}");
        let mut e = exp.checked_sub(frac.len() as i64)?;
        let lead = digits.len() - digits.trim_start_matches('0').len();
        digits.drain(..lead);
        let trimmed = digits.trim_end_matches('0').len();
        e = e.checked_add((digits.len() - trimmed) as i64)?;
        digits.truncate(trimmed);
        if digits.is_empty() {
            return Some(Number("0".into()));
        }
        let n = digits.len() as i64;
        let body = if (0..=PLAIN_DIGITS - n).contains(&e) {
            format!("{digits}{}", "0".repeat(e as usize))
        } else if (-PLAIN_DIGITS..0).contains(&e) {
            let point = -e;
            if n > point {
                let (a, b) = digits.split_at((n - point) as usize);
                format!("{a}.{b}")
            } else {
                format!("0.{}{digits}", "0".repeat((point - n) as usize))
            }
        } else {
            let sci = e.checked_add(n - 1)?;
            let (a, b) = digits.split_at(1);
            if b.is_empty() {
                format!("{a}e{sci}")
            } else {
                format!("{a}.{b}e{sci}")
            }
        };
        Some(Number(if neg { format!("-{body}") } else { body }))
    }
    /// The canonical decimal text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
    /// The value as `i64` when it is an integer in range.
    pub fn as_i64(&self) -> Option<i64> {
        self.0.parse().ok()
    }
    /// The value as `u64` when it is a non-negative integer in range.
    pub fn as_u64(&self) -> Option<u64> {
        self.0.parse().ok()
    }
    /// The nearest `f64` (may lose precision or be infinite).
    pub fn as_f64(&self) -> f64 {
        match self.0.as_str() {
            "Infinity" => f64::INFINITY,
            "-Infinity" => f64::NEG_INFINITY,
            s => s.parse().unwrap_or(f64::NAN),
        }
    }
    /// True for the infinities.
    pub fn is_infinite(&self) -> bool {
        self.0.ends_with("Infinity")
    }
}

impl fmt::Display for Number {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_are_canonical() {
        for (a, b) in [
            ("1.50", "1.5"),
            ("15e-1", "1.5"),
            ("-0012.300", "-12.3"),
            ("0.000", "0"),
            ("1e400", "1e400"),
            (
                "123456789012345678901234567890",
                "123456789012345678901234567890",
            ),
            ("1e3", "1000"),
            ("0.001", "0.001"),
            ("-2.5e-60", "-2.5e-60"),
        ] {
            assert_eq!(Number::parse(a).unwrap().as_str(), b, "{a}");
        }
        assert!(Number::parse("abc").is_none());
        for bad in [
            "1e",
            ".",
            "-",
            "1.2.3",
            "1e99999999999999999999",
            "--1",
            "1e+-2",
        ] {
            assert!(Number::parse(bad).is_none(), "{bad}");
        }
        assert_eq!(
            Number::parse("9e9223372036854775807").unwrap().as_str(),
            "9e9223372036854775807"
        );
        assert!(Number::parse("99e9223372036854775807").is_none());
        assert_eq!(
            Number::parse("1e-9223372036854775808").unwrap().as_str(),
            "1e-9223372036854775808"
        );
        assert!(Number::parse("").is_none());
        assert_eq!(Number::from_f64(0.1).unwrap().as_str(), "0.1");
    }
}
