//! The tape word: one node's op in 8 bytes, and the only code that encodes or decodes it.
//!
//! ```text
//!  63            36 35             8  7        6       5   0
//! | input b: 28 bits | input a: 28 bits | REACHED | TRACKED | tag |
//! ```
//!
//! - **Tag** (6 bits): [`Tag::LEAF`], [`Tag::FAR`] (the op sits whole in the side table;
//!   the bits above the flags hold its index), [`Tag::ROW`] (a layer row: the side table
//!   index of row 0 in field a, the row number in field b), or one of the packed ops listed
//!   in `packed_ops!` below, whose inputs are *distances back* from the node's position in
//!   fields a and b.
//! - **Flags**: `TRACKED` (the node depends on a tracked leaf) and `REACHED` (scratch of a
//!   running reverse pass, see `backward`).
//!
//! Everything else in the crate reads a word through [`Word`]'s methods and [`with_op!`].

use crate::op::{Op, Span};

/// One node's op, flags and inputs (see the module docs).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[repr(transparent)]
pub(crate) struct Word(u64);

/// The tags a walk tests by name (the packed ops' tags are in `packed_ops!`).
pub(crate) struct Tag;

impl Tag {
    /// A leaf.
    pub(crate) const LEAF: u64 = 0;
    /// An op kept whole in the side table.
    pub(crate) const FAR: u64 = 1;
    /// `Add`, as in `packed_ops!` below.
    pub(crate) const ADD: u64 = 2;
    /// `Mul`, as in `packed_ops!` below.
    pub(crate) const MUL: u64 = 4;
    /// `Relu`, as in `packed_ops!` below.
    pub(crate) const RELU: u64 = 12;
    /// A row of a layer (see [`Word::row`]).
    pub(crate) const ROW: u64 = 21;
}

const TAG_BITS: u32 = 6;
const TAG_MASK: u64 = (1 << TAG_BITS) - 1;
const TRACKED: u64 = 1 << 6;
const REACHED: u64 = 1 << 7;
const FAR_SHIFT: u32 = 8;
const A_SHIFT: u32 = TAG_BITS + 2;
const DELTA_BITS: u32 = 28;
const B_SHIFT: u32 = A_SHIFT + DELTA_BITS;
/// The largest distance back (and side-table index of a layer's row 0, and row number) a
/// word holds.
pub(crate) const DELTA_MAX: u32 = (1 << DELTA_BITS) - 1;

impl Word {
    /// A leaf's word.
    #[inline(always)]
    pub(crate) fn leaf(tracked: bool) -> Word {
        Word(Tag::LEAF).tracked_if(tracked)
    }

    /// The word of an op kept whole at `index` in the side table.
    #[inline(always)]
    pub(crate) fn far(index: usize) -> Word {
        Word(Tag::FAR | (index as u64) << FAR_SHIFT)
    }

    /// Whether a layer of `nout` rows can be recorded as rows: row numbers `0 … nout − 1`
    /// fit in a word (see [`Word::row`]).
    #[inline(always)]
    pub(crate) fn rows_fit(nout: u32) -> bool {
        nout.checked_sub(1).is_some_and(|last| last <= DELTA_MAX)
    }

    /// Whether a row word can name a layer's head at `index` in the side table.
    #[inline(always)]
    pub(crate) fn row_head_fits(index: usize) -> bool {
        index <= DELTA_MAX as usize
    }

    /// The word of row `j` of the layer whose row 0 is at `head` in the side table.
    #[inline(always)]
    pub(crate) fn row(head: u32, j: u32) -> Word {
        debug_assert!(head <= DELTA_MAX && j <= DELTA_MAX);
        Word(Tag::ROW | u64::from(head) << A_SHIFT | u64::from(j) << B_SHIFT)
    }

    /// This word with the `TRACKED` flag set if `tracked`.
    #[inline(always)]
    pub(crate) fn tracked_if(self, tracked: bool) -> Word {
        Word(self.0 | if tracked { TRACKED } else { 0 })
    }

    /// This word with the flags of `flags` (a word from [`Word::either_tracked`]) added.
    #[inline(always)]
    pub(crate) fn with_flags(self, flags: Word) -> Word {
        Word(self.0 | flags.0)
    }

    /// The union of two words' `TRACKED` flags, as a word with no op (for [`Word::with_flags`]).
    #[inline(always)]
    pub(crate) fn either_tracked(a: Word, b: Word) -> Word {
        Word((a.0 | b.0) & TRACKED)
    }

