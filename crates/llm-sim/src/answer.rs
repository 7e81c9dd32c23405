//! What the simulated model answers: deterministic pseudo-translation (WIRE.md §4) and the
//! content faults of WIRE.md §5, plus the token model (`tokens ≈ ceil(bytes/4)`).

use std::collections::BTreeSet;

use rand::Rng;
use rand::rngs::StdRng;
use serde_json::{Map, Value, json};
use tradia_core::content::escape_text;
use tradia_core::pseudo::pseudo_text;
use tradia_core::{Content, Piece};

use crate::config::FaultKind;
use crate::wire::{BatchAnswer, BatchRequest, WireSegment};

/// The structured-output constraint a request carries.
#[derive(Debug, Clone, PartialEq)]
pub enum Structured {
    /// Free text.
    None,
    /// Any JSON object (`format: "json"`, `response_format: {"type":"json_object"}`).
    Json,
    /// A JSON schema.
    Schema(Value),
}

impl Structured {
    /// Reads Ollama's `format` field.
    pub fn from_ollama_format(format: Option<&Value>) -> Structured {
        match format {
            Some(Value::String(s)) if s == "json" => Structured::Json,
            Some(v @ Value::Object(_)) => Structured::Schema(v.clone()),
            _ => Structured::None,
        }
    }

    /// Reads OpenAI's `response_format` field (also llama.cpp's `{"type":"json_schema","schema"}`).
    pub fn from_openai_response_format(rf: Option<&Value>) -> Structured {
        let Some(rf) = rf else { return Structured::None };
        match rf.get("type").and_then(Value::as_str) {
            Some("json_object") => Structured::Json,
            Some("json_schema") => rf
                .get("json_schema")
                .and_then(|j| j.get("schema"))
                .or_else(|| rf.get("schema"))
                .filter(|s| s.is_object())
                .map_or(Structured::Json, |s| Structured::Schema(s.clone())),
            _ => Structured::None,
        }
    }
}

impl Structured {
    /// Whether a batch answer (`{"translations":[…]}`) satisfies this constraint.
    pub fn allows_batch(&self) -> bool {
        match self {
            Structured::None | Structured::Json => true,
            Structured::Schema(s) => {
                s.get("properties").and_then(|p| p.get("translations")).is_some()
            }
        }
    }
}

/// The model's answer before timing: the text and what shaped it.
#[derive(Debug, Clone, PartialEq)]
pub struct Composed {
    /// Assistant content.
    pub content: String,
    /// Source texts of the batch segments, when the request followed the wire contract.
    pub batch_sources: Option<Vec<String>>,
    /// Faults that changed the answer (drawn and applicable).
    pub applied: Vec<FaultKind>,
    /// Whether the `truncate` fault cuts the output.
    pub truncate: bool,
    /// Whether the `repeat_loop` fault turns the output into a loop up to the output limit.
    pub repeat_loop: bool,
}

