//! One Scenari item: token stream → segments + splice skeleton, and back.
//!
//! Extraction walks the [`StrictReader`] tokens once, with a stack of frames that says, for each
//! open element, how its content is treated: *structure* (look for segments), *kept* (copy as
//! is) or *inside segment `b`* (text and inline codes of a segment being built). A segment
//! records the byte range of its content, the byte range of each text piece and each code's
//! markup (for an opening code: the start tag plus any folded metadata child).
//!
//! Merging never re-serialises anything: it copies the original bytes and, inside each segment's
//! range, writes the translation's pieces: a code's markup comes from its recorded range (with
//! any segment nested in it, like the `sp:title` of an `op:urlM`, rendered recursively); a text
//! piece equal to the source piece at the same position is written back with its original bytes
//! (entities as they were), changed text is escaped. An unchanged segment is copied as is, so
//! the identity merge is byte-exact.

use std::borrow::Cow;
use std::collections::HashMap;

use quick_xml::events::Event;
use tradia_core::{CodeId, Content, MarkupError, Piece, QuizGroup, QuizKind, QuizRole, Segment};

use super::quiz::{QuizRecorder, term_role};
use super::rules::{self, Inline, Ns};
use crate::xml::{StrictReader, escape_text_into, is_blank, resolve_entity};
use crate::{FormatError, KeptField, Report};

type Range = (usize, usize);

/// The decoded text of an item and how to give it back its original encoding.
pub(crate) struct Decoded {
    /// Bytes before the text (a UTF-8 byte-order mark), written back as they are.
    pub prefix: Vec<u8>,
    /// The text.
    pub text: String,
    /// Encoding to write back in, when not UTF-8.
    pub encoding: Option<&'static encoding_rs::Encoding>,
}

/// Decodes an item: UTF-8 (with or without a byte-order mark), or the encoding its XML
/// declaration names (ISO-8859-1, Windows-1252…). UTF-16 is refused (no Scenari tool writes it).
pub(crate) fn decode(part: &str, bytes: &[u8]) -> Result<Decoded, FormatError> {
    let (prefix, body) = match bytes.strip_prefix(b"\xEF\xBB\xBF") {
        Some(rest) => (bytes[..3].to_vec(), rest),
        None => (Vec::new(), bytes),
    };
    if bytes.starts_with(b"\xFF\xFE") || bytes.starts_with(b"\xFE\xFF") {
        return Err(FormatError::Encoding {
            part: part.to_string(),
            message: "UTF-16 documents are not supported; save it as UTF-8".to_string(),
        });
    }
    let declared = declared_encoding(body);
    let label = declared.as_deref().map(str::to_ascii_lowercase);
    let utf8_label = matches!(label.as_deref(), None | Some("utf-8" | "utf8"));
    if utf8_label || !prefix.is_empty() {
        return match std::str::from_utf8(body) {
            Ok(text) => Ok(Decoded { prefix, text: text.to_string(), encoding: None }),
            Err(e) => Err(FormatError::Encoding {
                part: part.to_string(),
                message: format!("not valid UTF-8 at byte {}", e.valid_up_to() + prefix.len()),
            }),
        };
    }
    let label = label.unwrap_or_default();
    let encoding = encoding_rs::Encoding::for_label(label.as_bytes())
        .filter(|e| *e != encoding_rs::UTF_16LE && *e != encoding_rs::UTF_16BE)
        .ok_or_else(|| FormatError::Encoding {
            part: part.to_string(),
            message: format!("unknown or unsupported encoding `{label}`"),
        })?;
    let (text, had_errors) = encoding.decode_without_bom_handling(body);
    if had_errors {
        return Err(FormatError::Encoding {
            part: part.to_string(),
            message: format!("bytes that are not valid {}", encoding.name()),
        });
    }
    let encoding = (encoding != encoding_rs::UTF_8).then_some(encoding);
    Ok(Decoded { prefix, text: text.into_owned(), encoding })
}

/// The `encoding` pseudo-attribute of an XML declaration (ASCII-compatible encodings only).
fn declared_encoding(bytes: &[u8]) -> Option<String> {
    let head = &bytes[..bytes.len().min(200)];
    if !head.starts_with(b"<?xml") {
        return None;
    }
    let end = head.windows(2).position(|w| w == b"?>")?;
    let decl = std::str::from_utf8(&head[..end]).ok()?;
    let pos = decl.find("encoding")?;
    let rest = decl[pos + "encoding".len()..].trim_start().strip_prefix('=')?.trim_start();
    let quote = rest.chars().next().filter(|c| *c == '"' || *c == '\'')?;
    let value = &rest[1..];
    Some(value[..value.find(quote)?].to_string())
}

/// Whether the root element makes this a Scenari item (core `item`) or resource metadata
/// (`filemeta` namespace). `Ok(false)` for any other well-formed start.
pub(crate) fn is_scenari_root(part: &str, text: &str) -> Result<bool, FormatError> {
    let mut reader = StrictReader::new(text, part, 0);
    while let Some(token) = reader.next_token()? {
        if let Event::Start(_) | Event::Empty(_) = token.event {
            let ns = Ns::of(reader.resolve(token.name, true));
            return Ok(is_item_root(ns, local_name(token.name)));
        }
    }
    Ok(false)
}

