//! Counts of the fast paths taken (debug builds only): which rows, runs, skips and
//! one-node paths recording, `recompute` and the reverse pass took, so that a test sees a
//! fast path run and switching one off fails a test. Public as [`fast::taken`](crate::fast::taken)
//! and [`fast::reset`](crate::fast::reset); the crate counts with [`count`].

/// How many nodes each fast path has taken on this thread since the last [`reset`] (debug
/// builds only; all zero in release builds, which keep no count). Counts are added as fast
/// paths are, so the struct is `#[non_exhaustive]`: read its fields by name.
///
/// ```
/// use scalargrad::{fast, nn::{Mlp, MlpConfig}, Graph};
/// let g = Graph::new();
/// let mlp = Mlp::new(&g, 3, &[8, 1], MlpConfig::new(1));
/// fast::reset();
/// let x = [g.constant(1.0), g.constant(2.0), g.constant(3.0)];
/// mlp.forward(&x)[0].backward();
/// if cfg!(debug_assertions) {
///     assert_eq!(fast::taken().rows_recorded, 9); // 8 rows, then 1
///     assert_eq!(fast::taken().rows_pulled, 9);
/// }
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Taken {
    /// Layer rows recorded as rows.
    pub rows_recorded: usize,
    /// Layer rows recomputed as rows.
    pub rows_recomputed: usize,
    /// Layer rows pulled back a layer at a time.
    pub rows_pulled: usize,
    /// Layer rows computed eight or four side by side, recording or recomputing a layer
    /// over a run of inputs (the last few rows are computed one at a time).
    pub rows_batched: usize,
    /// Nodes recorded as part of a unary run.
    pub runs_recorded: usize,
    /// Relu nodes recomputed as part of a run.
    pub runs_recomputed: usize,
    /// Relu nodes pulled back as part of a run.
    pub runs_pulled: usize,
    /// Runs of relus the reverse pass took (each from its top node down, in one go).
    pub relu_runs_taken: usize,
    /// Nodes the reverse pass skipped for a zero gradient over tame nodes.
    pub zero_skipped: usize,
    /// `+`, `*` and lone relu nodes the reverse pass took by its tag tests, before the jump
    /// table (the walk's own fast path).
    pub elementwise_pulled: usize,
    /// Unmarked positions the reverse pass stepped over eight at a time.
    pub unmarked_skipped: usize,
    /// Dot products over two runs (disjoint or the same) pulled back as two `axpy` loops
    /// rather than pair by pair.
    pub dot_runs_pulled: usize,
    /// Inputs of those `axpy` loops given their share without a test of their tracked flag
    /// (a side whose inputs were all tracked when the dot product was recorded).
    pub dot_terms_unchecked: usize,
    /// Dot products over two runs computed from two slices (no position looked up per
    /// term), recording or recomputing.
    pub dot_runs_computed: usize,
    /// `+` and `*` nodes `Graph::recompute` took by its tag tests, before the jump table.
    pub elementwise_recomputed: usize,
    /// Jacobi sweeps [`symmetric_eigenvalues`](crate::hessian::symmetric_eigenvalues) ran
    /// before the off-diagonal part was negligible (it stops there).
    pub eigen_sweeps: usize,
    /// Layer rows reached with gradient 0 whose shares were all ±0 (finite inputs and
    /// weights), so skipped above the first wild node (see `fast::rows`).
    pub rows_zero_skipped: usize,
    /// Marks of nodes reached that the reverse pass kept in the nodes' words rather than
    /// in its ring (nodes more than 4,096 positions below the node pulled back).
    pub word_marked: usize,
    /// Nodes a [`Value`](crate::Value) op recorded through the graph's general path (a
    /// [`Var`](crate::Var) op: a constant exponent or bounds, anomaly mode, arrays to grow)
    /// and counted as the one node it made (one push of its count).
    pub value_one_node: usize,
    /// Nodes a [`Value`](crate::Value) op or leaf recorded and counted in one borrow of the
    /// tape and the counts (no `Var` made, no liveness test: a `Value`'s node is live).
    pub value_direct: usize,
    /// Nodes cut off the top of a [`Value`](crate::Value)'s graph when the last handle to
    /// its top node was dropped (every node above the highest one still held).
    pub value_cut: usize,
    /// Inputs of a dot product (not a run) found to be the same handles as the last list
    /// checked, and listed again without checking each (a layer's neurons over the same
    /// inputs: `Graph::affine` per neuron).
    pub lists_reused: usize,
    /// Values of dot products computed ahead, eight or four side by side, for the neurons
    /// that follow a neuron over the same inputs (`Graph::affine` or `Graph::dot` per neuron,
    /// weights made neuron after neuron: see `fast::ahead`).
    pub dots_ahead: usize,
    /// Dot products whose value was taken from those computed ahead (not computed again).
    pub dots_ahead_taken: usize,
    /// Handles of a run of weights (or inputs) checked as a block: compared with each
    /// other, one liveness test, their flags read in a row (`Graph::affine`, `Graph::dot`).
    pub runs_checked: usize,
    /// Dot products over a run of weights and a list of inputs computed with the weights
    /// as a slice (no position looked up per weight), recording or recomputing.
    pub dot_run_list_computed: usize,
    /// Handles to parameter blocks ([`nn::dense`](crate::nn::dense), `nn`'s layers)
    /// checked as a block: handles compared with each other, one liveness test, the
    /// leaves' flags read in a row.
    pub block_checked: usize,
    /// Op words a cut of the tape (a rewind, a scope's end, the top `Value`s dropped) read
    /// to find the side-table entries of the nodes it freed: none when the side table is
    /// empty, else up to the first freed node that has one.
    pub cut_words_read: usize,
    /// Slots of a dropped graph's arrays that a new graph on the same thread started with
    /// (kept for it: no allocation, and no page faulted in again).
    pub spare_slots_taken: usize,
    /// Ops of one or two inputs recorded the careful way (each handle checked on its own)
    /// because the quick test did not pass: a handle above the first cut made before the
    /// last one, arrays to grow, anomaly mode, or a tape past 2²⁸ nodes. Every other such
    /// op is recorded after two comparisons.
    pub ops_checked: usize,
    /// Words whose `REACHED` flag a reverse pass cleared first because the pass before it
    /// was interrupted by a panic (otherwise a pass leaves every flag clear).
    pub flags_cleared: usize,
    /// Slots of a big graph's mapped values and words faulted in ahead of recording, a
    /// range at a time in one system call (with 4 KiB pages: see
    /// [`tape::huge_pages`](crate::tape::huge_pages)), rather than a page fault per 4 KiB
    /// as recording reaches them.
    pub slots_populated: usize,
    /// Handles whose liveness took the search of the tape's cuts (a handle made before the
    /// last cut, above the first one) rather than the two comparisons every other handle
    /// takes.
    pub handles_looked_up: usize,
    /// Cuts by length alone (a [`Value`](crate::Value)'s top dropped) that looked through
    /// the kept side table for the end of a list a kept op may share with a freed one:
    /// only on a tape where a list was named again since its operand table was last empty.
    pub shared_list_scans: usize,
    /// Parameters an optimizer's step set in one borrow of their graph (every handle of
    /// one graph), rather than one [`Var::set_value`](crate::Var::set_value) each.
    pub leaves_updated_at_once: usize,
    /// Handles of an n-ary op (a dot product, a sum, a layer's rows) checked one by one,
    /// graph and liveness each, because the quick tests (one comparison of the graph's
    /// address and two of liveness, for a run or a block its last handle) did not vouch for
    /// them: a handle made before a cut, or a foreign or freed one (which then panics).
    pub handles_checked_alone: usize,
}

