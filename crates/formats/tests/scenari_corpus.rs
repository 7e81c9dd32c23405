//! Round trips on the real Scenari corpus (`$TRADIA_CORPUS/scenari`, never copied into the
//! repository).
//!
//! * Identity: extracting and merging the segments unchanged gives back every file byte for
//!   byte; for archives, the whole archive (hence every entry's bytes, names and order).
//! * Pseudo-translation: every segment is pseudo-translated, and the output is judged by a
//!   checker written here from the lists of `docs/scenari-format.md` §3, independent of the
//!   filter: both documents are read with roxmltree and compared node by node. The output must be
//!   well-formed with the same elements, attributes, comments and processing instructions in
//!   the same order; every non-blank text node of a translatable field must have changed (and
//!   carry the pseudo-translation mark), quiz terms included (gap answers, options, synonyms,
//!   short-answer values, translated by default); every other text node (code, LaTeX, URLs,
//!   option keys, identifiers, metadata, single-character options…) must be unchanged. Archive entries that are not items
//!   (`.wspmeta`, binaries) must come back byte for byte, with the same names in the same order.
//!
//! Without `TRADIA_CORPUS` the tests print that they skipped, except with `CI=true` where a
//! missing corpus fails.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io::{Cursor, Read};
use std::path::{Path, PathBuf};

use roxmltree::{Document as XmlDoc, Node, NodeType, ParsingOptions};
use tradia_core::pseudo::{OPEN_MARK, pseudo_content};
use tradia_core::{Content, LanguageTag};
use tradia_formats::{ExtractOptions, Format, MergeOptions, detect, extract};

const CORE: &str = "http://www.utc.fr/ics/scenari/v3/core";
const PRIMITIVE: &str = "http://www.utc.fr/ics/scenari/v3/primitive";
const FILEMETA: &str = "http://www.utc.fr/ics/scenari/v3/filemeta";

fn corpus_files() -> Option<Vec<PathBuf>> {
    let Ok(root) = std::env::var("TRADIA_CORPUS") else {
        if std::env::var("CI").as_deref() == Ok("true") {
            panic!("CI=true but TRADIA_CORPUS is not set: the Scenari corpus tests cannot run");
        }
        println!("skipped: TRADIA_CORPUS is not set");
        return None;
    };
    let dir = Path::new(&root).join("scenari");
    assert!(dir.is_dir(), "{} is not a directory", dir.display());
    let mut files = Vec::new();
    collect(&dir, &mut files);
    files.retain(|f| f.file_name().is_some_and(|n| n != "SOURCES.md"));
    files.sort();
    assert!(!files.is_empty(), "no Scenari file under {}", dir.display());
    Some(files)
}

fn collect(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            collect(&path, out);
        } else {
            out.push(path);
        }
    }
}

fn opts() -> MergeOptions {
    MergeOptions { target: LanguageTag::parse("en").unwrap() }
}

fn name_of(path: &Path) -> String {
    path.file_name().unwrap().to_string_lossy().into_owned()
}

#[test]
fn identity_round_trip_is_byte_exact() {
    let Some(files) = corpus_files() else { return };
    let mut segments = 0;
    for path in &files {
        let bytes = std::fs::read(path).unwrap();
        let name = name_of(path);
        let format = detect(&name, &bytes).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        assert!(
            matches!(format, Format::Scenari | Format::ScenariArchive),
            "{}: detected as {format:?}",
            path.display()
        );
        let doc = extract(&name, &bytes, &ExtractOptions::default())
            .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        segments += doc.segments.len();
        let out = doc.merge_identity(&opts()).unwrap();
        assert!(out == bytes, "{}: identity merge changed bytes", path.display());
        // A translation equal to the source, but built anew through a rendering and parse,
        // must also give the same bytes.
        let reparsed: Vec<Content> =
            doc.segments.iter().map(|s| Content::parse(&s.content.render()).unwrap()).collect();
        assert!(doc.merge(&reparsed, &opts()).unwrap() == bytes, "{}", path.display());
    }
    println!("identity: checked {} files ({segments} segments), all byte-exact", files.len());
}