/// Whether a root element makes a document a Scenari item (core `item`) or resource metadata
/// (`filemeta` namespace).
fn is_item_root(ns: Ns, local: &str) -> bool {
    (ns == Ns::Core && local == "item") || ns == Ns::Filemeta
}

fn local_name(qname: &str) -> &str {
    qname.rsplit_once(':').map_or(qname, |(_, l)| l)
}

/// Where each code's markup and each text piece of a segment came from: index ranges into the
/// skeleton's shared range lists (two allocations per item instead of two per segment).
struct SegSource {
    range: Range,
    /// Raw range of each text piece, in order: `text_ranges[texts.0..texts.1]`.
    texts: Range,
    /// By code id - 1: `code_ranges[codes.0..codes.1]`.
    codes: Range,
}

/// The skeleton of one item: its text and the sources of its segments, in document order.
pub(crate) struct ItemSkeleton {
    /// The input bytes when they differ from the decoded text (byte-order mark, other
    /// encoding); `None` when the text is the input.
    original: Option<Vec<u8>>,
    decoded: Decoded,
    segs: Vec<SegSource>,
    /// Raw ranges of text pieces, segment after segment.
    text_ranges: Vec<Range>,
    /// For each code, segment after segment: the markup range (opening tag + folded metadata,
    /// or the whole element) and, for a paired code, its closing tag.
    code_ranges: Vec<(Range, Option<Range>)>,
}

/// The result of extracting one item.
pub(crate) struct ItemExtract {
    /// Segments in document order, with ids `0..n`.
    pub segments: Vec<Segment>,
    pub skeleton: ItemSkeleton,
    /// Quiz terms to translate together (empty when quiz answers are kept).
    pub quiz: Vec<QuizGroup>,
}

#[derive(Debug)]
enum SrcPiece {
    /// Raw text (character data, references, CDATA), decoded when the segment is finished.
    Text {
        range: Range,
    },
    Open {
        range: Range,
    },
    Close {
        range: Range,
    },
    Standalone {
        range: Range,
    },
}

struct Builder {
    start: usize,
    location: String,
    field: String,
    pieces: Vec<SrcPiece>,
    /// A plain-string field candidate: dropped if an element comes before any text.
    tentative: bool,
    /// The role of a quiz term (`quiz.rs`).
    quiz_term: Option<QuizRole>,
}

impl Builder {
    fn push_text(&mut self, range: Range) {
        if range.0 == range.1 {
            return;
        }
        if let Some(SrcPiece::Text { range: r }) = self.pieces.last_mut()
            && r.1 == range.0
        {
            r.1 = range.1;
            return;
        }
        self.pieces.push(SrcPiece::Text { range });
    }

    fn only_blank_text(&self, source: &str) -> bool {
        self.pieces
            .iter()
            .all(|p| matches!(p, SrcPiece::Text { range } if is_blank(&source[range.0..range.1])))
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Mode {
    Structure,
    Keep,
    Seg(usize),
}

#[derive(Clone, Copy)]
enum OnEnd {
    Nothing,
    FinishSeg,
    ClosePaired {
        b: usize,
        open: usize,
    },
    EndStandalone {
        b: usize,
        idx: usize,
    },
    EndMeta {
        b: usize,
        open: usize,
    },
    /// A cloze gap translated with its terms: the answer segment `b + 1` ends, and the gap's
    /// standalone code `idx` of the sentence `b` with it.
    EndGap {
        b: usize,
        idx: usize,
    },
    /// A short-answer solution ends (its group is complete).
    EndQuizGroup,
    /// A `sc:question` ends (a short answer's context).
    EndQuestion,
}

struct Frame<'a> {
    name: &'a str,
    ns: Ns,
    mode: Mode,
    on_end: OnEnd,
    has_child: bool,
    has_text: bool,
}

struct Extractor<'a> {
    part: &'a str,
    text: &'a str,
    frames: Vec<Frame<'a>>,
    builders: Vec<Builder>,
    counters: HashMap<&'a str, u32, BuildFnv>,
    sources: Vec<SegSource>,
    segments: Vec<Segment>,
    text_ranges: Vec<Range>,
    code_ranges: Vec<(Range, Option<Range>)>,
    report: &'a mut Report,
    /// Piece lists of finished builders, reused (one allocation less per segment).
    spare: Vec<Vec<SrcPiece>>,
    /// Scratch stack of open code ids while building a segment.
    open_ids: Vec<CodeId>,
    /// Namespace kinds of URIs seen, by their place in the input.
    ns_cache: Vec<(Range, Ns)>,
    /// Quiz groups seen, when quiz terms are translated (`None`: they are kept).
    quiz: Option<QuizRecorder>,
}