/// Builds the answer to a request whose last user text is `user_text`, given the drawn faults.
pub fn compose(
    user_text: &str,
    structured: &Structured,
    drawn: &BTreeSet<FaultKind>,
    rng: &mut StdRng,
) -> Composed {
    let mut applied = Vec::new();
    // `response_format` is honoured: a schema of another shape gets an answer of that shape, and
    // without any constraint the batch answer comes in a Markdown fence, as an unconstrained
    // model writes it.
    let batch = BatchRequest::from_user_text(user_text).filter(|_| structured.allows_batch());
    let (mut content, batch_sources) = match batch {
        Some(req) => {
            let sources = req.segments.iter().map(|s| s.text.clone()).collect();
            let answer = batch_answer(&req, drawn, rng, &mut applied);
            let mut text = serde_json::to_string(&answer).unwrap_or_default();
            if *structured == Structured::None && !drawn.contains(&FaultKind::Fences) {
                text = format!("```json\n{text}\n```");
            }
            (text, Some(sources))
        }
        None => {
            let echo = drawn.contains(&FaultKind::Echo);
            if echo {
                applied.push(FaultKind::Echo);
            }
            let translated = if echo { user_text.to_string() } else { pseudo_text(user_text) };
            (free_answer(&translated, structured), None)
        }
    };
    if drawn.contains(&FaultKind::Think) {
        content = format!(
            "<think>\nThe user wants this translated. I must keep every tag and answer only \
             with the requested format.\n</think>\n\n{content}"
        );
        applied.push(FaultKind::Think);
    }
    if drawn.contains(&FaultKind::Fences) {
        content = format!("```json\n{content}\n```");
        applied.push(FaultKind::Fences);
    }
    if drawn.contains(&FaultKind::Chatter) {
        content = format!(
            "Here is the translation you asked for:\n\n{content}\n\nI kept the formatting \
             tags in place. Let me know if you need anything else!"
        );
        applied.push(FaultKind::Chatter);
    }
    let truncate = drawn.contains(&FaultKind::Truncate);
    if truncate {
        applied.push(FaultKind::Truncate);
    }
    let repeat_loop = drawn.contains(&FaultKind::RepeatLoop);
    if repeat_loop {
        applied.push(FaultKind::RepeatLoop);
    }
    applied.sort();
    Composed { content, batch_sources, applied, truncate, repeat_loop }
}

/// The answer to a request that does not follow the wire contract.
fn free_answer(translated: &str, structured: &Structured) -> String {
    match structured {
        Structured::None => translated.to_string(),
        Structured::Json => json!({ "text": translated }).to_string(),
        Structured::Schema(schema) => value_for_schema(schema, translated, 0).to_string(),
    }
}

/// A value satisfying `schema`'s required fields, strings set to `text`.
fn value_for_schema(schema: &Value, text: &str, depth: usize) -> Value {
    let ty = schema.get("type").and_then(|t| match t {
        Value::String(s) => Some(s.as_str()),
        Value::Array(a) => a.iter().filter_map(Value::as_str).find(|s| *s != "null"),
        _ => None,
    });
    match ty {
        Some("object") if depth < 8 => {
            let mut out = Map::new();
            let props = schema.get("properties").and_then(Value::as_object);
            let required: Vec<&str> = schema
                .get("required")
                .and_then(Value::as_array)
                .map(|r| r.iter().filter_map(Value::as_str).collect())
                .unwrap_or_default();
            for name in required {
                let sub = props.and_then(|p| p.get(name)).cloned().unwrap_or(Value::Null);
                out.insert(name.to_string(), value_for_schema(&sub, text, depth + 1));
            }
            Value::Object(out)
        }
        Some("object") => json!({}),
        Some("string") => Value::String(text.to_string()),
        Some("array") => json!([]),
        Some("integer" | "number") => json!(0),
        Some("boolean") => json!(false),
        _ => Value::Null,
    }
}

/// The pseudo-translation of a text run, with URLs and e-mail addresses left as they are (as a
/// model that follows the prompt's rules does).
pub fn pseudo_run(text: &str) -> String {
    let mut out = String::with_capacity(text.len() * 2);
    let mut plain = String::new();
    let mut rest = text;
    while !rest.is_empty() {
        let ws_end = rest.find(|c: char| !c.is_whitespace()).unwrap_or(rest.len());
        plain.push_str(&rest[..ws_end]);
        rest = &rest[ws_end..];
        let word_end = rest.find(char::is_whitespace).unwrap_or(rest.len());
        let word = &rest[..word_end];
        rest = &rest[word_end..];
        let core = word.trim_end_matches(['.', ',', ';', ':', '!', '?', ')']);
        let lower = core.to_ascii_lowercase();
        let verbatim = lower.starts_with("http://")
            || lower.starts_with("https://")
            || lower.starts_with("www.")
            || core.split_once('@').is_some_and(|(u, h)| !u.is_empty() && h.contains('.'));
        if verbatim {
            out.push_str(&pseudo_text(&plain));
            plain.clear();
            out.push_str(core);
            plain.push_str(&word[core.len()..]);
        } else {
            plain.push_str(word);
        }
    }
    out.push_str(&pseudo_text(&plain));
    out
}