    /// The tag (see [`Tag`]).
    #[inline(always)]
    pub(crate) fn tag(self) -> u64 {
        self.0 & TAG_MASK
    }

    /// Whether the node is a leaf.
    #[inline(always)]
    pub(crate) fn is_leaf(self) -> bool {
        self.tag() == Tag::LEAF
    }

    /// 0 if and only if the node is a tracked leaf (for a test over many words OR-ed
    /// together with no branch per word).
    #[inline(always)]
    pub(crate) fn tracked_leaf_difference(self) -> u64 {
        (self.0 & (TAG_MASK | TRACKED)) ^ (Tag::LEAF | TRACKED)
    }

    /// Whether the node depends on a tracked leaf.
    #[inline(always)]
    pub(crate) fn is_tracked(self) -> bool {
        self.0 & TRACKED != 0
    }

    /// Whether all, and whether any, of `words` is tracked: the words AND-ed and OR-ed in
    /// one pass with no branch (the compiler takes several words a step).
    #[inline(always)]
    pub(crate) fn all_any_tracked(words: &[Word]) -> (bool, bool) {
        let (all, any) = words
            .iter()
            .fold((u64::MAX, 0), |(all, any), w| (all & w.0, any | w.0));
        (all & TRACKED != 0, any & TRACKED != 0)
    }

    /// Whether the running reverse pass gave the node a share from far above.
    #[inline(always)]
    pub(crate) fn is_reached(self) -> bool {
        self.0 & REACHED != 0
    }

    /// This word with `REACHED` set.
    #[inline(always)]
    pub(crate) fn reached(self) -> Word {
        Word(self.0 | REACHED)
    }

    /// This word with `REACHED` cleared.
    #[inline(always)]
    pub(crate) fn unreached(self) -> Word {
        Word(self.0 & !REACHED)
    }

    /// Whether any of `words` has `REACHED` set (one test for all).
    #[inline(always)]
    pub(crate) fn any_reached(words: &[Word]) -> bool {
        words.iter().fold(0, |m, w| m | w.0) & REACHED != 0
    }

    /// The position of input a of the packed op at `pos`.
    #[inline(always)]
    pub(crate) fn a(self, pos: u32) -> u32 {
        pos.wrapping_sub((self.0 >> A_SHIFT) as u32 & DELTA_MAX)
    }

    /// The position of input b of the packed op at `pos`.
    #[inline(always)]
    pub(crate) fn b(self, pos: u32) -> u32 {
        pos.wrapping_sub((self.0 >> B_SHIFT) as u32 & DELTA_MAX)
    }

    /// The inputs of the node at `pos` whose word this is, if it is a packed op: input a,
    /// and input b if it has one (a packed unary op leaves field b 0, a distance no input
    /// has). `None` for a leaf, a side-table op or a row.
    #[inline(always)]
    pub(crate) fn packed_inputs(self, pos: u32) -> Option<(u32, Option<u32>)> {
        let tag = self.tag();
        if tag == Tag::LEAF || tag == Tag::FAR || tag == Tag::ROW {
            return None;
        }
        let b = (self.0 >> B_SHIFT) as u32 & DELTA_MAX;
        Some((self.a(pos), (b != 0).then(|| pos.wrapping_sub(b))))
    }

    /// How far back input a of a packed op is.
    #[inline(always)]
    pub(crate) fn distance_a(self) -> usize {
        (self.0 >> A_SHIFT) as usize & DELTA_MAX as usize
    }

    /// The side-table index of an op kept whole ([`Tag::FAR`]).
    #[inline(always)]
    pub(crate) fn far_index(self) -> usize {
        (self.0 >> FAR_SHIFT) as usize
    }

    /// A layer row's side-table index of row 0, and its row number ([`Tag::ROW`]).
    #[inline(always)]
    pub(crate) fn row_parts(self) -> (u32, u32) {
        // the row number is the top field: no mask needed
        (
            (self.0 >> A_SHIFT) as u32 & DELTA_MAX,
            (self.0 >> B_SHIFT) as u32,
        )
    }

    /// Whether two words are the same op on the same distances, flags other than `REACHED`
    /// included (the nodes of a run of unary ops over a layer's rows).
    #[inline(always)]
    pub(crate) fn same_op(self, other: Word) -> bool {
        self.0 & !REACHED == other.0 & !REACHED
    }