/// Extracts one item (`bytes` are its whole file), adding what it keeps to `report`; with
/// `quiz`, cloze gaps and short-answer values are segments grouped in [`ItemExtract::quiz`],
/// else they are kept.
pub(crate) fn extract_item(
    part: &str,
    bytes: &[u8],
    report: &mut Report,
    quiz: bool,
) -> Result<ItemExtract, FormatError> {
    let decoded = decode(part, bytes)?;
    let base = decoded.prefix.len();
    let text: &str = &decoded.text;
    let mut reader = StrictReader::new(text, part, base);
    let mut ex = Extractor {
        part,
        text,
        frames: Vec::new(),
        builders: Vec::new(),
        counters: HashMap::with_hasher(BuildFnv),
        sources: Vec::new(),
        segments: Vec::new(),
        text_ranges: Vec::new(),
        code_ranges: Vec::new(),
        report,
        spare: Vec::new(),
        open_ids: Vec::new(),
        ns_cache: Vec::new(),
        quiz: quiz.then(QuizRecorder::default),
    };
    let mut checked_root = false;
    while let Some(token) = reader.next_token()? {
        let (start, end) = (token.start, token.end);
        match &token.event {
            Event::Start(_) | Event::Empty(_) => {
                let empty = matches!(token.event, Event::Empty(_));
                let ns = ex.ns_kind(reader.element_namespace());
                if !checked_root {
                    checked_root = true;
                    if !is_item_root(ns, local_name(token.name)) {
                        return Err(FormatError::Invalid(format!(
                            "{part}: not a Scenari item (root element <{}>)",
                            token.name
                        )));
                    }
                }
                ex.start_element(token.name, ns, &reader, (start, end), empty)?;
            }
            Event::End(_) => ex.end_element((start, end))?,
            Event::Text(_) => {
                // The raw text: it holds no reference (those are separate events), and line-end
                // normalisation cannot change whether it is blank, the only thing read from it.
                ex.text((start, end), &text[start..end], true);
            }
            Event::GeneralRef(r) => {
                if let Some(c) = resolve_entity(r) {
                    let mut buf = [0u8; 4];
                    ex.text((start, end), c.encode_utf8(&mut buf), false);
                }
            }
            Event::CData(c) => {
                let content = c.xml10_content();
                ex.cdata((start, end), &content);
            }
            Event::Comment(_) | Event::PI(_) => ex.opaque((start, end)),
            Event::Decl(_) | Event::DocType(_) | Event::Eof => {}
        }
    }
    let Extractor { mut sources, mut segments, text_ranges, code_ranges, quiz, .. } = ex;
    // Nested segments (a title inside a link's metadata) finish before their parent: put them
    // back in document order (starts are unique).
    if !sources.is_sorted_by_key(|s| s.range.0) {
        let mut order: Vec<usize> = (0..sources.len()).collect();
        order.sort_unstable_by_key(|&i| sources[i].range.0);
        permute(&mut sources, &mut segments, &mut order);
    }
    for (i, segment) in segments.iter_mut().enumerate() {
        segment.id = i as u32;
    }
    let starts: Vec<usize> = sources.iter().map(|s| s.range.0).collect();
    let quiz = quiz.map(|q| q.finish(&starts)).unwrap_or_default();
    Ok(ItemExtract {
        quiz,
        segments,
        skeleton: ItemSkeleton {
            // A UTF-8 input without byte-order mark is its text: no need to compare it.
            original: (!(decoded.prefix.is_empty() && decoded.encoding.is_none())
                && decoded.text.as_bytes() != bytes)
                .then(|| bytes.to_vec()),
            decoded,
            segs: sources,
            text_ranges,
            code_ranges,
        },
    })
}

impl<'a> Extractor<'a> {
    /// [`Ns::of`] with a small cache keyed by the URI's place in the input (URIs declared
    /// without references are slices of the input, which never changes): the URIs the rules
    /// know share a 33-byte prefix, so comparing them on every element showed in profiles.
    fn ns_kind(&mut self, uri: Option<&str>) -> Ns {
        let Some(uri) = uri else {
            return Ns::None;
        };
        let start = uri.as_ptr() as usize;
        let text_start = self.text.as_ptr() as usize;
        let in_input = start >= text_start && start + uri.len() <= text_start + self.text.len();
        if !in_input {
            return Ns::of(Some(uri));
        }
        let key = (start, uri.len());
        if let Some((_, kind)) = self.ns_cache.iter().find(|(k, _)| *k == key) {
            return *kind;
        }
        let kind = Ns::of(Some(uri));
        if self.ns_cache.len() < 16 {
            self.ns_cache.push((key, kind));
        }
        kind
    }

    /// Counts one more occurrence of `name` and returns its number (1-based).
    fn count(&mut self, name: &'a str) -> u32 {
        let n = self.counters.entry(name).or_insert(0);
        *n += 1;
        *n
    }

