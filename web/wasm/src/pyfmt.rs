//! Numbers printed as Python prints them, for `print(...)` in a pasted micrograd program:
//! `repr` of a float (`24.0`, `1e-07`), and the format specs `.4f`, `.3e`, `.6g`, `%`.

use crate::parse::Spec;

/// Python's `repr(float)`: the shortest text that reads back as `v`, with a `.0` on whole
/// numbers and an exponent below 1e-4 and from 1e16 on.
pub fn repr(v: f64) -> String {
    if let Some(s) = non_finite(v) {
        return s;
    }
    let a = v.abs();
    if a != 0.0 && !(1e-4..1e16).contains(&a) {
        return python_exponent(&format!("{v:e}"));
    }
    let s = format!("{v}");
    if s.contains('.') {
        s
    } else {
        s + ".0"
    }
}

fn non_finite(v: f64) -> Option<String> {
    if v.is_nan() {
        Some("nan".into())
    } else if v.is_infinite() {
        Some(if v > 0.0 { "inf" } else { "-inf" }.into())
    } else {
        None
    }
}

/// Rust's `1.5e-7` as Python's `1.5e-07`.
fn python_exponent(s: &str) -> String {
    match s.split_once('e') {
        Some((mantissa, exp)) => {
            let e: i32 = exp.parse().unwrap_or(0);
            let sign = if e < 0 { '-' } else { '+' };
            format!("{mantissa}e{sign}{:02}", e.abs())
        }
        None => s.to_string(),
    }
}

fn strip_zeros(s: &str) -> String {
    match s.split_once('e') {
        Some((m, e)) => format!("{}e{e}", strip_zeros(m)),
        None if s.contains('.') => s.trim_end_matches('0').trim_end_matches('.').to_string(),
        None => s.to_string(),
    }
}

/// `format(v, spec)` as Python writes it (for the subset [`Spec`] holds).
pub fn format(v: f64, spec: &Spec) -> String {
    let body = match (spec.kind, spec.precision) {
        _ if !v.is_finite() => non_finite(v).unwrap_or_default(),
        (None, None) => repr(v),
        (Some('f'), p) => format!("{:.*}", p.unwrap_or(6), v),
        (Some('%'), p) => format!("{:.*}%", p.unwrap_or(6), v * 100.0),
        (Some('e'), p) => python_exponent(&format!("{:.*e}", p.unwrap_or(6), v)),
        (_, p) => {
            // `g`: significant digits, trailing zeros dropped; an exponent outside [-4, p)
            let p = p.unwrap_or(6).max(1);
            let e_form = format!("{:.*e}", p - 1, v);
            let exp: i64 = e_form
                .split_once('e')
                .and_then(|(_, e)| e.parse().ok())
                .unwrap_or(0);
            if v == 0.0 {
                "0".into()
            } else if exp < -4 || exp >= p as i64 {
                python_exponent(&strip_zeros(&e_form))
            } else {
                strip_zeros(&format!("{:.*}", (p as i64 - 1 - exp).max(0) as usize, v))
            }
        }
    };
    let body = if spec.plus && !body.starts_with('-') {
        format!("+{body}")
    } else {
        body
    };
    format!("{body:>width$}", width = spec.width)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(text: &str) -> Spec {
        Spec::parse(text).unwrap()
    }

    #[test]
    fn repr_like_python() {
        assert_eq!(repr(24.0), "24.0");
        assert_eq!(repr(-0.0), "-0.0");
        assert_eq!(repr(0.1 + 0.2), "0.30000000000000004");
        assert_eq!(repr(1e-7), "1e-07");
        assert_eq!(repr(1.5e16), "1.5e+16");
        assert_eq!(repr(220.00000000000003), "220.00000000000003");
        assert_eq!(repr(f64::NAN), "nan");
        assert_eq!(repr(f64::NEG_INFINITY), "-inf");
    }

    #[test]
    fn specs_like_python() {
        assert_eq!(format(24.70408163265306, &spec(".4f")), "24.7041");
        assert_eq!(format(138.83381924198252, &spec(".4f")), "138.8338");
        assert_eq!(format(645.5772594752186, &spec(".3e")), "6.456e+02");
        assert_eq!(format(0.000012345, &spec(".3g")), "1.23e-05");
        assert_eq!(format(1234.5, &spec(".6g")), "1234.5");
        assert_eq!(format(0.25, &spec(".1%")), "25.0%");
        assert_eq!(format(2.0, &spec("+.1f")), "+2.0");
        assert_eq!(format(1.23456, &spec("8.2f")), "    1.23");
        assert_eq!(format(2.5, &spec("")), "2.5");
        assert_eq!(format(f64::INFINITY, &spec(".4f")), "inf");
    }
}
