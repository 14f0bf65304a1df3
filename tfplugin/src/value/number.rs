//! Numbers as text, read and written in bounded time.
//!
//! Terraform's numbers are cty's: a `big.Float` with a 512-bit mantissa and an `int32` binary
//! exponent, so Terraform can hold 1e100000000. It writes a number that is no exact `int64` or
//! `float64` (a msgpack string; every JSON number) with `Text('f', -1)`: every digit, never an
//! exponent. It reads numbers with `big.ParseFloat`, which also takes exponents (`1.5e-50`).
//!
//! Exact decimal arithmetic on such numbers is not bounded: bigdecimal computes 10^exponent
//! to compare or convert one (`1e100000000` hung), and writing `1e10000000` out takes 10 MB,
//! which takes minutes to parse back. Terraform itself cannot write them in time either (Go's
//! math/big, measured: 1e4000 in 0.5 ms, 1e-4000 in 4 ms, 1e100000 in 31 ms, 1e-100000 in 2.4 s,
//! 1e10000000 in 27 s). So a number whose plain form has more than [`MAX_NUMBER_DIGITS`]
//! digits is refused with [`ValueError::NumberOutOfRange`], on the way in and on the way out.
//! Within the bound every number Terraform sends comes back unchanged.
use std::str::FromStr;

use bigdecimal::num_bigint::BigInt;
use bigdecimal::{BigDecimal, ToPrimitive, Zero};

use super::ValueError;

/// The most digits a number may have written out in full (sign and point not counted):
/// 1e-4095 to about 1e4096 at 4096 significant digits. Every `float64` (its exact value has at
/// most 1075 digits), every `int64`/`uint64` and every number of the magnitudes any API takes
/// fits; cty's 512-bit mantissa is about 155 digits.
pub const MAX_NUMBER_DIGITS: u64 = 4096;

/// A number whose plain form would carry more zeros than this that are not significant digits
/// is written in scientific notation (`1e300`, not 301 digits), so that the answer to a number
/// written with an exponent is not thousands of times larger than the question. Every integer
/// up to `u128` stays plain.
const MAX_PLAIN_ZEROS: i128 = 40;

/// Exponents are read up to this; anything larger is out of range anyway.
const EXPONENT_CAP: i128 = 1 << 48;

/// The number `text` (what `big.ParseFloat` takes in base 10: `[+-]digits[.digits][e[+-]digits]`,
/// digits on at least one side of the point). Time and memory are linear in the text's length
/// plus [`MAX_NUMBER_DIGITS`]: the digits are counted before any arithmetic.
pub(super) fn parse(text: &str) -> Result<BigDecimal, ValueError> {
    let invalid = || ValueError::new(format!("{} is not a number", shorten(text)));
    let b = text.as_bytes();
    let mut i = 0;
    let negative = match b.first() {
        Some(b'-') => {
            i = 1;
            true
        }
        Some(b'+') => {
            i = 1;
            false
        }
        _ => false,
    };
    let digits_from = |i: &mut usize| {
        let start = *i;
        while *i < b.len() && b[*i].is_ascii_digit() {
            *i += 1;
        }
        &b[start..*i]
    };
    let int_part = digits_from(&mut i);
    let frac_part = if b.get(i) == Some(&b'.') {
        i += 1;
        digits_from(&mut i)
    } else {
        &[]
    };
    if int_part.is_empty() && frac_part.is_empty() {
        return Err(invalid());
    }
    let mut exponent: i128 = 0;
    if matches!(b.get(i), Some(b'e' | b'E')) {
        i += 1;
        let sign = match b.get(i) {
            Some(b'-') => {
                i += 1;
                -1
            }
            Some(b'+') => {
                i += 1;
                1
            }
            _ => 1,
        };
        let exp_digits = digits_from(&mut i);
        if exp_digits.is_empty() {
            return Err(invalid());
        }
        for d in exp_digits {
            exponent = (exponent * 10 + i128::from(d - b'0')).min(EXPONENT_CAP);
        }
        exponent *= sign;
    }
    if i != b.len() {
        return Err(invalid());
    }

    // The digits as one sequence; the one at index j stands for 10^(int_len - 1 - j + exponent).
    let all = || int_part.iter().chain(frac_part);
    let Some(first) = all().position(|d| *d != b'0') else {
        return Ok(BigDecimal::zero());
    };
    let last =
        int_part.len() + frac_part.len() - 1 - all().rev().position(|d| *d != b'0').unwrap_or(0);
    let int_len = int_part.len() as i128;
    let most = int_len - 1 - first as i128 + exponent;
    let least = int_len - 1 - last as i128 + exponent;
    if plain_digits(most, least) > i128::from(MAX_NUMBER_DIGITS) {
        return Err(ValueError::NumberOutOfRange {
            number: shorten(text),
        });
    }
    // Integers keep their zeros in the integer (as bigdecimal reads "100": 100, scale 0).
    let mut significant: String = all()
        .skip(first)
        .take(last - first + 1)
        .map(|d| char::from(*d))
        .collect();
    significant.extend(std::iter::repeat_n('0', least.max(0) as usize));
    let mut int = BigInt::from_str(&significant).map_err(|_| invalid())?;
    if negative {
        int = -int;
    }
    Ok(BigDecimal::new(int, (-least).max(0) as i64))
}

