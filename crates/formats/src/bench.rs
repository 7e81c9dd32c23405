//! Hooks for the benchmarks (not part of the API): internal passes measured on their own, so
//! that a benchmark can say where the time of a filter goes. Built only with the `bench`
//! feature, which this crate's dev-dependency on itself turns on for its benches.

/// Runs the strict XML reader every XML filter uses over `bytes` (UTF-8 validation included),
/// without any filter work; returns the number of tokens.
pub fn strict_pass(bytes: &[u8]) -> Result<u64, crate::FormatError> {
    let text = std::str::from_utf8(bytes)
        .map_err(|e| crate::FormatError::Invalid(format!("not UTF-8: {e}")))?;
    let mut reader = crate::xml::StrictReader::new(text, "bench.xml", 0);
    let mut tokens = 0;
    while reader.next_token()?.is_some() {
        tokens += 1;
    }
    Ok(tokens)
}