    fn location(&self, name: &str, n: u32) -> String {
        let mut s = String::with_capacity(self.part.len() + name.len() + 16);
        s.push_str(self.part);
        s.push_str(" › ");
        s.push_str(name);
        s.push('[');
        // Digits by hand: `write!` showed in profiles (one location per segment).
        let mut digits = [0u8; 10];
        let mut len = 0;
        let mut v = n;
        loop {
            digits[len] = b'0' + (v % 10) as u8;
            len += 1;
            v /= 10;
            if v == 0 {
                break;
            }
        }
        for &d in digits[..len].iter().rev() {
            s.push(char::from(d));
        }
        s.push(']');
        s
    }

    fn current_mode(&self) -> Mode {
        self.frames.last().map_or(Mode::Structure, |f| f.mode)
    }

    fn start_element(
        &mut self,
        name: &'a str,
        ns: Ns,
        reader: &StrictReader<'a>,
        range: Range,
        empty: bool,
    ) -> Result<(), FormatError> {
        let number = self.count(name);
        let local = local_name(name);
        let mut mode = self.current_mode();
        // A plain-string field candidate that meets an element before any text is structure.
        if let Mode::Seg(b) = mode
            && self.builders[b].tentative
            && b + 1 == self.builders.len()
            && self.builders[b].only_blank_text(self.text)
            && let Some(parent) = self.frames.last_mut()
            && matches!(parent.on_end, OnEnd::FinishSeg)
        {
            if let Some(dropped) = self.builders.pop() {
                let mut pieces = dropped.pieces;
                pieces.clear();
                self.spare.push(pieces);
            }
            parent.mode = Mode::Structure;
            parent.on_end = OnEnd::Nothing;
            mode = Mode::Structure;
        }
        let ns_ref = ns;
        let frame =
            |mode, on_end| Frame { name, ns, mode, on_end, has_child: false, has_text: false };
        match mode {
            Mode::Keep => {
                if !empty {
                    self.frames.push(frame(Mode::Keep, OnEnd::Nothing));
                }
            }
            Mode::Seg(b) => {
                let role = reader.attribute("role");
                let kind = rules::inline_kind(ns_ref, local, role.as_deref());
                let pieces_len = self.builders[b].pieces.len();
                let foldable = match self.frames.last().map(|f| f.on_end) {
                    Some(OnEnd::ClosePaired { b: pb, open }) => pb == b && open + 1 == pieces_len,
                    _ => false,
                };
                match kind {
                    Inline::Meta if foldable => {
                        let open = pieces_len - 1;
                        if empty {
                            if let SrcPiece::Open { range: r } = &mut self.builders[b].pieces[open]
                            {
                                r.1 = range.1;
                            }
                        } else {
                            self.frames.push(frame(Mode::Structure, OnEnd::EndMeta { b, open }));
                        }
                    }
                    Inline::Paired if !empty => {
                        self.builders[b].pieces.push(SrcPiece::Open { range });
                        let open = pieces_len;
                        self.frames.push(frame(Mode::Seg(b), OnEnd::ClosePaired { b, open }));
                    }
                    // A cloze gap whose terms are translated: a standalone code in the
                    // sentence, holding the answer segment (and, in its `op:gapM`, the options
                    // and synonyms).
                    _ if !empty
                        && ns_ref == Ns::Core
                        && local == "textLeaf"
                        && role.as_deref() == Some("gap")
                        && self.quiz.is_some() =>
                    {
                        self.builders[b].pieces.push(SrcPiece::Standalone { range });
                        let sentence = self.builders[b].start;
                        if let Some(q) = self.quiz.as_mut() {
                            q.open_gap(sentence);
                        }
                        let location = self.location(name, number);
                        let pieces = self.spare.pop().unwrap_or_default();
                        self.builders.push(Builder {
                            start: range.1,
                            location,
                            field: name.to_string(),
                            pieces,
                            tentative: false,
                            quiz_term: Some(QuizRole::Answer),
                        });
                        let answer = self.builders.len() - 1;
                        let idx = pieces_len;
                        self.frames.push(frame(Mode::Seg(answer), OnEnd::EndGap { b, idx }));
                    }
                    _ => {
                        self.builders[b].pieces.push(SrcPiece::Standalone { range });
                        if !empty {
                            let inner =
                                if kind == Inline::Meta { Mode::Structure } else { Mode::Keep };
                            let idx = pieces_len;
                            self.frames.push(frame(inner, OnEnd::EndStandalone { b, idx }));
                        }
                    }
                }
            }
            Mode::Structure => {
                if let Some(parent) = self.frames.last_mut() {
                    parent.has_child = true;
                }
                let quiz_kind = self.quiz.as_ref().and_then(QuizRecorder::open_kind);
                let quiz_term = quiz_kind.and_then(|k| term_role(k, ns_ref, local));
                if let Some(q) = self.quiz.as_mut()
                    && !empty
                    && ns_ref == Ns::Core
                    && local == "question"
                {
                    q.question_start(range.1);
                    self.frames.push(frame(Mode::Structure, OnEnd::EndQuestion));
                } else if let Some(q) = self.quiz.as_mut()
                    && !empty
                    && ns_ref == Ns::Primitive
                    && local == "asw"
                {
                    q.open_short_answer();
                    self.frames.push(frame(Mode::Structure, OnEnd::EndQuizGroup));
                } else if quiz_kind == Some(QuizKind::ShortAnswer)
                    && !empty
                    && ns_ref == Ns::Core
                    && local == "SFSolution"
                {
                    self.frames.push(frame(Mode::Structure, OnEnd::Nothing));
                } else if rules::is_segment_root(ns_ref, local)
                    || rules::is_text_field(ns_ref, local)
                    || quiz_term.is_some()
                {
                    if !empty {
                        let tentative = !rules::is_segment_root(ns_ref, local);
                        let location = self.location(name, number);
                        let pieces = self.spare.pop().unwrap_or_default();
                        self.builders.push(Builder {
                            start: range.1,
                            location,
                            field: name.to_string(),
                            pieces,
                            tentative,
                            quiz_term,
                        });
                        let b = self.builders.len() - 1;
                        self.frames.push(frame(Mode::Seg(b), OnEnd::FinishSeg));
                    }
                } else if let Some(reason) = rules::keep_container(ns_ref, local) {
                    let location = self.location(name, number);
                    self.report.kept.push(KeptField {
                        location,
                        field: name.to_string(),
                        reason: reason.to_string(),
                    });
                    if !empty {
                        self.frames.push(frame(Mode::Keep, OnEnd::Nothing));
                    }
                } else if !empty {
                    self.frames.push(frame(Mode::Structure, OnEnd::Nothing));
                }
            }
        }
        Ok(())
    }

