//! Which handles an op accepts, after any sequence of marks and rewinds, against a model
//! of liveness written from the documentation alone: a handle is live until a rewind
//! frees its node (keeps fewer nodes than the handle's position), and stays freed even
//! when later nodes reuse its position. Binary and unary ops check both operands in one
//! test on their common path and every case on their general path; both must agree with
//! the model, for handles recorded before the first cut, since the last cut, and in
//! between.

use scalargrad::{Graph, Mark, Var};

const FREED: &str = "this handle points to a node that was freed";

/// A handle and what the model knows about it.
#[derive(Clone, Copy)]
struct Known<'g> {
    var: Var<'g>,
    /// tape position when recorded
    pos: usize,
    /// number of rewinds before it was recorded
    born: usize,
    value: f64,
}

/// The model: `rewinds[k]` = how many nodes the k-th rewind kept.
fn live(h: &Known, rewinds: &[usize]) -> bool {
    rewinds[h.born..].iter().all(|&keep| keep > h.pos)
}

/// A small deterministic generator (SplitMix64).
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

/// The expected panics (thousands of them) are not printed; every other one is.
fn quiet_freed_panics() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        let default = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            let msg = info
                .payload()
                .downcast_ref::<String>()
                .map(String::as_str)
                .or_else(|| info.payload().downcast_ref::<&str>().copied())
                .unwrap_or("");
            if !msg.contains(FREED) {
                default(info);
            }
        }));
    });
}

fn panics_freed(f: impl FnOnce() -> f64) -> Result<f64, String> {
    quiet_freed_panics();
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(f)).map_err(|p| {
        p.downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| p.downcast_ref::<String>().cloned())
            .unwrap_or_default()
    })
}

fn pick<'g>(rng: &mut Rng, handles: &[Known<'g>]) -> Known<'g> {
    handles[rng.below(handles.len())]
}

/// Runs one random program; returns how many ops were accepted and how many refused.
fn program(seed: u64, steps: usize) -> (usize, usize) {
    let g = Graph::new();
    let mut rng = Rng(seed);
    let mut handles: Vec<Known> = Vec::new();
    let mut marks: Vec<(Mark, usize)> = Vec::new(); // mark, length when taken
    let mut rewinds: Vec<usize> = Vec::new();
    let (mut accepted, mut refused) = (0, 0);
    for _ in 0..steps {
        match rng.below(10) {
            0 | 1 => {
                let value = (rng.below(2001) as f64 - 1000.0) / 64.0;
                let pos = g.len();
                let var = if rng.below(2) == 0 {
                    g.var(value)
                } else {
                    g.constant(value)
                };
                handles.push(Known {
                    var,
                    pos,
                    born: rewinds.len(),
                    value,
                });
            }
            2 => {
                marks.push((g.mark(), g.len()));
            }
            3 if !marks.is_empty() => {
                let j = rng.below(marks.len());
                let (mark, keep) = marks[j];
                g.rewind(mark);
                marks.truncate(j + 1);
                rewinds.push(keep);
                assert_eq!(g.len(), keep);
            }
            4..=7 if !handles.is_empty() => {
                let (a, b) = (pick(&mut rng, &handles), pick(&mut rng, &handles));
                let expect = live(&a, &rewinds) && live(&b, &rewinds);
                let pos = g.len();
                let mut made = None;
                let got = panics_freed(|| {
                    let y = a.var * b.var;
                    made = Some(y);
                    y.value()
                });
                match (expect, got) {
                    (true, Ok(v)) => {
                        assert_eq!(v, a.value * b.value, "seed {seed}");
                        assert_eq!(g.len(), pos + 1, "seed {seed}: one node");
                        handles.push(Known {
                            var: made.unwrap(),
                            pos,
                            born: rewinds.len(),
                            value: v,
                        });
                        accepted += 1;
                    }
                    (false, Err(msg)) => {
                        assert!(msg.contains(FREED), "seed {seed}: {msg}");
                        assert_eq!(g.len(), pos, "seed {seed}: nothing recorded");
                        refused += 1;
                    }
                    (want, got) => {
                        panic!("seed {seed}: expected live = {want} for positions {} and {}, got {got:?}", a.pos, b.pos)
                    }
                }
            }
            _ if !handles.is_empty() => {
                let a = pick(&mut rng, &handles);
                let got = panics_freed(|| (-a.var).value());
                if live(&a, &rewinds) {
                    assert_eq!(got, Ok(-a.value), "seed {seed}");
                    accepted += 1;
                } else {
                    assert!(got.unwrap_err().contains(FREED), "seed {seed}");
                    refused += 1;
                }
            }
            _ => {}
        }
    }
    (accepted, refused)
}

