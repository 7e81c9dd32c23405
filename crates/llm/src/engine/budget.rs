//! How much of the server's context a batch takes: token estimates (set high, 3 bytes a
//! token), the fixed part of every prompt, the output allowed, and the error of a file that
//! cannot fit.

use super::batch::{CONTEXT_CHARS, Unit};
use crate::prompt;

/// Chat template tokens around the two messages.
pub(super) const TEMPLATE_TOKENS: u32 = 32;

/// Prompt tokens of `bytes` bytes, estimated high: 3 bytes a token (a real small model's
/// tokenizer gives about 3.3 on French prose, fewer on markup).
pub(super) fn prompt_tokens(bytes: usize) -> u32 {
    u32::try_from(bytes.div_ceil(3)).unwrap_or(u32::MAX)
}

/// Tokens every batch prompt spends before its segments: the system message, the read-only
/// context at its longest, the JSON frame and the chat template.
pub(crate) fn fixed_prompt_tokens() -> u32 {
    prompt_tokens(prompt::BATCH_SYSTEM.len() + CONTEXT_CHARS * 2 + 200) + TEMPLATE_TOKENS
}

/// Prompt tokens of one unit on the wire (its text and its JSON entry).
pub(super) fn input_tokens(u: &Unit<'_>) -> u32 {
    let extra = super::examples::wire_len(&u.examples) + super::notes::wire_len(u.note.as_deref());
    prompt_tokens(u.rendered.len() + extra) + 12
}

/// Output tokens allowed for an estimated output of `est` tokens.
pub(super) fn output_allowance(est: u32) -> u32 {
    est * 3 / 2 + 128
}

/// Context a unit needs alone: the fixed prompt, the unit, and its estimated output.
pub(super) fn minimal_need(u: &Unit<'_>) -> u32 {
    fixed_prompt_tokens() + input_tokens(u) + u.est_out
}

/// The error of a file that cannot be translated with this context.
pub(super) fn too_small(ctx: u32, segment: u32, need: u32) -> String {
    format!(
        "the LLM server's context ({ctx} tokens per slot) is too small: segment {segment} needs \
         about {need} tokens with the instructions. Raise the context per slot on the server \
         (llama-server: --ctx-size = slots x per-slot context; Ollama: TRADIA_LLM_NUM_CTX / \
         OLLAMA_CONTEXT_LENGTH) or use a model with a larger context"
    )
}