    fn end_element(&mut self, range: Range) -> Result<(), FormatError> {
        let Some(frame) = self.frames.pop() else {
            return Ok(());
        };
        match frame.on_end {
            OnEnd::Nothing => {
                if frame.mode == Mode::Structure && frame.has_text && !frame.has_child {
                    self.report_leaf(&frame);
                }
            }
            OnEnd::FinishSeg => {
                if let Some(builder) = self.builders.pop() {
                    self.finish_segment(builder, range.0)?;
                }
            }
            OnEnd::ClosePaired { b, open } => {
                let builder = &mut self.builders[b];
                builder.pieces.push(SrcPiece::Close { range });
                // An inline whose visible text is a URL (a link showing its address, or a style
                // inside such a link) is kept whole (I4, I5).
                let inner = &builder.pieces[open + 1..builder.pieces.len() - 1];
                let starts_like_url = match inner.first() {
                    Some(SrcPiece::Text { range }) => {
                        let t = self.text[range.0..range.1].trim_start();
                        let head = &t.as_bytes()[..t.len().min(8)];
                        [
                            &b"http"[..],
                            b"HTTP",
                            b"www.",
                            b"WWW.",
                            b"ftp:",
                            b"FTP:",
                            b"mailto:",
                            b"file:",
                        ]
                        .iter()
                        .any(|p| head.len() >= p.len() && head[..p.len()].eq_ignore_ascii_case(p))
                    }
                    _ => false,
                };
                if starts_like_url && inner.iter().all(|p| matches!(p, SrcPiece::Text { .. })) {
                    let text: String = inner
                        .iter()
                        .map(|p| match p {
                            SrcPiece::Text { range } => decode_raw(&self.text[range.0..range.1]),
                            _ => Cow::Borrowed(""),
                        })
                        .collect();
                    if rules::looks_like_url(&text)
                        && let SrcPiece::Open { range: r } = builder.pieces[open]
                    {
                        builder.pieces.truncate(open);
                        builder.pieces.push(SrcPiece::Standalone { range: (r.0, range.1) });
                    }
                }
            }
            OnEnd::EndStandalone { b, idx } => {
                if let SrcPiece::Standalone { range: r } = &mut self.builders[b].pieces[idx] {
                    r.1 = range.1;
                }
            }
            OnEnd::EndMeta { b, open } => {
                if let SrcPiece::Open { range: r } = &mut self.builders[b].pieces[open] {
                    r.1 = range.1;
                }
            }
            OnEnd::EndGap { b, idx } => {
                if let Some(builder) = self.builders.pop() {
                    self.finish_segment(builder, range.0)?;
                }
                if let SrcPiece::Standalone { range: r } = &mut self.builders[b].pieces[idx] {
                    r.1 = range.1;
                }
                if let Some(q) = self.quiz.as_mut() {
                    q.close();
                }
            }
            OnEnd::EndQuizGroup => {
                if let Some(q) = self.quiz.as_mut() {
                    q.close();
                }
            }
            OnEnd::EndQuestion => {
                if let Some(q) = self.quiz.as_mut() {
                    q.question_end(range.0);
                }
            }
        }
        Ok(())
    }

    fn report_leaf(&mut self, frame: &Frame<'a>) {
        let local = local_name(frame.name);
        let ns = frame.ns;
        let count = self.counters.get(frame.name).copied().unwrap_or(0);
        let location = self.location(frame.name, count);
        let reason = match rules::kept_field_reason(ns, local) {
            Some(reason) => reason.to_string(),
            None => {
                match self.report.unknown_fields.get_mut(frame.name) {
                    Some(n) => *n += 1,
                    None => {
                        self.report.unknown_fields.insert(frame.name.to_string(), 1);
                    }
                }
                "unknown field (kept; not in the list of text fields)".to_string()
            }
        };
        self.report.kept.push(KeptField { location, field: frame.name.to_string(), reason });
    }