#[test]
fn ops_accept_exactly_the_live_handles_after_any_marks_and_rewinds() {
    let (mut accepted, mut refused) = (0, 0);
    for seed in 0..200 {
        let (a, r) = program(seed, 300);
        accepted += a;
        refused += r;
    }
    // both outcomes are exercised many times over
    assert!(accepted > 5_000 && refused > 5_000, "{accepted} {refused}");
}

/// The cases the common path decides in one test, each next to its neighbour that it must
/// leave to the general path.
#[test]
fn handles_below_the_first_cut_since_the_last_cut_and_in_between() {
    let g = Graph::new();
    let x = g.var(2.0); // position 0: below every cut
    let first = g.mark(); // length 1
    let y = x * 3.0; // positions 1, 2 (epoch 0)
    g.rewind(first); // cut 1: keeps 1
    let c = g.constant(5.0); // position 1, epoch 1
    let between = g.mark(); // length 2
    let z = x * c; // position 2, epoch 1
    let stale = z * 7.0; // positions 3, 4, epoch 1
    g.rewind(between); // cut 2: keeps 2
    let fresh = x + c; // position 2, epoch 2
                       // below the first cut with one made since the last cut
    assert_eq!((x * fresh).value(), 2.0 * 7.0);
    // made between the cuts (epoch 1, position 1 < 2): live, through the general path
    assert_eq!((c * fresh).value(), 5.0 * 7.0);
    assert_eq!((c * x).value(), 10.0);
    assert_eq!((-c).value(), -5.0);
    // `stale`'s position is below the length again, yet its node was freed
    for _ in 0..8 {
        g.constant(0.0);
    }
    assert!(g.len() > 4);
    for (what, r) in [
        ("y * x", panics_freed(|| (y * x).value())),
        ("x * y", panics_freed(|| (x * y).value())),
        ("z * c", panics_freed(|| (z * c).value())),
        ("stale * fresh", panics_freed(|| (stale * fresh).value())),
        ("fresh * stale", panics_freed(|| (fresh * stale).value())),
        ("-stale", panics_freed(|| (-stale).value())),
    ] {
        assert!(r.expect_err(what).contains(FREED), "{what}");
    }
    // a freed handle whose position is exactly the next one to be recorded
    let g1 = Graph::new();
    let v = g1.var(1.5);
    let m = g1.mark();
    let next = -v; // position 1
    g1.rewind(m);
    assert_eq!(g1.len(), 1);
    for (what, r) in [
        ("next * v", panics_freed(|| (next * v).value())),
        ("v * next", panics_freed(|| (v * next).value())),
        ("-next", panics_freed(|| (-next).value())),
    ] {
        assert!(r.expect_err(what).contains(FREED), "{what}");
    }
    assert_eq!(g1.len(), 1);
    // and the gradients of what was accepted are right
    let g2 = Graph::new();
    let a = g2.var(3.0);
    let m = g2.mark();
    let _ = a * 2.0;
    g2.rewind(m);
    let b = g2.var(4.0);
    let out = a * b + (-a);
    out.backward();
    assert_eq!((a.grad(), b.grad()), (4.0 - 1.0, 3.0));
}

/// A handle of another graph is refused before anything else is looked at.
#[test]
#[should_panic(expected = "a handle from another Graph")]
fn a_handle_of_another_graph_is_refused() {
    let (g, h) = (Graph::new(), Graph::new());
    let _ = g.var(1.0) * h.var(2.0);
}

/// A freed handle used twice in one op (`s * s`), its position taken again: the two
/// positions OR-ed are its own, and the op must still find it freed.
#[test]
fn a_freed_handle_used_on_both_sides_is_refused() {
    quiet_freed_panics();
    let g = Graph::new();
    let _a = g.var(1.0);
    let mark = g.mark();
    let _b = g.var(2.0);
    let s = g.var(3.0);
    g.rewind(mark);
    let _c = g.var(4.0);
    let _d = g.var(5.0); // at s's position
    let r = panics_freed(|| (s * s).value());
    assert!(r.unwrap_err().contains(FREED));
}

/// A freed handle at the very position the first cut kept (the first one it freed), with
/// a live handle made since: each handle's own test must find it freed.
#[test]
fn a_freed_handle_at_the_first_cut_with_a_fresh_one_is_refused() {
    quiet_freed_panics();
    let g = Graph::new();
    let a = g.var(1.0);
    let mark = g.mark();
    let s = g.var(2.0); // position 1: the first cut keeps 1 node
    g.rewind(mark);
    let fresh = g.var(3.0); // position 1 again
    let r = panics_freed(|| (s * fresh).value());
    assert!(r.unwrap_err().contains(FREED));
    let r = panics_freed(|| (fresh * s).value());
    assert!(r.unwrap_err().contains(FREED));
    // a parameter below the cut with the fresh one: live
    assert_eq!((a * fresh).value(), 3.0);
}
