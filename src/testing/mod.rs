//! Property-testing derivatives with [proptest](https://docs.rs/proptest): strategies for
//! inputs, random programs over every op (yours included), and assertions that return
//! proptest's [`TestCaseError`](proptest::test_runner::TestCaseError) so that they work
//! inside `proptest!` and shrink to a small failing case. Behind the cargo feature
//! `proptest`.
//!
//! - Inputs: [`finite`] values in a range, values [`away_from_kinks`] of an op's
//!   [`Domain`] (relu and abs at 0, ln and sqrt at 0, division by 0, pow of a negative base),
//!   [`vectors`] of them, [`inputs_for`] an op (each argument off its kinks).
//! - Programs: [`programs`] over [`builtin_ops`] and your own [`Op`]s ([`Op::custom`] for a
//!   [`UnaryFn`](crate::UnaryFn), [`Op::new`] for anything given on `f64` and on a graph),
//!   with reuse and diamonds; [`programs_through`] to put one op on every program's path.
//! - Assertions: the engine's gradient against central differences ([`assert_gradient`],
//!   [`assert_program_gradient`]), its recorded second derivatives against central
//!   differences of its gradient ([`assert_hessian`], [`assert_program_hessian`]), and a
//!   hand-written gradient against the engine ([`assert_hand_gradient`]). Each failure says
//!   which components disagree, by how much, and what was allowed; [`FiniteDiff`] derives
//!   the allowance.
//!
//! ```
//! use proptest::prelude::*;
//! use scalargrad::testing::{assert_program_gradient, builtin_ops, programs, vectors, finite, FiniteDiff};
//!
//! proptest!(|(p in programs(&builtin_ops(), 2, 8), x in vectors(finite(-2.0, 2.0), 2))| {
//!     assert_program_gradient(&p, &x, &FiniteDiff::default())?;
//! });
//! ```

mod assert;
mod program;
mod values;

pub use assert::{
    assert_gradient, assert_hand_gradient, assert_hessian, assert_program, assert_program_gradient,
    assert_program_hessian, gradient_report, hessian_report, program_gradient_report,
    program_hessian_report, Component, FdReport, FiniteDiff,
};
pub use program::{builtin_ops, inputs_for, programs, programs_through, Instr, Op, Program, GUARD};
pub use values::{away_from_kinks, finite, vectors, Bisect, Domain, Finite};