/// Digits of the plain form of a nonzero number whose most and least significant digits stand
/// for 10^most and 10^least: the integer part (at least "0") and the fraction.
fn plain_digits(most: i128, least: i128) -> i128 {
    let integer = if most >= 0 { most + 1 } else { 1 };
    let fraction = if least < 0 { -least } else { 0 };
    integer + fraction
}

/// The exponents of `n`'s most and least significant digits as stored (`None` for zero), or
/// an error when its plain form has more than [`MAX_NUMBER_DIGITS`] digits. Counts the digits
/// as stored: a number built in-process with trailing fraction zeros counts them.
fn extent(n: &BigDecimal) -> Result<Option<(i128, i128)>, ValueError> {
    let (int, scale) = n.as_bigint_and_scale();
    if int.is_zero() {
        return Ok(None);
    }
    let out_of_range = || ValueError::NumberOutOfRange {
        number: describe(&int, scale),
    };
    // A cheap look before counting digits (which computes a power of ten of that size): each
    // decimal digit is at least 3.3 bits.
    if int.bits() > (MAX_NUMBER_DIGITS + 1) * 4 {
        return Err(out_of_range());
    }
    let least = -i128::from(scale);
    let most = least + i128::from(n.digits()) - 1;
    if plain_digits(most, least) > i128::from(MAX_NUMBER_DIGITS) {
        return Err(out_of_range());
    }
    Ok(Some((most, least)))
}

/// An error if `n` is out of range (see [`MAX_NUMBER_DIGITS`]).
pub(super) fn check(n: &BigDecimal) -> Result<(), ValueError> {
    extent(n).map(|_| ())
}

/// `n` as text Terraform reads back to the same number: plain (every digit, as Terraform writes
/// numbers) unless that would carry more than [`MAX_PLAIN_ZEROS`] zeros that are not significant
/// digits, then scientific (`-1.25e-300`).
pub(super) fn text(n: &BigDecimal) -> Result<String, ValueError> {
    let Some((most, least)) = extent(n)? else {
        return Ok("0".into());
    };
    // Without trailing zeros in the fraction (Terraform writes none), and so with the least
    // significant digit as the number has it.
    let n = n.normalized();
    let (int, scale) = n.as_bigint_and_scale();
    let least = least.max(-i128::from(scale));
    let zeros = if least > 0 {
        least
    } else if most < 0 {
        -most
    } else {
        0
    };
    if zeros <= MAX_PLAIN_ZEROS {
        return Ok(n.to_plain_string());
    }
    let digits = int.magnitude().to_string();
    let sign = if int.sign() == bigdecimal::num_bigint::Sign::Minus {
        "-"
    } else {
        ""
    };
    let (lead, rest) = digits.split_at(1);
    let point = if rest.is_empty() { "" } else { "." };
    Ok(format!("{sign}{lead}{point}{rest}e{most}"))
}

/// `n` as an `i64` when it is a whole number in range; `None` also when it is out of range.
pub(super) fn to_i64(n: &BigDecimal) -> Option<i64> {
    let Some((most, least)) = extent(n).ok()? else {
        return Some(0);
    };
    // An i64 has at most 19 digits. Digits below 10^0 may still be trailing zeros.
    if most > 18 || (least < 0 && !n.is_integer()) {
        return None;
    }
    n.to_i64()
}

/// At most 40 characters of `text`, for an error message.
fn shorten(text: &str) -> String {
    if text.len() <= 40 {
        return text.to_string();
    }
    let head: String = text.chars().take(24).collect();
    let tail: Vec<char> = text.chars().rev().take(12).collect();
    format!("{head}…{}", tail.into_iter().rev().collect::<String>())
}