/// A fast path, for [`count`].
#[derive(Clone, Copy, Debug)]
pub(crate) enum Path {
    RowsRecorded,
    RowsRecomputed,
    RowsPulled,
    RowsBatched,
    RunRecorded,
    RunRecomputed,
    RunPulled,
    ReluRunsTaken,
    ZeroSkipped,
    ElementwisePulled,
    UnmarkedSkipped,
    ValueOneNode,
    ValueDirect,
    ValueCut,
    ListsReused,
    DotsAhead,
    DotsAheadTaken,
    RunsChecked,
    DotRunListComputed,
    BlockChecked,
    RowsZeroSkipped,
    WordMarked,
    DotRunsPulled,
    DotTermsUnchecked,
    DotRunsComputed,
    ElementwiseRecomputed,
    EigenSweeps,
    CutWordsRead,
    SpareSlotsTaken,
    OpsChecked,
    FlagsCleared,
    SlotsPopulated,
    HandlesLookedUp,
    SharedListScans,
    LeavesUpdatedAtOnce,
    HandlesCheckedAlone,
}

#[cfg(debug_assertions)]
thread_local! {
    static TAKEN: std::cell::Cell<Taken> = const { std::cell::Cell::new(Taken {
        rows_recorded: 0,
        rows_recomputed: 0,
        rows_pulled: 0,
        rows_batched: 0,
        runs_recorded: 0,
        runs_recomputed: 0,
        runs_pulled: 0,
        relu_runs_taken: 0,
        zero_skipped: 0,
        elementwise_pulled: 0,
        unmarked_skipped: 0,
        value_one_node: 0,
        value_direct: 0,
        value_cut: 0,
        lists_reused: 0,
        dots_ahead: 0,
        dots_ahead_taken: 0,
        runs_checked: 0,
        dot_run_list_computed: 0,
        block_checked: 0,
        rows_zero_skipped: 0,
        word_marked: 0,
        dot_runs_pulled: 0,
        dot_terms_unchecked: 0,
        dot_runs_computed: 0,
        elementwise_recomputed: 0,
        eigen_sweeps: 0,
        cut_words_read: 0,
        spare_slots_taken: 0,
        ops_checked: 0,
        flags_cleared: 0,
        slots_populated: 0,
        handles_looked_up: 0,
        shared_list_scans: 0,
        leaves_updated_at_once: 0,
        handles_checked_alone: 0,
    }) };
}