    fn text(&mut self, range: Range, text: &str, raw_event: bool) {
        match self.current_mode() {
            Mode::Seg(b) => {
                let builder = &mut self.builders[b];
                let raw = &self.text[range.0..range.1];
                // Template placeholders become standalone codes (K7), found in the raw text
                // (a placeholder holds no reference or line end).
                let mut offset = range.0;
                if raw_event {
                    let mut rest = raw;
                    while let Some((s, e)) = rules::find_placeholder(rest) {
                        builder.push_text((offset, offset + s));
                        builder
                            .pieces
                            .push(SrcPiece::Standalone { range: (offset + s, offset + e) });
                        offset += e;
                        rest = &rest[e..];
                    }
                }
                builder.push_text((offset, range.1));
            }
            Mode::Structure => {
                if !is_blank(text)
                    && let Some(frame) = self.frames.last_mut()
                {
                    frame.has_text = true;
                }
            }
            Mode::Keep => {}
        }
    }

    fn cdata(&mut self, range: Range, text: &str) {
        match self.current_mode() {
            Mode::Seg(b) => {
                // A piece of its own (its raw bytes include the section markers); an empty
                // section is a standalone code so that the pieces still cover the segment.
                let piece = if text.is_empty() {
                    SrcPiece::Standalone { range }
                } else {
                    SrcPiece::Text { range }
                };
                self.builders[b].pieces.push(piece);
            }
            _ => self.text(range, if is_blank(text) { "" } else { "x" }, false),
        }
    }

    fn opaque(&mut self, range: Range) {
        if let Mode::Seg(b) = self.current_mode() {
            self.builders[b].pieces.push(SrcPiece::Standalone { range });
        }
    }

    fn finish_segment(&mut self, builder: Builder, content_end: usize) -> Result<(), FormatError> {
        let Builder { start, location, field, pieces, quiz_term, .. } = builder;
        let result = match quiz_term {
            None => self.build_segment(&pieces, (start, content_end), location, field),
            Some(role) => {
                self.build_quiz_term(role, &pieces, (start, content_end), location, field)
            }
        };
        self.recycle(pieces);
        result
    }

    /// A quiz term's segment; one that is whitespace, a single character or without letters
    /// is kept exactly (Q4) and only its text noted in its group.
    fn build_quiz_term(
        &mut self,
        role: QuizRole,
        pieces: &[SrcPiece],
        range: Range,
        location: String,
        field: String,
    ) -> Result<(), FormatError> {
        let text: String = pieces
            .iter()
            .map(|p| match p {
                SrcPiece::Text { range } => decode_raw(&self.text[range.0..range.1]),
                _ => Cow::Borrowed(""),
            })
            .collect();
        let before = self.sources.len();
        if !tradia_core::quiz::is_fixed_term(&text) {
            self.build_segment(pieces, range, location, field)?;
        }
        let start = (self.sources.len() > before).then_some(range.0);
        if let Some(q) = self.quiz.as_mut() {
            q.term(role, start, &text);
        }
        Ok(())
    }

    /// Builds the segment's content and sources directly (no intermediate builder): one
    /// allocation per text piece, exact-size piece and range lists.
    fn build_segment(
        &mut self,
        src: &[SrcPiece],
        range: Range,
        location: String,
        field: String,
    ) -> Result<(), FormatError> {
        let mut pieces: Vec<Piece> = Vec::with_capacity(src.len());
        let text_base = self.text_ranges.len();
        let code_base = self.code_ranges.len();
        self.open_ids.clear();
        let mut next_id: CodeId = 1;
        let mut k = 0;
        while k < src.len() {
            match src[k] {
                SrcPiece::Text { range } => {
                    // Adjacent text pieces (a CDATA section next to text) are one text piece of
                    // the content: they are contiguous in the source, so one range covers them.
                    let mut end = range.1;
                    k += 1;
                    while let Some(SrcPiece::Text { range: r }) = src.get(k) {
                        end = r.1;
                        k += 1;
                    }
                    self.text_ranges.push((range.0, end));
                    let text = decode_raw(&self.text[range.0..end]);
                    if !text.is_empty() {
                        pieces.push(Piece::Text(text.into_owned()));
                    }
                    continue;
                }
                SrcPiece::Open { range } => {
                    let id = next_id;
                    next_id += 1;
                    self.open_ids.push(id);
                    pieces.push(Piece::Open(id));
                    self.code_ranges.push((range, None));
                }
                SrcPiece::Close { range } => {
                    if let Some(id) = self.open_ids.pop() {
                        pieces.push(Piece::Close(id));
                        self.code_ranges[code_base + id as usize - 1].1 = Some(range);
                    }
                }
                SrcPiece::Standalone { range } => {
                    let id = next_id;
                    next_id += 1;
                    pieces.push(Piece::Standalone(id));
                    self.code_ranges.push((range, None));
                }
            }
            k += 1;
        }
        let content = match self.open_ids.last() {
            Some(id) => Err(MarkupError::Unclosed(*id)),
            None => Content::from_pieces(pieces),
        }
        .map_err(|e| FormatError::Invalid(format!("{location}: {e}")))?;
        if !content.has_letters() {
            self.text_ranges.truncate(text_base);
            self.code_ranges.truncate(code_base);
            return Ok(());
        }
        self.sources.push(SegSource {
            range,
            texts: (text_base, self.text_ranges.len()),
            codes: (code_base, self.code_ranges.len()),
        });
        self.segments.push(Segment { id: 0, content, location, field });
        Ok(())
    }

