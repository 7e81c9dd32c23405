//! The interface's files (`web/` at the repository root) are embedded at compile time; this makes
//! cargo rebuild the crate whenever one of them changes (cargo scans a directory recursively).

fn main() {
    println!("cargo:rerun-if-changed=../../web");
}