/// [`pseudo_run`] on every text piece of `content`; codes stay in place.
pub fn pseudo_content(content: &Content) -> Content {
    let pieces = content.pieces().iter().map(|p| match p {
        Piece::Text(t) => Piece::Text(pseudo_run(t)),
        other => other.clone(),
    });
    Content::from_pieces(pieces).unwrap_or_else(|_| content.clone())
}

/// Pseudo-translation of one rendered segment.
pub fn pseudo_segment(text: &str) -> String {
    match Content::parse(text) {
        Ok(c) => pseudo_content(&c).render(),
        Err(_) => pseudo_run(text),
    }
}

fn batch_answer(
    req: &BatchRequest,
    drawn: &BTreeSet<FaultKind>,
    rng: &mut StdRng,
    applied: &mut Vec<FaultKind>,
) -> BatchAnswer {
    // Pieces of each answer, kept unvalidated so that code faults can break them.
    let mut answers: Vec<(String, Option<Vec<Piece>>)> = req
        .segments
        .iter()
        .map(|s| match Content::parse(&s.text) {
            Ok(c) => (s.id.clone(), Some(pseudo_content(&c).pieces().to_vec())),
            Err(_) => (s.id.clone(), None),
        })
        .collect();
    let mut texts: Vec<Option<String>> = vec![None; answers.len()];

    for kind in
        [FaultKind::DropCode, FaultKind::DupCode, FaultKind::InventCode, FaultKind::ReorderCodes]
    {
        if !drawn.contains(&kind) {
            continue;
        }
        let candidates: Vec<usize> = answers
            .iter()
            .enumerate()
            .filter(|(_, (_, p))| p.as_ref().is_some_and(|p| code_fault_applies(kind, p)))
            .map(|(i, _)| i)
            .collect();
        if candidates.is_empty() {
            continue;
        }
        let i = candidates[rng.random_range(0..candidates.len())];
        if let Some(pieces) = answers[i].1.as_mut() {
            apply_code_fault(kind, pieces, rng);
            applied.push(kind);
        }
    }
    if drawn.contains(&FaultKind::Echo) {
        let i = rng.random_range(0..answers.len());
        texts[i] = Some(req.segments[i].text.clone());
        applied.push(FaultKind::Echo);
    }
    if drawn.contains(&FaultKind::CopyShort) {
        let mut any = false;
        for (i, src) in req.segments.iter().enumerate() {
            let words = Content::parse(&src.text)
                .map_or_else(|_| src.text.clone(), |c| c.plain_text())
                .split_whitespace()
                .count();
            if (1..=3).contains(&words) {
                texts[i] = Some(src.text.clone());
                any = true;
            }
        }
        if any {
            applied.push(FaultKind::CopyShort);
        }
    }
    if drawn.contains(&FaultKind::ForeignSource) && req.segments.len() >= 2 {
        let i = rng.random_range(0..req.segments.len());
        let j = (i + rng.random_range(1..req.segments.len())) % req.segments.len();
        texts[i] = Some(req.segments[j].text.clone());
        applied.push(FaultKind::ForeignSource);
    }
    let mut out: Vec<WireSegment> = answers
        .into_iter()
        .zip(texts)
        .zip(&req.segments)
        .map(|(((id, pieces), text), src)| WireSegment {
            id,
            text: text.unwrap_or_else(|| match pieces {
                Some(p) => render_pieces(&p),
                None => pseudo_run(&src.text),
            }),
        })
        .collect();
    if drawn.contains(&FaultKind::ShiftIds) {
        // Entry n answered under the id of segment n+1; the last one under an unused id.
        let next = unused_id(req);
        for (i, entry) in out.iter_mut().enumerate() {
            entry.id = req.segments.get(i + 1).map_or_else(|| next.clone(), |s| s.id.clone());
        }
        applied.push(FaultKind::ShiftIds);
    }
    if drawn.contains(&FaultKind::MissingId) {
        let i = rng.random_range(0..out.len());
        out.remove(i);
        applied.push(FaultKind::MissingId);
    }
    if drawn.contains(&FaultKind::ExtraId) {
        let id = unused_id(req);
        let src = &req.segments[rng.random_range(0..req.segments.len())];
        let at = rng.random_range(0..=out.len());
        out.insert(at, WireSegment { id, text: pseudo_segment(&src.text) });
        applied.push(FaultKind::ExtraId);
    }
    if drawn.contains(&FaultKind::DupId) && !out.is_empty() {
        let i = rng.random_range(0..out.len());
        let id = out[i].id.clone();
        let text = req
            .segments
            .iter()
            .find(|s| s.id == id)
            .map_or_else(|| format!("{} (bis)", out[i].text), |s| format!("{} ⟦bís⟧", s.text));
        out.insert(i + 1, WireSegment { id, text });
        applied.push(FaultKind::DupId);
    }
    BatchAnswer { translations: out }
}

