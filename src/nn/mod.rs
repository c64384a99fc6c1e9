//! Neural networks made of scalar neurons (work in progress).