#[derive(Default, Debug)]
struct Coverage {
    changed: usize,
    kept: usize,
    exempt: usize,
}

#[test]
fn pseudo_round_trip_changes_exactly_the_translatable_text() {
    let Some(files) = corpus_files() else { return };
    let mut total = Coverage::default();
    let mut items = 0;
    for path in &files {
        let bytes = std::fs::read(path).unwrap();
        let name = name_of(path);
        let doc = extract(&name, &bytes, &ExtractOptions::default())
            .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        let pseudo: Vec<Content> =
            doc.segments.iter().map(|s| pseudo_content(&s.content)).collect();
        let out = doc.merge(&pseudo, &opts()).unwrap();
        let mut cov = Coverage::default();
        if doc.format == Format::ScenariArchive {
            let before = entries(&bytes);
            let after = entries(&out);
            let names = |v: &[(String, Vec<u8>)]| v.iter().map(|e| e.0.clone()).collect::<Vec<_>>();
            assert_eq!(names(&before), names(&after), "{}: entry names/order", path.display());
            for ((entry, input), (_, output)) in before.iter().zip(&after) {
                let label = format!("{} › {entry}", path.display());
                if is_item(input) {
                    check_item(&label, input, output, &mut cov);
                    items += 1;
                } else {
                    assert!(input == output, "{label}: non-item entry changed");
                    cov.kept += 1;
                }
            }
        } else {
            check_item(&path.display().to_string(), &bytes, &out, &mut cov);
            items += 1;
        }
        println!(
            "{}: {} segments; text nodes: {} translated, {} kept unchanged, {} exempt",
            path.strip_prefix(path.ancestors().nth(2).unwrap()).unwrap().display(),
            doc.segments.len(),
            cov.changed,
            cov.kept,
            cov.exempt
        );
        assert!(
            cov.changed > 0 || doc.segments.is_empty(),
            "{}: nothing translated",
            path.display()
        );
        total.changed += cov.changed;
        total.kept += cov.kept;
        total.exempt += cov.exempt;
    }
    println!(
        "pseudo: checked {} files ({items} items): {} text nodes translated, {} kept, {} exempt",
        files.len(),
        total.changed,
        total.kept,
        total.exempt
    );
}

fn entries(bytes: &[u8]) -> Vec<(String, Vec<u8>)> {
    let mut zip = zip::ZipArchive::new(Cursor::new(bytes)).unwrap();
    (0..zip.len())
        .map(|i| {
            let mut f = zip.by_index(i).unwrap();
            let mut data = Vec::new();
            f.read_to_end(&mut data).unwrap();
            (f.name().unwrap().to_string(), data)
        })
        .collect()
}

fn parse(text: &str) -> Result<XmlDoc<'_>, roxmltree::Error> {
    XmlDoc::parse_with_options(text, ParsingOptions { allow_dtd: false, ..Default::default() })
}

fn is_item(bytes: &[u8]) -> bool {
    let Ok(text) = std::str::from_utf8(bytes) else { return false };
    let Ok(doc) = parse(text) else { return false };
    let root = doc.root_element();
    let ns = root.tag_name().namespace();
    (ns == Some(CORE) && root.tag_name().name() == "item") || ns == Some(FILEMETA)
}

