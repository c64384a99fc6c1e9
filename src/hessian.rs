//! Second-order tools built on [`Graph::grad`](crate::Graph::grad) (work in progress).