/// A number stored as `int` × 10^-`scale`, for an error message, without writing out a large
/// `int`.
fn describe(int: &BigInt, scale: i64) -> String {
    if int.bits() <= 128 {
        format!("{int}e{}", -i128::from(scale))
    } else {
        format!("(a {}-bit integer)e{}", int.bits(), -i128::from(scale))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dec(s: &str) -> BigDecimal {
        BigDecimal::from_str(s).unwrap()
    }

    #[test]
    fn parses_what_terraform_writes_and_reads() {
        let cases = [
            ("integer", "42", "42"),
            ("negative", "-7", "-7"),
            ("plus", "+7", "7"),
            ("fraction", "0.125", "0.125"),
            ("trailing_point", "5.", "5"),
            ("leading_point", ".5", "0.5"),
            ("trailing_fraction_zeros", "1.500", "1.5"),
            ("leading_zeros", "007", "7"),
            ("exponent", "1.5e3", "1500"),
            ("negative_exponent", "15E-1", "1.5"),
            ("exponent_plus", "1e+2", "100"),
            ("zero", "0", "0"),
            ("negative_zero", "-0.000", "0"),
            ("zero_huge_exponent", "0e999999999999999999999", "0"),
            (
                "big",
                "123456789012345678901234567890.000000000001",
                "123456789012345678901234567890.000000000001",
            ),
        ];
        for (name, input, want) in cases {
            let got = parse(input).unwrap_or_else(|e| panic!("{name}: {e}"));
            assert_eq!(got, dec(want), "{name}");
        }
    }

    #[test]
    fn refuses_what_is_not_a_number() {
        for input in [
            "", "-", ".", "e5", "1e", "1e+", "1.2.3", "1_000", " 1", "0x10", "inf", "NaN",
        ] {
            assert!(
                matches!(parse(input), Err(ValueError::Invalid(_))),
                "{input:?}"
            );
        }
    }

    #[test]
    fn the_bound_is_on_the_digits_written_out() {
        let max = MAX_NUMBER_DIGITS as usize;
        let at_limit = [
            format!("1e{}", max - 1),                         // 1 and 4095 zeros
            format!("1e-{}", max - 1),                        // "0." then 4095 digits
            "9".repeat(max),                                  // 4096 significant digits
            format!("0.{}", "9".repeat(max - 1)),             // "0" counts
            format!("1{}e-{}", "0".repeat(100_000), 100_000), // 1, however written
        ];
        for input in &at_limit {
            parse(input).unwrap_or_else(|e| panic!("{}: {e}", shorten(input)));
        }
        let beyond = [
            format!("1e{max}"),
            format!("1e-{max}"),
            "9".repeat(max + 1),
            format!("0.{}", "9".repeat(max)),
            "1e100000000".to_string(),
            "1e-100000000".to_string(),
            "-1e99999999999999999999999999999999999999999".to_string(),
        ];
        for input in &beyond {
            assert!(
                matches!(parse(input), Err(ValueError::NumberOutOfRange { .. })),
                "{}",
                shorten(input)
            );
        }
    }

    #[test]
    fn numbers_built_in_process_are_checked_too() {
        let huge = BigDecimal::new(BigInt::from(1), -100_000_000);
        let tiny = BigDecimal::new(BigInt::from(1), 100_000_000);
        let long = BigDecimal::new(BigInt::from(10).pow(100_000), 0);
        for n in [&huge, &tiny, &long] {
            assert!(matches!(text(n), Err(ValueError::NumberOutOfRange { .. })));
            assert_eq!(to_i64(n), None);
        }
        assert_eq!(
            text(&huge).unwrap_err().to_string(),
            "number 1e100000000 is out of range: written out in full it has more than 4096 digits"
        );
    }

    #[test]
    fn writes_plain_like_terraform_unless_mostly_zeros() {
        let cases = [
            ("integer", "1500", "1500"),
            ("fraction", "-0.125", "-0.125"),
            ("trailing_zeros_dropped", "1.500", "1.5"),
            (
                "u128_max_stays_plain",
                "340282366920938463463374607431768211455",
                "340282366920938463463374607431768211455",
            ),
            (
                "40_zeros_plain",
                "1e40",
                "10000000000000000000000000000000000000000",
            ),
            ("41_zeros_scientific", "1e41", "1e41"),
            (
                "small_plain",
                "1e-40",
                "0.0000000000000000000000000000000000000001",
            ),
            ("small_scientific", "-1.25e-300", "-1.25e-300"),
            ("large_scientific", "12345e300", "1.2345e304"),
        ];
        for (name, input, want) in cases {
            assert_eq!(text(&dec(input)).unwrap(), want, "{name}");
            assert_eq!(parse(want).unwrap(), dec(input), "{name}: reads back");
        }
    }

    #[test]
    fn to_i64_only_for_whole_numbers_in_range() {
        assert_eq!(to_i64(&dec("-42")), Some(-42));
        assert_eq!(to_i64(&dec("4.2e1")), Some(42));
        assert_eq!(to_i64(&dec("42.5")), None);
        assert_eq!(to_i64(&dec("9223372036854775808")), None);
        assert_eq!(to_i64(&dec("1e4000")), None);
    }
}
