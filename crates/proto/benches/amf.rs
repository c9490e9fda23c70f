//! criterion benchmarks (in progress)
fn main() {}
