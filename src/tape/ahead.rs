//! What the tape keeps for [`fast::ahead`](crate::fast) between one dot product and the
//! next: the neuron expected next and the values computed ahead for it and those after it.
//! The tape forgets them on every write of a value and every cut ([`Ahead::forget`]); what
//! they mean and how they are used is `fast/ahead.rs`.

use crate::op::Span;

/// The neuron expected next, and the values computed ahead for it and those after it.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Ahead {
    /// Where the next neuron's weights start (`u32::MAX`: no neuron expected), and its bias.
    pub(crate) next: u32,
    pub(crate) next_bias: Option<u32>,
    /// The inputs of the neurons so far, and their number.
    pub(crate) x: Span,
    pub(crate) len: u32,
    /// `values[at..have]`: the values of the next neurons, in order.
    pub(crate) values: [f64; 8],
    pub(crate) at: u8,
    pub(crate) have: u8,
}

impl Default for Ahead {
    fn default() -> Self {
        Ahead {
            next: u32::MAX,
            next_bias: None,
            x: Span::Run(0),
            len: 0,
            values: [0.0; 8],
            at: 0,
            have: 0,
        }
    }
}

impl Ahead {
    /// Forgets the neuron expected and the values kept (a value on the tape changed, or
    /// positions were freed).
    #[inline(always)]
    pub(crate) fn forget(&mut self) {
        self.next = u32::MAX;
        self.have = 0;
    }
}
