//! The memory a big graph holds after its reverse pass, and at its peak: 24 bytes a node,
//! with none of the 2 MiB pages recording faulted in whole left over (`src/tape/column.rs`,
//! "Big arrays" in `src/tape/`). Linux only (it reads `/proc/self/status`), and a test
//! binary of its own with one test, so that nothing else runs beside it.

#![cfg(target_os = "linux")]

use scalargrad::Graph;

/// A field of `/proc/self/status`, in bytes.
fn status(field: &str) -> usize {
    let s = std::fs::read_to_string("/proc/self/status").expect("/proc/self/status");
    let line = s
        .lines()
        .find(|l| l.starts_with(field))
        .unwrap_or_else(|| panic!("no {field} in /proc/self/status"));
    let kib: usize = line[field.len()..]
        .trim()
        .trim_end_matches(" kB")
        .parse()
        .expect("a size in kB");
    kib * 1024
}

#[test]
fn a_big_graph_holds_24_bytes_a_node_after_backward_and_at_its_peak() {
    // W2's chain at N = 209,716: 1,048,581 nodes, 8 MiB and 40 bytes per array: recording
    // enters a fifth 2 MiB page for a few nodes
    let n = 209_716;
    let (anon0, peak0) = (status("RssAnon:"), status("VmHWM:"));
    let g = Graph::new();
    let x0 = g.var(0.5);
    let mut x = x0;
    for k in 0..n {
        let w = g.var(0.5 + 0.001 * (k % 7) as f64);
        let b = g.var(0.01 * (k % 5) as f64);
        x = (x * w + b).tanh();
    }
    let nodes = g.len();
    assert_eq!(nodes, 5 * n + 1);
    // (before the reverse pass: how much of it is in 2 MiB pages, if the system has them)
    let huge = std::fs::read_to_string("/proc/self/smaps_rollup").unwrap_or_default();
    let huge = huge.lines().find(|l| l.starts_with("AnonHugePages:"));
    println!("{}", huge.unwrap_or("AnonHugePages: not reported"));
    x.backward();
    let mut expected = 0.5_f64;
    for k in 0..n {
        expected = (expected * (0.5 + 0.001 * (k % 7) as f64) + 0.01 * (k % 5) as f64).tanh();
    }
    assert_eq!(x.value(), expected);
    let (anon, peak) = (status("RssAnon:"), status("VmHWM:"));
    let arrays = 24 * nodes;
    // what the process holds beside the arrays: the test harness's own heap, the handful of
    // 4 KiB pages the arrays end in; a 2 MiB page kept past the last node would be over it
    let slack = 1 << 20;
    assert!(
        anon - anon0 <= arrays + slack,
        "after backward: {} bytes a node",
        (anon - anon0) as f64 / nodes as f64
    );
    assert!(
        anon - anon0 >= arrays - slack,
        "after backward: {} bytes a node (the arrays are not all there?)",
        (anon - anon0) as f64 / nodes as f64
    );
    // the peak counts code pages faulted in too (VmHWM is all of resident memory)
    assert!(
        peak.saturating_sub(peak0.max(anon0)) <= arrays + 2 * slack,
        "peak: {} bytes a node",
        (peak - peak0) as f64 / nodes as f64
    );
}