    /// Keeps a finished builder's piece list for the next segment.
    fn recycle(&mut self, mut pieces: Vec<SrcPiece>) {
        pieces.clear();
        self.spare.push(pieces);
    }
}

/// Reorders `a` and `b` alike: position `k` receives the element at `order[k]` (consumed).
fn permute<A, B>(a: &mut [A], b: &mut [B], order: &mut [usize]) {
    for i in 0..order.len() {
        if order[i] == usize::MAX {
            continue;
        }
        let mut j = i;
        loop {
            let from = order[j];
            order[j] = usize::MAX;
            if from == i {
                break;
            }
            a.swap(j, from);
            b.swap(j, from);
            j = from;
        }
    }
}

impl ItemSkeleton {
    /// The original bytes of the item.
    pub fn original(&self) -> &[u8] {
        self.original.as_deref().unwrap_or(self.decoded.text.as_bytes())
    }

    /// Rebuilds the item with `translations[i]` for segment `i` (codes already checked).
    pub fn merge(&self, translations: &[Content]) -> Result<Vec<u8>, FormatError> {
        if translations.len() != self.segs.len() {
            return Err(FormatError::TranslationCount {
                expected: self.segs.len(),
                got: translations.len(),
            });
        }
        let text = &self.decoded.text;
        let mut out = Vec::with_capacity(text.len() + text.len() / 4);
        self.render_range(0, text.len(), 0, translations, &mut out)?;
        if out == text.as_bytes() {
            return Ok(self.original().to_vec());
        }
        if self.decoded.prefix.is_empty() && self.decoded.encoding.is_none() {
            return Ok(out);
        }
        let mut bytes = self.decoded.prefix.clone();
        match self.decoded.encoding {
            None => bytes.extend_from_slice(&out),
            Some(encoding) => {
                let out = String::from_utf8(out)
                    .map_err(|_| FormatError::Invalid("merge produced invalid UTF-8".into()))?;
                let (encoded, _, _) = encoding.encode(&out);
                bytes.extend_from_slice(&encoded);
            }
        }
        Ok(bytes)
    }

    /// Copies `start..end` of the source, rendering the segments that lie in it. Only segments
    /// from index `from` on are considered: inside segment `i`, only those nested in it (which
    /// come after it in document order) may be rendered.
    fn render_range(
        &self,
        start: usize,
        end: usize,
        from: usize,
        tr: &[Content],
        out: &mut Vec<u8>,
    ) -> Result<(), FormatError> {
        let src = self.decoded.text.as_bytes();
        let mut cur = start;
        let mut i = self.segs.partition_point(|s| s.range.0 < start).max(from);
        while i < self.segs.len() && self.segs[i].range.0 < end {
            let seg = &self.segs[i];
            out.extend_from_slice(&src[cur..seg.range.0]);
            self.render_segment(i, tr, out)?;
            cur = seg.range.1;
            i += 1;
            while i < self.segs.len() && self.segs[i].range.0 < cur {
                i += 1;
            }
        }
        out.extend_from_slice(&src[cur..end]);
        Ok(())
    }

    fn render_segment(
        &self,
        i: usize,
        tr: &[Content],
        out: &mut Vec<u8>,
    ) -> Result<(), FormatError> {
        let seg = &self.segs[i];
        let translation = &tr[i];
        let src = self.decoded.text.as_bytes();
        let text = self.decoded.text.as_str();
        let mut k = 0;
        for piece in translation.pieces() {
            match piece {
                Piece::Text(t) => {
                    // The k-th text piece, when unchanged, keeps its original bytes (entities,
                    // CDATA and line ends as they were). Because a segment's range is exactly
                    // its pieces' ranges end to end, an unchanged segment is copied byte for byte.
                    match self.text_ranges[seg.texts.0..seg.texts.1].get(k) {
                        Some(r) if raw_text_equals(&text[r.0..r.1], t) => {
                            out.extend_from_slice(&src[r.0..r.1]);
                        }
                        _ => escape_text_into(t, out),
                    }
                    k += 1;
                }
                Piece::Open(id) | Piece::Standalone(id) => {
                    let (range, _) = self.code(seg, *id)?;
                    // Most codes hold no segment: copy their markup without searching.
                    let nested = self.segs.get(i + 1).is_some_and(|next| next.range.0 < range.1);
                    if nested {
                        self.render_range(range.0, range.1, i + 1, tr, out)?;
                    } else {
                        out.extend_from_slice(&src[range.0..range.1]);
                    }
                }
                Piece::Close(id) => {
                    let (_, close) = self.code(seg, *id)?;
                    let close = close.ok_or_else(|| {
                        FormatError::Invalid(format!("code {id} has no closing markup"))
                    })?;
                    out.extend_from_slice(&src[close.0..close.1]);
                }
            }
        }
        Ok(())
    }

