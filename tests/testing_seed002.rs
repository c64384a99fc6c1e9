//! `check::compare_gradients` on seed 002's hand-derived gradients (the workflow of
//! `examples/seed002_wrong_gradients.rs`): along the seed's own 1500-step training path the
//! four first-layer formulas are wrong at every point, the four second-layer ones agree, and
//! the fixed formulas agree everywhere. The engine's numbers at the initial weights are
//! pinned against the closed form evaluated in numpy (see tests/seed002.rs).

#[allow(dead_code)]
#[path = "../examples/seed002_wrong_gradients.rs"]
mod example;

use example::{fixed_gradients, hand_gradients, verdict, NAMES};

#[test]
fn verdict_table_names_exactly_the_first_layer_formulas() {
    let report = verdict(hand_gradients);
    assert_eq!(report.points, 1500);
    assert_eq!(
        report.disagreeing(),
        ["w1[0][0]", "w1[0][1]", "w1[1][0]", "w1[1][1]"]
    );
    for (n, p) in report.parameters.iter().enumerate() {
        assert_eq!(p.name, NAMES[n]);
        if n < 4 {
            // wrong at every point, by at least a tenth of the gradient's scale somewhere
            assert_eq!(p.disagreeing, 1500, "{report}");
            assert!(p.max_error > 0.1, "{report}");
        } else {
            assert_eq!(p.disagreeing, 0, "{report}");
            assert!(p.max_error < 1e-15, "{report}");
        }
    }
    let table = report.to_string();
    let lines: Vec<&str> = table.lines().collect();
    assert_eq!(lines.len(), 2 + 8, "{table}");
    assert!(lines[0].contains("1500 point(s): 4 of 8 parameter(s) disagree"));
    for (n, line) in lines[2..].iter().enumerate() {
        assert!(line.starts_with(NAMES[n]), "{line}");
        assert!(
            line.contains(if n < 4 { "1500/1500" } else { "0/1500" }),
            "{line}"
        );
        assert!(
            line.ends_with(if n < 4 { "WRONG" } else { "agrees" }),
            "{line}"
        );
    }
}

#[test]
fn fixed_formulas_agree_along_the_whole_path() {
    let report = verdict(fixed_gradients);
    assert!(report.agrees(), "{report}");
    assert!(report.parameters.iter().all(|p| p.max_error < 1e-15));
}

#[test]
fn worst_point_holds_the_values_shown() {
    // the table's hand/engine columns are the two gradients at the worst point
    let report = verdict(hand_gradients);
    let path = example::training_path(hand_gradients);
    for (n, p) in report.parameters.iter().enumerate() {
        let point = example::Point::at(example::X, example::T, &path[p.worst_point]);
        assert_eq!(p.hand, hand_gradients(&point)[n]);
        assert!((p.engine - example::autograd_gradients(&point)[n]).abs() < 1e-15);
    }
}
