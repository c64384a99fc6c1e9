//! The published Rust tape crates: `reverse` 0.2, `RustQuant_autodiff` 0.4 and `easy-ml` 1.10
//! (its `differentiation::WengertList` / `Record`).
//!
//! All three record a node per op with its local partials precomputed, and their backward pass
//! returns a fresh `Vec<f64>` of adjoints (allocated inside the timed backward). Neither has a
//! relu: `reverse` gets `x * 1.0` or `x * 0.0` (gradient passes iff the output is > 0),
//! RustQuant its `max(x, 0.0)` (gradient 1 iff x > 0), easy-ml a `unary` with derivative
//! 1 iff x > 0; easy-ml has no tanh either: a `unary` with derivative `1 - tanh(x)^2`. Neither can free part of a tape, so
//! W1 clears the whole tape every step and re-adds the parameters.

use crate::clock::Instant;
use crate::data::{self, Layer, Sample};
use crate::{Chain, Moons};

macro_rules! moons_loop {
    ($samples:expr, $init:expr, $steps:expr, $tape:ident, $new:expr, $clear:expr, $var:expr,
     $relu:expr, $backward:expr, $grad_of:expr, $value:expr) => {{
        let shapes = data::shapes($init);
        let mut p = data::flatten($init);
        let $tape = $new;
        let mut losses = (0.0, 0.0);
        let t0 = Instant::now();
        for k in 0..$steps {
            $clear;
            let params: Vec<_> = p.iter().map(|&v| $var(v)).collect();
            let mut data_loss = None;
            for s in $samples {
                let mut input: Vec<_> = s.x.iter().map(|&x| $var(x)).collect();
                let mut off = 0;
                for &(nin, nout, relu) in &shapes {
                    let mut out = Vec::with_capacity(nout);
                    for _ in 0..nout {
                        let mut act = params[off + nin];
                        for i in 0..nin {
                            act = act + params[off + i] * input[i];
                        }
                        off += nin + 1;
                        out.push(if relu { $relu(act) } else { act });
                    }
                    input = out;
                }
                let margin = input[0] * (-s.y) + 1.0;
                let loss = $relu(margin);
                data_loss = Some(match data_loss {
                    None => loss,
                    Some(d) => d + loss,
                });
            }
            let mut reg = params[0] * params[0];
            for &q in &params[1..] {
                reg = reg + q * q;
            }
            let total = data_loss.unwrap() * 0.01 + reg * 1e-4;
            let adj = $backward(total);
            let v = $value(total);
            if k == 0 {
                losses.0 = v;
            }
            if k == 99 {
                losses.1 = v;
            }
            let lr = data::lr(k);
            for (q, v) in p.iter_mut().zip(&params) {
                *q -= lr * $grad_of(&adj, v);
            }
        }
        let secs = t0.elapsed().as_secs_f64();
        Moons {
            step_s: secs / $steps as f64,
            loss0: losses.0,
            loss99: losses.1,
        }
    }};
}

macro_rules! chain {
    ($n:expr, $tape:ident, $new:expr, $var:expr, $tanh:expr, $backward:expr, $grad_of:expr,
     $value:expr) => {{
        let n = $n;
        let mut ws = Vec::with_capacity(n);
        let mut bs = Vec::with_capacity(n);
        let t0 = Instant::now();
        let $tape = $new;
        let mut x = $var(0.5);
        for k in 0..n {
            let w = $var(data::w2_w(k));
            let b = $var(data::w2_b(k));
            ws.push(w);
            bs.push(b);
            x = $tanh(x * w + b);
        }
        let t1 = Instant::now();
        let adj = $backward(x);
        let t2 = Instant::now();
        Chain {
            fwd_s: (t1 - t0).as_secs_f64(),
            bwd_s: (t2 - t1).as_secs_f64(),
            out: $value(x),
            s1: ws.iter().map(|w| $grad_of(&adj, w)).sum(),
            s2: bs.iter().map(|b| $grad_of(&adj, b)).sum(),
        }
    }};
}

macro_rules! wide {
    ($n:expr, $tape:ident, $new:expr, $var:expr, $backward:expr, $grad_of:expr,
     $value:expr) => {{
        let n = $n;
        let mut as_ = Vec::with_capacity(n);
        let mut bs = Vec::with_capacity(n);
        let t0 = Instant::now();
        let $tape = $new;
        let (a0, b0) = ($var(data::w3_a(0)), $var(data::w3_b(0)));
        as_.push(a0);
        bs.push(b0);
        let mut acc = a0 * b0;
        for i in 1..n {
            let (a, b) = ($var(data::w3_a(i)), $var(data::w3_b(i)));
            as_.push(a);
            bs.push(b);
            acc = acc + a * b;
        }
        let t1 = Instant::now();
        let adj = $backward(acc);
        let t2 = Instant::now();
        Chain {
            fwd_s: (t1 - t0).as_secs_f64(),
            bwd_s: (t2 - t1).as_secs_f64(),
            out: $value(acc),
            s1: as_.iter().map(|v| $grad_of(&adj, v)).sum(),
            s2: bs.iter().map(|v| $grad_of(&adj, v)).sum(),
        }
    }};
}

