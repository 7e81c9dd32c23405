//! Simulated LLM server for Tradia: speaks the Ollama native API and the OpenAI-compatible API,
//! pseudo-translates deterministically, models slots/queueing/throughput, and injects faults.
//!
//! The batch translation wire contract is in [`wire`] (and `WIRE.md`).

#![forbid(unsafe_code)]

pub mod wire;
