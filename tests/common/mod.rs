//! Printing numbers the way the seeds' Python printed them, so an example's output can be
//! compared with a seed line by line.
//!
//! Shared by the seed 000–002 examples (`examples/seed00[0-2]_*.rs` include it with `#[path]`) and
//! their tests (`tests/seed00[0-2].rs`).

// Each includer uses a different subset of these helpers.
#![allow(dead_code)]

/// An `f64` as Python's `repr`/`str` prints it: the shortest digits that round-trip, in
/// positional notation for `1e-4 ≤ |v| < 1e16`, otherwise as `d.ddde-XX` (two-digit
/// exponent at least), e.g. `7.902677864841668e-05`.
pub fn py_float(v: f64) -> String {
    if !v.is_finite() {
        return if v.is_nan() {
            "nan".into()
        } else if v > 0.0 {
            "inf".into()
        } else {
            "-inf".into()
        };
    }
    let sci = format!("{v:e}"); // shortest round-trip digits, e.g. "7.902677864841668e-5"
    let (mantissa, exp) = sci.split_once('e').expect("`{:e}` always has an exponent");
    let exp: i32 = exp.parse().expect("`{:e}` exponent is an integer");
    if v == 0.0 || (-4..16).contains(&exp) {
        let s = format!("{v}");
        if s.contains('.') {
            s
        } else {
            format!("{s}.0")
        }
    } else {
        let sign = if exp < 0 { '-' } else { '+' };
        format!("{mantissa}e{sign}{:02}", exp.abs())
    }
}

/// Splits each element, printed numpy-style (at most 8 fractional digits, trailing zeros
/// dropped), into integer part and fraction, then pads them all to common widths as numpy
/// does inside one array: integer parts right-aligned, fractions left-aligned with spaces.
///
/// # Panics
/// If numpy would switch to scientific notation for these values (some nonzero `|v| < 1e-4`,
/// `|v| ≥ 1e8`, or a max/min ratio above 1000): the seeds never print such arrays and this
/// helper does not implement that mode.
fn numpy_elements(values: &[f64]) -> Vec<String> {
    let abs: Vec<f64> = values
        .iter()
        .map(|v| v.abs())
        .filter(|&a| a != 0.0)
        .collect();
    let (min, max) = abs.iter().fold((f64::INFINITY, 0.0f64), |(lo, hi), &a| {
        (lo.min(a), hi.max(a))
    });
    assert!(
        abs.is_empty() || (min >= 1e-4 && max < 1e8 && max / min <= 1e3),
        "numpy would print {values:?} in scientific notation, which this helper does not implement"
    );
    let parts: Vec<(String, String)> = values
        .iter()
        .map(|v| {
            let s = format!("{v:.8}");
            let (int, frac) = s.split_once('.').expect("`{:.8}` has a decimal point");
            (int.to_string(), frac.trim_end_matches('0').to_string())
        })
        .collect();
    let left = parts.iter().map(|(i, _)| i.len()).max().unwrap_or(0);
    let right = parts.iter().map(|(_, f)| f.len()).max().unwrap_or(0);
    parts
        .iter()
        .map(|(i, f)| format!("{i:>left$}.{f:<right$}"))
        .collect()
}

/// A 1-D array as numpy prints it: `[0.64106615 0.70142718]`, `[2.6 2. ]`, `[0.238731   0.17752054]`.
pub fn numpy_array(values: &[f64]) -> String {
    format!("[{}]", numpy_elements(values).join(" "))
}

/// A 2-D array (rows of equal length) as numpy prints it, rows on separate lines:
/// `[[0.01247645 0.00577953]\n [0.01996232 0.00924725]]`.
pub fn numpy_matrix(rows: &[Vec<f64>]) -> String {
    let flat: Vec<f64> = rows.iter().flatten().copied().collect();
    let cells = numpy_elements(&flat);
    let lines: Vec<String> = cells
        .chunks(rows.first().map_or(1, |r| r.len().max(1)))
        .map(|row| format!("[{}]", row.join(" ")))
        .collect();
    format!("[{}]", lines.join("\n "))
}