pub mod rev {
    use super::*;
    use reverse::{Gradient, Tape, Var};

    fn tanh(x: Var<'_>) -> Var<'_> {
        x.tanh()
    }

    fn relu(x: Var<'_>) -> Var<'_> {
        if x.val() > 0.0 {
            x * 1.0
        } else {
            x * 0.0
        }
    }

    pub fn w1(samples: &[Sample], init: &[Layer], steps: usize) -> Moons {
        moons_loop!(
            samples,
            init,
            steps,
            tape,
            Tape::new(),
            tape.clear(),
            |v| tape.add_var(v),
            relu,
            |t: Var<'_>| t.grad(),
            |a: &Vec<f64>, v: &Var<'_>| a.wrt(v),
            |t: Var<'_>| t.val()
        )
    }

    pub fn w2(n: usize) -> Chain {
        chain!(
            n,
            tape,
            Tape::new(),
            |v| tape.add_var(v),
            tanh,
            |x: Var<'_>| x.grad(),
            |a: &Vec<f64>, v: &Var<'_>| a.wrt(v),
            |x: Var<'_>| x.val()
        )
    }

    pub fn w3(n: usize) -> Chain {
        wide!(
            n,
            tape,
            Tape::new(),
            |v| tape.add_var(v),
            |x: Var<'_>| x.grad(),
            |a: &Vec<f64>, v: &Var<'_>| a.wrt(v),
            |x: Var<'_>| x.val()
        )
    }
}

pub mod rq {
    use super::*;
    use RustQuant_autodiff::{Accumulate, Gradient, Graph, Max, Variable};

    fn tanh(x: Variable<'_>) -> Variable<'_> {
        x.tanh()
    }

    fn relu(x: Variable<'_>) -> Variable<'_> {
        <Variable<'_> as Max<f64>>::max(&x, 0.0)
    }

    pub fn w1(samples: &[Sample], init: &[Layer], steps: usize) -> Moons {
        moons_loop!(
            samples,
            init,
            steps,
            tape,
            Graph::new(),
            tape.clear(),
            |v| tape.var(v),
            relu,
            |t: Variable<'_>| t.accumulate(),
            |a: &Vec<f64>, v: &Variable<'_>| a.wrt(v),
            |t: Variable<'_>| t.value()
        )
    }

    pub fn w2(n: usize) -> Chain {
        chain!(
            n,
            tape,
            Graph::new(),
            |v| tape.var(v),
            tanh,
            |x: Variable<'_>| x.accumulate(),
            |a: &Vec<f64>, v: &Variable<'_>| a.wrt(v),
            |x: Variable<'_>| x.value()
        )
    }

    pub fn w3(n: usize) -> Chain {
        wide!(
            n,
            tape,
            Graph::new(),
            |v| tape.var(v),
            |x: Variable<'_>| x.accumulate(),
            |a: &Vec<f64>, v: &Variable<'_>| a.wrt(v),
            |x: Variable<'_>| x.value()
        )
    }
}

pub mod em {
    use super::*;
    use easy_ml::differentiation::{Derivatives, Record, WengertList};

    type R<'a> = Record<'a, f64>;

    /// `Record::unary`'s result borrows the operand's handle; this re-attaches it to the list.
    fn detach<'a>(x: &R<'a>, r: R<'_>) -> R<'a> {
        Record::from_existing((r.number, r.index), x.history())
    }

    fn tanh(x: R<'_>) -> R<'_> {
        let r = x.unary(
            |v| v.tanh(),
            |v| {
                let t = v.tanh();
                1.0 - t * t
            },
        );
        detach(&x, r)
    }

    fn relu(x: R<'_>) -> R<'_> {
        let r = x.unary(
            |v| if v < 0.0 { 0.0 } else { v },
            |v| if v > 0.0 { 1.0 } else { 0.0 },
        );
        detach(&x, r)
    }

    pub fn w1(samples: &[Sample], init: &[Layer], steps: usize) -> Moons {
        moons_loop!(
            samples,
            init,
            steps,
            tape,
            WengertList::<f64>::new(),
            tape.clear(),
            |v| Record::variable(v, &tape),
            relu,
            |t: R<'_>| t.derivatives(),
            |a: &Derivatives<f64>, v: &R<'_>| a.at(v),
            |t: R<'_>| t.number
        )
    }

    pub fn w2(n: usize) -> Chain {
        chain!(
            n,
            tape,
            WengertList::<f64>::new(),
            |v| Record::variable(v, &tape),
            tanh,
            |x: R<'_>| x.derivatives(),
            |a: &Derivatives<f64>, v: &R<'_>| a.at(v),
            |x: R<'_>| x.number
        )
    }

    pub fn w3(n: usize) -> Chain {
        wide!(
            n,
            tape,
            WengertList::<f64>::new(),
            |v| Record::variable(v, &tape),
            |x: R<'_>| x.derivatives(),
            |a: &Derivatives<f64>, v: &R<'_>| a.at(v),
            |x: R<'_>| x.number
        )
    }
}