/// Compares input and output of one item node by node.
fn check_item(label: &str, input: &[u8], output: &[u8], cov: &mut Coverage) {
    let input = std::str::from_utf8(input).unwrap();
    let output = std::str::from_utf8(output).unwrap_or_else(|e| panic!("{label}: output {e}"));
    let a = parse(input).unwrap_or_else(|e| panic!("{label}: input {e}"));
    let b = parse(output).unwrap_or_else(|e| panic!("{label}: output not well-formed: {e}"));
    let na: Vec<Node> = a.descendants().collect();
    let nb: Vec<Node> = b.descendants().collect();
    assert_eq!(na.len(), nb.len(), "{label}: node count differs");
    for (x, y) in na.iter().zip(&nb) {
        assert_eq!(x.node_type(), y.node_type(), "{label}: node kinds differ at {:?}", x.range());
        match x.node_type() {
            NodeType::Element => {
                assert_eq!(x.tag_name(), y.tag_name(), "{label}");
                let ax: Vec<_> =
                    x.attributes().map(|a| (a.namespace(), a.name(), a.value())).collect();
                let ay: Vec<_> =
                    y.attributes().map(|a| (a.namespace(), a.name(), a.value())).collect();
                assert_eq!(ax, ay, "{label}: attributes of {:?}", x.tag_name());
            }
            NodeType::Text => {
                let (tx, ty) = (x.text().unwrap(), y.text().unwrap());
                match classify(*x) {
                    TextClass::Translatable => {
                        assert!(
                            tx != ty && ty.contains(OPEN_MARK),
                            "{label}: translatable text not translated: {tx:?} (in {})",
                            path_of(*x)
                        );
                        cov.changed += 1;
                    }
                    TextClass::Kept => {
                        assert_eq!(tx, ty, "{label}: kept text changed (in {})", path_of(*x));
                        if !tx.trim().is_empty() {
                            cov.kept += 1;
                        }
                    }
                    TextClass::Exempt => cov.exempt += 1,
                }
            }
            NodeType::Comment | NodeType::PI => assert_eq!(x.text(), y.text(), "{label}"),
            NodeType::Root => {}
        }
    }
}

#[derive(Debug, PartialEq)]
enum TextClass {
    Translatable,
    Kept,
    /// Translatable place, but the doc's rules allow it to stay (no letter in the whole field,
    /// a link whose text is its URL, a template placeholder).
    Exempt,
}

fn is(node: Node, ns: &str, names: &[&str]) -> bool {
    node.is_element()
        && node.tag_name().namespace() == Some(ns)
        && names.contains(&node.tag_name().name())
}

fn role<'a>(node: Node<'a, 'a>) -> Option<&'a str> {
    node.attribute("role")
}

/// §3.1 B1, B3-B5: rich-text elements.
fn is_rich_field(node: Node) -> bool {
    is(node, CORE, &["para", "caption", "member", "fullTitle"])
}

/// §3.3 T: plain-string fields (when they hold no element).
fn is_plain_field(node: Node) -> bool {
    is(
        node,
        PRIMITIVE,
        &[
            "title",
            "sTitle",
            "term",
            "notion",
            "syn",
            "desc",
            "ref",
            "altTxt",
            "keywd",
            "obj",
            "longTitle",
        ],
    ) && !node.children().any(|c| c.is_element())
}

/// §3.4 K2-K4, §3.5 Q5, §3.3 K (containers whose whole content is kept).
fn is_kept_container(node: Node) -> bool {
    is(node, CORE, &["code", "SFSolution", "location"])
        || is(node, PRIMITIVE, &["settings", "asw", "frag", "url", "lang", "code"])
        || (node.is_element() && ["listingTxt", "mathTex"].contains(&node.tag_name().name()))
}

/// §3.2: inline elements whose content is kept (I1 code roles, I7, I9, I10, I11, I12).
fn is_kept_inline(node: Node) -> bool {
    if is(node, CORE, &["inlineStyle"]) {
        return matches!(role(node), Some("code" | "filePath" | "cmd"));
    }
    if is(node, CORE, &["textLeaf"]) {
        return !matches!(role(node), Some("exp" | "ind"));
    }
    is(node, CORE, &["inlineImg", "objectLeaf"])
}

fn field_of<'a>(text: Node<'a, 'a>) -> Option<Node<'a, 'a>> {
    text.ancestors().skip(1).find(|n| is_rich_field(*n) || is_plain_field(*n))
}

