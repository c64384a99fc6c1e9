//! Unary runs: a layer's activations over its rows, `n` nodes that each apply the same op to
//! the node the same distance below (so their words are equal), recorded, recomputed and
//! pulled back in one tight loop each. Every node takes the same steps, in the same order,
//! as it would one at a time (`tests/relu_runs.rs` holds the two to each other, and counts
//! the nodes taken: [`fast::taken`](super::taken)).

use super::{count, Path};
use crate::op::Op;
use crate::pull::{marked_take, NumberPull};
use crate::tape::word::Word;
use crate::tape::NodeId;
use crate::tape::Tape;

use super::tame::AllFinite;

/// Appends `n` tracked unary nodes at consecutive positions, node `j` being `op(first + j)`:
/// a layer's activations over its rows (see [`rows`](super::rows)). Every node reads its
/// input from the same distance back, so the word is packed once; with `op` a variant's
/// constructor (not a function pointer) the forward rule is chosen once too. The same nodes
/// as `n` ops recorded one at a time. Only for activations right after their rows (at most
/// 2²⁸ back: no more rows than that are recorded at once), and anomaly mode is not checked:
/// no rows are recorded as such then.
#[inline(always)]
pub(crate) fn push(t: &mut Tape, op: impl Fn(u32) -> Op, first: u32, n: u32) -> NodeId {
    debug_assert!(!t.anomaly() && n > 0 && (first + n) as usize <= t.len());
    let pos0 = t.len();
    let word = Word::pack(&op(first), pos0 as u32)
        .expect("activations read their rows fewer than 2²⁸ positions back");
    let block = t.open_block(n as usize);
    block.words.fill(word.tracked_if(true));
    let mut finite = AllFinite::START;
    for (j, y) in (first..).zip(&mut *block.values) {
        *y = op(j).eval(block.below, block.operands, block.customs);
        finite.see(*y);
    }
    count(Path::RunRecorded, n as usize);
    t.close_block(n as usize, !op(first).is_tame() || !finite.holds())
}

/// Recomputes the run of relus that starts at `pos` (every node whose word is the same as
/// the one at `pos`), each value by relu's own forward rule. Returns how many nodes there
/// were and whether their values are all finite.
#[inline(always)]
pub(crate) fn recompute_relus(values: &mut [f64], words: &[Word], pos: usize) -> (usize, bool) {
    let word = words[pos];
    let d = word.distance_a();
    let run = words[pos..]
        .iter()
        .take_while(|&&w| w.same_op(word))
        .count();
    let mut finite = AllFinite::START;
    for k in pos..pos + run {
        let y = crate::scalar::relu(values[k - d]);
        values[k] = y;
        finite.see(y);
    }
    count(Path::RunRecomputed, run);
    (run, finite.holds())
}

/// The reverse pass through the run of relus whose highest reached node is `top` (its mark
/// already taken by the walk), downwards while the word stays the same; each reached node
/// is pulled back by relu's own rule, a zero gradient below the first wild node skipped as
/// the walk skips it. Returns the lowest position of the run.
#[inline(always)]
pub(crate) fn pullback_relus<const ANOMALY: bool, const SCRATCH: bool>(
    pull: &mut NumberPull<'_, ANOMALY, SCRATCH>,
    top: usize,
    word: Word,
) -> usize {
    let d = word.distance_a();
    let mut k = top;
    let mut taken = 0;
    loop {
        let w = pull.words[k];
        if w.is_reached() {
            pull.words[k] = w.unreached();
        }
        if k == top || marked_take(pull.ring, k) || w.is_reached() {
            let g = pull.grads[k];
            // a zero gradient over tame nodes is not passed on
            if g != 0.0 || k >= pull.tame_below {
                pull.at = k;
                let y = pull.values[k];
                Op::Relu((k - d) as u32).pullback(&[], y, g, pull);
                taken += 1;
            }
        }
        if k == 0 || !pull.words[k - 1].same_op(word) {
            break;
        }
        k -= 1;
    }
    count(Path::RunPulled, taken);
    count(Path::ReluRunsTaken, 1);
    k
}