/// An id the request does not use.
fn unused_id(req: &BatchRequest) -> String {
    let max_numeric = req.segments.iter().filter_map(|s| s.id.parse::<u64>().ok()).max();
    let mut candidate = match max_numeric {
        Some(n) => (n + 1).to_string(),
        None => "extra".to_string(),
    };
    while req.segments.iter().any(|s| s.id == candidate) {
        candidate.push('x');
    }
    candidate
}

fn code_fault_applies(kind: FaultKind, pieces: &[Piece]) -> bool {
    let codes = pieces.iter().filter(|p| !matches!(p, Piece::Text(_))).count();
    match kind {
        FaultKind::InventCode => true,
        FaultKind::ReorderCodes => pieces.iter().any(|p| matches!(p, Piece::Open(_))) || codes >= 2,
        _ => codes >= 1,
    }
}

fn code_ids(pieces: &[Piece]) -> Vec<u32> {
    let mut ids: Vec<u32> = pieces
        .iter()
        .filter_map(|p| match p {
            Piece::Open(id) | Piece::Standalone(id) => Some(*id),
            _ => None,
        })
        .collect();
    ids.dedup();
    ids
}

fn apply_code_fault(kind: FaultKind, pieces: &mut Vec<Piece>, rng: &mut StdRng) {
    let ids = code_ids(pieces);
    match kind {
        FaultKind::DropCode => {
            let id = ids[rng.random_range(0..ids.len())];
            pieces.retain(|p| !matches!(p, Piece::Open(i) | Piece::Close(i) | Piece::Standalone(i) if *i == id));
        }
        FaultKind::DupCode => {
            let id = ids[rng.random_range(0..ids.len())];
            let paired = pieces.contains(&Piece::Open(id));
            if paired {
                pieces.push(Piece::Open(id));
                pieces.push(Piece::Close(id));
            } else {
                pieces.push(Piece::Standalone(id));
            }
        }
        FaultKind::InventCode => {
            let id = ids.iter().max().map_or(99, |m| (m + 1).max(99));
            pieces.push(Piece::Standalone(id));
        }
        FaultKind::ReorderCodes => {
            let paired: Vec<u32> = pieces
                .iter()
                .filter_map(|p| if let Piece::Open(i) = p { Some(*i) } else { None })
                .collect();
            if !paired.is_empty() {
                // `</gN>…<gN>`: closed before it is opened.
                let id = paired[rng.random_range(0..paired.len())];
                for p in pieces.iter_mut() {
                    let swapped = match p {
                        Piece::Open(i) if *i == id => Piece::Close(id),
                        Piece::Close(i) if *i == id => Piece::Open(id),
                        _ => continue,
                    };
                    *p = swapped;
                }
            } else {
                // Two standalone codes swap places.
                let pos: Vec<usize> = pieces
                    .iter()
                    .enumerate()
                    .filter(|(_, p)| matches!(p, Piece::Standalone(_)))
                    .map(|(i, _)| i)
                    .collect();
                pieces.swap(pos[0], pos[pos.len() - 1]);
            }
        }
        _ => {}
    }
}