    fn code<'s>(
        &'s self,
        seg: &SegSource,
        id: CodeId,
    ) -> Result<&'s (Range, Option<Range>), FormatError> {
        (id as usize)
            .checked_sub(1)
            .and_then(|i| self.code_ranges[seg.codes.0..seg.codes.1].get(i))
            .ok_or_else(|| FormatError::Invalid(format!("inline code {id} does not exist")))
    }
}

/// Whether the raw source of a text piece (text with entity and character references, CDATA
/// sections, CR LF line ends) reads as `text`.
fn raw_text_equals(raw: &str, text: &str) -> bool {
    if memchr::memchr3(b'&', b'\r', b'<', raw.as_bytes()).is_none() {
        return raw == text;
    }
    decode_raw_text(raw).is_some_and(|decoded| decoded == text)
}

/// The text a raw piece stands for (borrowed when it holds nothing to decode). The tokenizer
/// has already checked every reference, so decoding cannot fail on extracted pieces.
fn decode_raw(raw: &str) -> Cow<'_, str> {
    if memchr::memchr3(b'&', b'\r', b'<', raw.as_bytes()).is_none() {
        return Cow::Borrowed(raw);
    }
    Cow::Owned(decode_raw_text(raw).unwrap_or_default())
}

/// Decodes the raw source of a text piece the way extraction read it.
fn decode_raw_text(raw: &str) -> Option<String> {
    let mut out = String::with_capacity(raw.len());
    let mut rest = raw;
    while let Some(pos) = rest.find(['&', '\r', '<']) {
        out.push_str(&rest[..pos]);
        let from = &rest[pos..];
        if let Some(after) = from.strip_prefix("<![CDATA[") {
            let end = after.find("]]>")?;
            push_normalized(&after[..end], &mut out);
            rest = &after[end + 3..];
        } else if let Some(after) = from.strip_prefix('&') {
            let end = after.find(';')?;
            out.push(resolve_entity(&after[..end])?);
            rest = &after[end + 1..];
        } else if let Some(after) = from.strip_prefix('\r') {
            out.push('\n');
            rest = after.strip_prefix('\n').unwrap_or(after);
        } else {
            return None;
        }
    }
    out.push_str(rest);
    Some(out)
}

/// XML 1.0 line-end normalisation (CR LF and lone CR become LF).
fn push_normalized(text: &str, out: &mut String) {
    let mut rest = text;
    while let Some(pos) = rest.find('\r') {
        out.push_str(&rest[..pos]);
        out.push('\n');
        rest = rest[pos + 1..].strip_prefix('\n').unwrap_or(&rest[pos + 1..]);
    }
    out.push_str(rest);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn raw_text_decodes_like_extraction() {
        assert!(raw_text_equals("a &amp; b", "a & b"));
        assert!(raw_text_equals("x&#233;<![CDATA[<y>\r\n]]>\r\nz\rw", "xé<y>\n\nz\nw"));
        assert!(!raw_text_equals("a &amp; b", "a &amp; b"));
        assert!(!raw_text_equals("<![CDATA[x", "x"));
    }
}

/// A multiply-rotate hash taking eight bytes at a time: element names are short and not
/// attacker-sensitive in this per-document counter map (a hostile document can only slow its
/// own extraction), and SipHash, then byte-wise FNV, showed in profiles.
#[derive(Default, Clone, Copy)]
struct BuildFnv;

struct Fnv(u64);

impl std::hash::BuildHasher for BuildFnv {
    type Hasher = Fnv;
    fn build_hasher(&self) -> Fnv {
        Fnv(0xcbf2_9ce4_8422_2325)
    }
}

impl std::hash::Hasher for Fnv {
    fn finish(&self) -> u64 {
        let h = (self.0 ^ (self.0 >> 29)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        h ^ (h >> 32)
    }
    fn write(&mut self, bytes: &[u8]) {
        const K: u64 = 0x9e37_79b9_7f4a_7c15;
        let mut h = self.0;
        let mut chunks = bytes.chunks_exact(8);
        for chunk in &mut chunks {
            let mut word = [0u8; 8];
            word.copy_from_slice(chunk);
            h = (h ^ u64::from_le_bytes(word)).wrapping_mul(K).rotate_left(29);
        }
        let rest = chunks.remainder();
        let mut word = [0u8; 8];
        word[..rest.len()].copy_from_slice(rest);
        h = (h ^ u64::from_le_bytes(word) ^ ((rest.len() as u64) << 59))
            .wrapping_mul(K)
            .rotate_left(29);
        self.0 = h;
    }
}