/// Adds `n` to the count of `path` (debug builds only).
#[inline(always)]
pub(crate) fn count(path: Path, n: usize) {
    #[cfg(debug_assertions)]
    TAKEN.with(|t| {
        let mut c = t.get();
        let field = match path {
            Path::RowsRecorded => &mut c.rows_recorded,
            Path::RowsRecomputed => &mut c.rows_recomputed,
            Path::RowsPulled => &mut c.rows_pulled,
            Path::RowsBatched => &mut c.rows_batched,
            Path::RunRecorded => &mut c.runs_recorded,
            Path::RunRecomputed => &mut c.runs_recomputed,
            Path::RunPulled => &mut c.runs_pulled,
            Path::ReluRunsTaken => &mut c.relu_runs_taken,
            Path::ZeroSkipped => &mut c.zero_skipped,
            Path::ElementwisePulled => &mut c.elementwise_pulled,
            Path::UnmarkedSkipped => &mut c.unmarked_skipped,
            Path::ValueOneNode => &mut c.value_one_node,
            Path::ValueDirect => &mut c.value_direct,
            Path::ValueCut => &mut c.value_cut,
            Path::ListsReused => &mut c.lists_reused,
            Path::DotsAhead => &mut c.dots_ahead,
            Path::DotsAheadTaken => &mut c.dots_ahead_taken,
            Path::RunsChecked => &mut c.runs_checked,
            Path::DotRunListComputed => &mut c.dot_run_list_computed,
            Path::BlockChecked => &mut c.block_checked,
            Path::RowsZeroSkipped => &mut c.rows_zero_skipped,
            Path::WordMarked => &mut c.word_marked,
            Path::DotRunsPulled => &mut c.dot_runs_pulled,
            Path::DotTermsUnchecked => &mut c.dot_terms_unchecked,
            Path::DotRunsComputed => &mut c.dot_runs_computed,
            Path::ElementwiseRecomputed => &mut c.elementwise_recomputed,
            Path::EigenSweeps => &mut c.eigen_sweeps,
            Path::CutWordsRead => &mut c.cut_words_read,
            Path::SpareSlotsTaken => &mut c.spare_slots_taken,
            Path::OpsChecked => &mut c.ops_checked,
            Path::FlagsCleared => &mut c.flags_cleared,
            Path::SlotsPopulated => &mut c.slots_populated,
            Path::HandlesLookedUp => &mut c.handles_looked_up,
            Path::SharedListScans => &mut c.shared_list_scans,
            Path::LeavesUpdatedAtOnce => &mut c.leaves_updated_at_once,
            Path::HandlesCheckedAlone => &mut c.handles_checked_alone,
        };
        *field += n;
        t.set(c);
    });
    #[cfg(not(debug_assertions))]
    let _ = (path, n);
}

/// The counts on this thread since the last [`reset`] (see [`Taken`]).
///
/// ```
/// # use scalargrad::fast;
/// fast::reset();
/// assert_eq!(fast::taken(), fast::Taken::default());
/// ```
pub fn taken() -> Taken {
    #[cfg(debug_assertions)]
    return TAKEN.with(|t| t.get());
    #[cfg(not(debug_assertions))]
    Taken::default()
}

/// Sets this thread's counts back to 0.
///
/// ```
/// # use scalargrad::fast;
/// fast::reset();
/// assert_eq!(fast::taken().zero_skipped, 0);
/// ```
pub fn reset() {
    #[cfg(debug_assertions)]
    TAKEN.with(|t| t.set(Taken::default()));
}
