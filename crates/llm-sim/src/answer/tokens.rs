//! The token model: text cut into pieces about the size a BPE tokenizer makes, for prompt
//! counts and for the chunks of streamed answers.

/// Splits text into simulated tokens, closer to a BPE tokenizer than a byte count: a word piece
/// of at most 4 letters or digits (a single leading space attached, as BPE vocabularies do),
/// punctuation by runs of at most 2, other whitespace by runs of at most 4. On French prose this
/// gives about the count of a real small model's tokenizer ("Bonjour tout le monde, ceci est un
/// texte." 13 tokens here, 14 on SmolLM2; bytes/4 gave 11).
pub fn tokenize(text: &str) -> Vec<&str> {
    #[derive(PartialEq, Clone, Copy)]
    enum Class {
        Word,
        Punct,
        Blank,
    }
    let limit = |c: Class| match c {
        Class::Word | Class::Blank => 4,
        Class::Punct => 2,
    };
    let mut out = Vec::with_capacity(text.len() / 3 + 1);
    let mut start = 0;
    // The current token: a leading space, then `n` characters of `class`.
    let mut lead = false;
    let mut class: Option<Class> = None;
    let mut n = 0;
    for (i, c) in text.char_indices() {
        if c == ' ' {
            if lead || class.is_some() {
                out.push(&text[start..i]);
                start = i;
                class = None;
                n = 0;
            }
            lead = true;
            continue;
        }
        let k = if c.is_alphanumeric() {
            Class::Word
        } else if c.is_whitespace() {
            Class::Blank
        } else {
            Class::Punct
        };
        match class {
            Some(cur) if cur == k && n < limit(k) => n += 1,
            None if !(lead && k == Class::Blank) => {
                class = Some(k);
                n = 1;
            }
            _ => {
                out.push(&text[start..i]);
                start = i;
                lead = false;
                class = Some(k);
                n = 1;
            }
        }
    }
    if start < text.len() {
        out.push(&text[start..]);
    }
    out
}

/// Number of simulated tokens of `text`.
pub fn count_tokens(text: &str) -> u32 {
    u32::try_from(tokenize(text).len()).unwrap_or(u32::MAX)
}

/// A thinking trace of about `tokens` tokens for a thinking-capable model.
pub fn thinking_trace(user_text: &str, tokens: u32) -> String {
    let seed = "Let me look at the request carefully and work out the answer step by step. ";
    let mut out = String::new();
    let head: String = user_text.chars().take(60).collect();
    out.push_str(&format!("The user wrote: {head}. "));
    while count_tokens(&out) < tokens {
        out.push_str(seed);
    }
    tokenize(&out).into_iter().take(tokens as usize).collect()
}