    /// The op of a layer row: row 0's [`Op::Dot`] from the side table, with its weights
    /// and bias moved `j` strides on. The inputs `x` are the same for every row.
    #[inline(always)]
    pub(crate) fn row_op(self, far: &[Op]) -> Op {
        let (head, j) = self.row_parts();
        row_op(far[head as usize], j)
    }
}

/// Row `j` of the layer whose head is `head`: the head with its weights and bias moved `j`
/// strides on. The inputs `x` are the same for every row.
#[inline(always)]
pub(crate) fn row_op(head: Op, j: u32) -> Op {
    match head {
        Op::Dot {
            w: Span::Run(w),
            x,
            len,
            bias,
            wants,
        } => {
            let shift = j * (len + u32::from(bias.is_some()));
            Op::Dot {
                w: Span::Run(w + shift),
                x,
                len,
                bias: bias.map(|b| b + shift),
                wants,
            }
        }
        _ => unreachable!("a layer row whose head is not a dot over a run of weights"),
    }
}

/// Tags of the ops that pack into the word itself, with their inputs as distances back.
/// Also defines `with_op!`, which decodes a word and runs code on the op *per tag*, so that
/// the op's rule is inlined with its variant known (one dispatch, not decode then match).
macro_rules! packed_ops {
    ($d:tt binary: $($B:ident = $bt:literal),*; unary: $($U:ident = $ut:literal),* $(,)?) => {
        impl Word {
            /// The op as a tape word (no flags); `None` if it does not fit (another op, or
            /// an input more than [`DELTA_MAX`] back).
            #[inline(always)]
            pub(crate) fn pack(op: &Op, pos: u32) -> Option<Word> {
                // Inputs sit below `pos`: below 2²⁸ nodes every distance fits (one test).
                let near = pos <= DELTA_MAX;
                let delta = |p: u32| {
                    let d = pos - p;
                    (near || d <= DELTA_MAX).then_some(u64::from(d))
                };
                Some(Word(match *op {
                    Op::Leaf => Tag::LEAF,
                    $(Op::$B(a, b) => $bt | delta(a)? << A_SHIFT | delta(b)? << B_SHIFT,)*
                    $(Op::$U(a) => $ut | delta(a)? << A_SHIFT,)*
                    _ => return None,
                }))
            }
        }

        /// One op of each packed kind, on inputs `a` (and `b`), for tests.
        #[cfg(test)]
        pub(crate) fn packed_samples(a: u32, b: u32) -> Vec<Op> {
            vec![$(Op::$B(a, b),)* $(Op::$U(a),)*]
        }

        /// `with_op!(word, pos, far, |op| body)`: `body` with `op` bound to the op of the
        /// tape word `word` at position `pos` (`far`: the side table), expanded once per tag.
        macro_rules! with_op {
            ($d word:expr, $d pos:expr, $d far:expr, |$d op:ident| $d body:expr) => {{
                let (word, pos): ($crate::tape::word::Word, u32) = ($d word, $d pos);
                let (a, b) = (word.a(pos), word.b(pos));
                let _ = (a, b);
                match word.tag() {
                    $crate::tape::word::Tag::LEAF => {
                        let $d op = $crate::op::Op::Leaf;
                        $d body
                    }
                    $crate::tape::word::Tag::FAR => {
                        let $d op: $crate::op::Op = $d far[word.far_index()];
                        $d body
                    }
                    $crate::tape::word::Tag::ROW => {
                        let $d op = word.row_op(&$d far[..]);
                        $d body
                    }
                    $($bt => {
                        let $d op = $crate::op::Op::$B(a, b);
                        $d body
                    })*
                    $($ut => {
                        let $d op = $crate::op::Op::$U(a);
                        $d body
                    })*
                    _ => unreachable!("a tape word with an unknown tag"),
                }
            }};
        }
        pub(crate) use with_op;
    };
}

