//! What the examples print, checked by running them: the numbers the README quotes, the
//! files they write (under `target/`, never over tracked files), and their flag checks.
//!
//! Each test runs `cargo run --example NAME` with the cargo that runs the tests, in the same
//! profile, so the examples are built as part of the test when they are not yet.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// Runs an example with `args`; returns its output (the example is built if needed).
fn run_example(name: &str, args: &[&str]) -> Output {
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR")).join("Cargo.toml");
    let mut cmd = Command::new(env!("CARGO"));
    cmd.args(["run", "--quiet", "--example", name, "--manifest-path"])
        .arg(&manifest);
    if !cfg!(debug_assertions) {
        cmd.arg("--release");
    }
    cmd.arg("--").args(args);
    cmd.output().expect("cargo runs")
}

fn stdout_of(name: &str, args: &[&str]) -> String {
    let out = run_example(name, args);
    assert!(
        out.status.success(),
        "{name} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("UTF-8 output")
}

fn target_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("target")
}

#[test]
fn newton_prints_the_step_counts_the_readme_quotes() {
    let out = stdout_of("newton", &[]);
    // README: "Newton with the exact Hessian in 6 steps, gradient descent in 43,605"
    assert!(
        out.contains("Newton (full steps):               6 steps"),
        "{out}"
    );
    assert!(out.contains("Newton (backtracking steps):      21 steps"));
    assert!(out.contains("gradient descent (lr 1e-3):    43605 steps"));
    assert!(out.contains("final point (1.000000000000000, 0.999999999981472)"));
}

#[test]
fn curvature_prints_two_stiff_directions_and_a_flat_valley() {
    let out = stdout_of("curvature", &[]);
    assert!(out.contains("step 2999: loss 1.476746e-7"), "{out}");
    assert!(out.contains("- 2 clearly positive eigenvalues"));
    assert!(out.contains("- 6 eigenvalues at rounding level"));
    assert!(out.contains("10-dimensional valley"));
    assert!(out.contains("λ12 = +4.673395e-2"));
}

#[test]
fn moons_matches_micrograd_and_writes_under_target() {
    let svg = target_dir().join("examples-output-test").join("moons.svg");
    let _ = std::fs::remove_file(&svg);
    let out = stdout_of("moons", &["--out", svg.to_str().expect("UTF-8 path")]);
    assert!(
        out.contains("step 0:  0.8958441028683222  micrograd 0.8958441028683222"),
        "{out}"
    );
    assert!(out.contains("step 99: 0.010978370135492717  micrograd 0.010978370135492719"));
    assert!(out.contains("   99  0.01097837    100.0%  0.109"));
    assert!(svg.exists(), "no picture at {}", svg.display());
    // the default goes under target/, not over the tracked docs/moons.svg
    let source = include_str!("../examples/moons.rs");
    assert!(source.contains(r#""/target/moons.svg""#));
}

#[test]
fn moons_and_threads_reject_step_counts_that_are_not_whole_or_train_with_a_negative_rate() {
    // (mpi_moons, behind the `mpi` feature, parses the same flag: .ci/interop.sh checks it)
    for (example, too_many, not_whole) in [("moons", "200", "1.5"), ("threads", "113", "ten")] {
        let out = run_example(example, &["--steps", too_many]);
        assert!(!out.status.success(), "{example} --steps {too_many}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(
            err.contains("learning rate 1 − 0.9·k/100 = -0.008 at step 112"),
            "{example}: {err}"
        );
        assert!(err.contains("use at most 112 steps"), "{example}: {err}");
        let out = run_example(example, &["--steps", not_whole]);
        assert!(!out.status.success(), "{example} --steps {not_whole}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(
            err.contains(&format!("`{not_whole}` is not a whole number of steps")),
            "{example}: {err}"
        );
    }
}

#[test]
fn trainer_fits_the_line_and_keeps_no_nodes() {
    let out = stdout_of("trainer", &[]);
    assert!(
        out.contains("fitted y = 1.999958·x -0.999956 (true: 2x − 1); 0 nodes kept"),
        "{out}"
    );
    assert!(out.contains("fitted y = 1.999965·x -0.999963"));
}