fn classify(text: Node) -> TextClass {
    let t = text.text().unwrap_or("");
    if t.trim_matches([' ', '\t', '\r', '\n']).is_empty() {
        return TextClass::Kept;
    }
    if let Some(class) = quiz_term(text) {
        return class;
    }
    if text.ancestors().any(is_kept_container) {
        return TextClass::Kept;
    }
    // Inside a field, metadata children (any non-core element between the text and the field)
    // are kept, except the title of a URL's metadata (I5), which is a field of its own.
    for node in text.ancestors().skip(1) {
        if is_kept_container(node) {
            return TextClass::Kept;
        }
        if is_rich_field(node) || is_plain_field(node) {
            break;
        }
        if is_kept_inline(node) {
            return TextClass::Kept;
        }
        if node.is_element() && node.tag_name().namespace() != Some(CORE) {
            if field_of(node).is_some() {
                // A metadata child inside a field: kept, unless the text sits in urlM/sp:title.
                let parent = text.parent().unwrap();
                let title_of_url = is(parent, PRIMITIVE, &["title"])
                    && parent.parent().is_some_and(|p| p.tag_name().name() == "urlM");
                return if title_of_url { TextClass::Translatable } else { TextClass::Kept };
            }
            break;
        }
    }
    let Some(field) = field_of(text) else {
        return TextClass::Kept;
    };
    // A field containing no letter outside kept inline elements has no segment (B8).
    let letters = field.descendants().filter(|n| n.is_text()).any(|n| {
        !n.ancestors().skip(1).take_while(|a| *a != field).any(|a| {
            is_kept_inline(a) || is_kept_container(a) || a.tag_name().namespace() != Some(CORE)
        }) && n.text().unwrap_or("").chars().any(char::is_alphabetic)
    });
    if !letters {
        return TextClass::Exempt;
    }
    // An inline element (a link, or a style inside one) whose whole text is a URL comes back
    // unchanged (I4, I5).
    let parent = text.parent().unwrap();
    let trimmed = t.trim();
    let url_like = ["http://", "https://", "www.", "mailto:", "ftp://"]
        .iter()
        .any(|p| trimmed.to_ascii_lowercase().starts_with(p))
        && !trimmed.contains(char::is_whitespace);
    let whole_text: String = parent
        .descendants()
        .filter(|n| {
            n.is_text()
                && !n
                    .ancestors()
                    .take_while(|a| *a != parent)
                    .any(|a| a.is_element() && a.tag_name().namespace() != Some(CORE))
        })
        .map(|n| n.text().unwrap_or(""))
        .collect();
    if is(parent, CORE, &["phrase", "uLink", "inlineStyle"])
        && url_like
        && whole_text.trim() == trimmed
    {
        return TextClass::Exempt;
    }
    // Template placeholders (K7).
    if t.contains("$$") {
        return TextClass::Exempt;
    }
    TextClass::Translatable
}

/// §3.5 Q4, Q5 (translated by default): a cloze gap's own text (its answer), its options and
/// synonyms, a short-answer value; kept exactly when a single character, whitespace or without
/// letters. `None` for any other text.
fn quiz_term(text: Node) -> Option<TextClass> {
    let parent = text.parent()?;
    let is_gap = |n: Node| is(n, CORE, &["textLeaf"]) && role(n) == Some("gap");
    let term = is_gap(parent)
        || (is(parent, PRIMITIVE, &["option", "synonym"]) && parent.ancestors().any(is_gap))
        || (is(parent, CORE, &["value"])
            && parent.ancestors().any(|a| is(a, CORE, &["SFSolution"]))
            && parent.ancestors().any(|a| is(a, PRIMITIVE, &["asw"])));
    if !term {
        return None;
    }
    let t = text.text().unwrap_or("").trim();
    let fixed = t.chars().count() <= 1 || !t.chars().any(char::is_alphabetic);
    Some(if fixed { TextClass::Kept } else { TextClass::Translatable })
}

fn path_of(node: Node) -> String {
    let mut parts: Vec<String> = node
        .ancestors()
        .filter(|n| n.is_element())
        .map(|n| n.tag_name().name().to_string())
        .collect();
    parts.reverse();
    parts.join("/")
}