/// The packed ops: the binary ones and `Neg` here, the elementwise ones from the op list
/// ([`unary_ops!`](crate::unary_ops)) with the tags it gives them.
macro_rules! packed_from_list {
    ($d:tt $($(#[$doc:meta])* $name:ident $V:ident = $tag:literal [$($dom:tt)*] |$x:ident| $f64:expr;)*) => {
        packed_ops! {
            $d binary: Add = 2, Sub = 3, Mul = 4, Div = 5, PowVar = 6, Max = 13, Min = 14;
            unary: Neg = 7, Detach = 23, $($V = $tag),*
        }
    };
}

crate::unary_ops!(packed_from_list, $);

/// The op of the node at `pos`, from its word (and the side table).
#[inline(always)]
pub(crate) fn op_at(words: &[Word], far: &[Op], pos: usize) -> Op {
    with_op!(words[pos], pos as u32, far, |op| op)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The walks test these tags by name before decoding the rest.
    #[test]
    fn named_tags_match_the_packing() {
        assert_eq!(Word::pack(&Op::Add(3, 1), 5).unwrap().tag(), Tag::ADD);
        assert_eq!(Word::pack(&Op::Mul(3, 1), 5).unwrap().tag(), Tag::MUL);
        assert_eq!(Word::pack(&Op::Relu(3), 5).unwrap().tag(), Tag::RELU);
        assert_eq!(Word::row(7, 2).tag(), Tag::ROW);
        assert_eq!(Word::far(9).tag(), Tag::FAR);
    }

    /// `Word::packed_inputs` (read off the word) names the inputs the decoded op names.
    #[test]
    fn packed_inputs_are_the_ops_inputs() {
        let samples = packed_samples(3, 1);
        assert!(samples.len() > 20, "every packed op");
        for op in samples {
            let w = Word::pack(&op, 5).unwrap();
            let mut from_op = Vec::new();
            op.for_each_input(&[], |q| from_op.push(q));
            let (a, b) = w.packed_inputs(5).unwrap();
            let from_word: Vec<u32> = std::iter::once(a).chain(b).collect();
            assert_eq!(from_word, from_op, "{op:?}");
            assert_eq!(op_at(&[w; 6], &[], 5), op);
        }
        assert_eq!(Word::leaf(true).packed_inputs(5), None);
        assert_eq!(Word::far(0).packed_inputs(5), None);
        assert_eq!(Word::row(0, 1).packed_inputs(5), None);
    }

    #[test]
    fn all_and_any_tracked_read_every_words_flag() {
        let (t, u) = (Word::leaf(true), Word::leaf(false));
        let op = Word::pack(&Op::Add(0, 1), 2).unwrap();
        assert_eq!(Word::all_any_tracked(&[t, t, t]), (true, true));
        assert_eq!(Word::all_any_tracked(&[t, u, t]), (false, true));
        assert_eq!(Word::all_any_tracked(&[u, u, t]), (false, true));
        assert_eq!(Word::all_any_tracked(&[u, op, u]), (false, false));
        // flags beside the op's other bits: two tracked words do not cancel out
        let top = op.tracked_if(true);
        assert_eq!(Word::all_any_tracked(&[top, t]), (true, true));
        assert_eq!(Word::all_any_tracked(&[op, top.reached()]), (false, true));
        assert_eq!(Word::all_any_tracked(&[]), (true, false));
    }

    #[test]
    fn fields_round_trip() {
        let w = Word::pack(&Op::Max(3, 1), 5).unwrap().tracked_if(true);
        assert_eq!((w.a(5), w.b(5), w.distance_a()), (3, 1, 2));
        assert!(w.is_tracked() && !w.is_reached() && !w.is_leaf());
        let r = w.reached();
        assert!(r.is_reached() && r.same_op(w) && r.unreached() == w);
        assert_eq!(Word::row(7, 2).row_parts(), (7, 2));
        assert_eq!(Word::far(9).far_index(), 9);
        assert!(Word::leaf(false).is_leaf() && !Word::leaf(false).is_tracked());
        assert!(Word::leaf(true).is_tracked());
        // row numbers up to DELTA_MAX fit, and come back out
        assert!(Word::rows_fit(1) && Word::rows_fit(DELTA_MAX + 1));
        assert!(!Word::rows_fit(0) && !Word::rows_fit(DELTA_MAX + 2));
        assert!(Word::row_head_fits(0) && Word::row_head_fits(DELTA_MAX as usize));
        assert!(!Word::row_head_fits(DELTA_MAX as usize + 1));
        assert_eq!(
            Word::row(DELTA_MAX, DELTA_MAX).row_parts(),
            (DELTA_MAX, DELTA_MAX)
        );
        // an input more than DELTA_MAX back does not fit
        assert_eq!(Word::pack(&Op::Neg(1), DELTA_MAX + 2), None);
        assert!(Word::pack(&Op::Neg(2), DELTA_MAX + 2).is_some());
        assert_eq!(Word::pack(&Op::Pow(0, 2.0), 1), None);
    }
}