/// Renders pieces like [`Content::render`], without checking them (faults break structure).
pub fn render_pieces(pieces: &[Piece]) -> String {
    let mut out = String::new();
    for p in pieces {
        match p {
            Piece::Text(t) => out.push_str(&escape_text(t)),
            Piece::Open(id) => out.push_str(&format!("<g{id}>")),
            Piece::Close(id) => out.push_str(&format!("</g{id}>")),
            Piece::Standalone(id) => out.push_str(&format!("<x{id}/>")),
        }
    }
    out
}

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

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    fn batch(segments: &[(&str, &str)]) -> String {
        let segs: Vec<Value> =
            segments.iter().map(|(id, t)| json!({"id": id, "text": t})).collect();
        json!({"task":"translate","source_lang":"French","target_lang":"English",
               "context":["avant"],"segments":segs})
        .to_string()
    }

    fn run(text: &str, faults: &[FaultKind]) -> Composed {
        let drawn = faults.iter().copied().collect();
        compose(text, &Structured::Json, &drawn, &mut StdRng::seed_from_u64(1))
    }

    #[test]
    fn response_format_shapes_the_batch_answer() {
        let b = batch(&[("1", "a")]);
        let none = compose(&b, &Structured::None, &BTreeSet::new(), &mut StdRng::seed_from_u64(1));
        assert!(none.content.starts_with("```json\n{\"translations\""), "{}", none.content);
        let other = json!({"type":"object","properties":{"summary":{"type":"string"}},"required":["summary"]});
        let c = compose(
            &b,
            &Structured::Schema(other),
            &BTreeSet::new(),
            &mut StdRng::seed_from_u64(1),
        );
        assert!(c.content.starts_with("{\"summary\""), "{}", c.content);
        assert!(c.batch_sources.is_none());
    }

    fn parse(c: &Composed) -> BatchAnswer {
        serde_json::from_str(&c.content).unwrap()
    }

    #[test]
    fn batch_is_pseudo_translated_by_id() {
        let c =
            run(&batch(&[("12", "Read the <g1>guide</g1>."), ("13", "a &lt;b&gt; <x1/>")]), &[]);
        assert_eq!(
            c.content,
            r#"{"translations":[{"id":"12","text":"⟦Réád thé⟧ <g1>⟦gúídé⟧</g1>⟦.⟧"},{"id":"13","text":"⟦á &lt;b&gt;⟧ <x1/>"}]}"#
        );
        assert_eq!(c.batch_sources.unwrap().len(), 2);
        assert!(c.applied.is_empty());
    }

    #[test]
    fn plain_text_and_schemas() {
        let c =
            compose("Bonjour", &Structured::None, &BTreeSet::new(), &mut StdRng::seed_from_u64(1));
        assert_eq!(c.content, "⟦Bóñjóúr⟧");
        assert!(c.batch_sources.is_none());
        let schema = json!({"type":"object","properties":{"corrected":{"type":"string"},
            "notes":{"type":"array"},"score":{"type":"number"}},"required":["corrected","notes","score"]});
        let c = compose(
            "Bonjour",
            &Structured::Schema(schema),
            &BTreeSet::new(),
            &mut StdRng::seed_from_u64(0),
        );
        assert_eq!(c.content, r#"{"corrected":"⟦Bóñjóúr⟧","notes":[],"score":0}"#);
        let c = compose("x", &Structured::Json, &BTreeSet::new(), &mut StdRng::seed_from_u64(0));
        assert_eq!(c.content, r#"{"text":"⟦x⟧"}"#);
    }

    #[test]
    fn code_faults_break_the_checked_segment() {
        let src = "A <g1>b</g1> c <x2/> d";
        let source = Content::parse(src).unwrap();
        for kind in [
            FaultKind::DropCode,
            FaultKind::DupCode,
            FaultKind::InventCode,
            FaultKind::ReorderCodes,
        ] {
            let c = run(&batch(&[("1", src)]), &[kind]);
            assert_eq!(c.applied, vec![kind]);
            let a = parse(&c);
            assert!(
                Content::parse_answer(&source, &a.translations[0].text).is_err(),
                "{kind}: {}",
                a.translations[0].text
            );
        }
    }

    #[test]
    fn id_faults() {
        let b = batch(&[("1", "a"), ("2", "b"), ("3", "c")]);
        assert_eq!(parse(&run(&b, &[FaultKind::MissingId])).translations.len(), 2);
        let a = parse(&run(&b, &[FaultKind::ExtraId]));
        assert_eq!(a.translations.len(), 4);
        assert!(a.translations.iter().any(|t| t.id == "4"));
        let a = parse(&run(&b, &[FaultKind::DupId]));
        assert_eq!(a.translations.len(), 4);
        let mut ids: Vec<_> = a.translations.iter().map(|t| t.id.clone()).collect();
        ids.dedup();
        assert_eq!(ids.len(), 3);
        let a = parse(&run(&b, &[FaultKind::Echo]));
        assert!(a.translations.iter().any(|t| ["a", "b", "c"].contains(&t.text.as_str())));
        let a = parse(&run(&b, &[FaultKind::ShiftIds]));
        let ids: Vec<_> = a.translations.iter().map(|t| t.id.as_str()).collect();
        assert_eq!(ids, ["2", "3", "4"]);
        assert_eq!(a.translations[0].text, pseudo_segment("a"));
    }

    #[test]
    fn real_model_content_faults() {
        let b = batch(&[("1", "Merci beaucoup !"), ("2", "Un paragraphe de plus de trois mots.")]);
        let c = run(&b, &[FaultKind::CopyShort]);
        assert_eq!(c.applied, vec![FaultKind::CopyShort]);
        let a = parse(&c);
        assert_eq!(a.translations[0].text, "Merci beaucoup !");
        assert_eq!(a.translations[1].text, pseudo_segment("Un paragraphe de plus de trois mots."));
        let a = parse(&run(&b, &[FaultKind::ForeignSource]));
        let foreign: Vec<_> = a
            .translations
            .iter()
            .filter(|t| {
                let other = if t.id == "1" {
                    "Un paragraphe de plus de trois mots."
                } else {
                    "Merci beaucoup !"
                };
                t.text == other
            })
            .collect();
        assert_eq!(foreign.len(), 1, "{a:?}");
        let c = run(&b, &[FaultKind::RepeatLoop]);
        assert!(c.repeat_loop && c.applied == vec![FaultKind::RepeatLoop]);
    }

    #[test]
    fn wrappers() {
        let b = batch(&[("1", "a")]);
        let c = run(
            &b,
            &[FaultKind::Fences, FaultKind::Think, FaultKind::Chatter, FaultKind::Truncate],
        );
        assert!(c.content.starts_with("Here is"));
        assert!(c.content.contains("```json\n<think>"));
        assert!(c.truncate);
        assert_eq!(c.applied.len(), 4);
    }

    #[test]
    fn urls_and_addresses_are_not_pseudo_translated() {
        assert_eq!(
            pseudo_run("Voir https://exemple.org/a, ou écrire à a@b.fr."),
            "⟦Vóír⟧ https://exemple.org/a⟦, óú éçríré à⟧ a@b.fr⟦.⟧"
        );
        assert_eq!(pseudo_run("Rien ici"), pseudo_text("Rien ici"));
    }

    #[test]
    fn tokens() {
        assert_eq!(count_tokens(""), 0);
        assert_eq!(count_tokens("abcd"), 1);
        assert_eq!(count_tokens("abcde"), 2);
        assert_eq!(tokenize("ééé").concat(), "ééé");
        let fr = "Bonjour tout le monde, ceci est un texte.";
        assert_eq!(count_tokens(fr), 13);
        assert_eq!(tokenize(fr).concat(), fr);
        let mixed = "a  b\n\n{\"id\":\"1\"} ";
        assert_eq!(tokenize(mixed).concat(), mixed);
        assert_eq!(count_tokens(&thinking_trace("x", 100)), 100);
    }
}
