//! The XPath subset ITS rule selectors are evaluated in.
//!
//! Real rule files (the W3C test suite, DITA and DocBook ITS rules, Okapi's parameters) select
//! with location paths of element and attribute names. The subset accepted is:
//!
//! * paths: absolute `/a/b`, descendant `//a`, mixed `//a/b//c`, relative `a/b` (read as
//!   `//a/b`: a global rule applies anywhere), unions `p | q`;
//! * name tests: `name`, `prefix:name`, `*`, `prefix:*`; a final attribute step `@name`, `@*`;
//! * predicates on a step, any number: `[@a]`, `[@a='v']`, `[@a!='v']`, `[name]` (a child
//!   element, itself with predicates: `[name[@a='v']]`), `[contains(@a,'v')]`, `[starts-with(@a,'v')]`, `not(…)`, `and`, `or`, parentheses.
//!
//! Prefixes resolve with the namespace declarations in scope of the rule; unprefixed names have
//! no namespace (XPath 1.0), except in the built-in rule sets, whose unprefixed names are in the
//! vocabulary's namespace (XPath 2.0's default element namespace). Anything else (axes, positions,
//! functions beyond those above) is refused when the rule is read, and the rule is ignored with a
//! warning rather than half-applied.

use super::tree::{Attr, Child, Element, Tree};

/// A name test.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum NameTest {
    /// `*`
    Any,
    /// `prefix:*`
    AnyIn(Option<String>),
    /// A name in a namespace.
    Name { ns: Option<String>, local: String },
}

impl NameTest {
    fn matches(&self, ns: Option<&str>, local: &str) -> bool {
        match self {
            NameTest::Any => true,
            NameTest::AnyIn(n) => n.as_deref() == ns,
            NameTest::Name { ns: n, local: l } => l == local && n.as_deref() == ns,
        }
    }

    fn matches_attr(&self, attr: &Attr) -> bool {
        !attr.qname.starts_with("xmlns") && self.matches(attr.ns.as_deref(), attr.local())
    }

    fn matches_element(&self, element: &Element) -> bool {
        self.matches(element.ns.as_deref(), element.local())
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Pred {
    Or(Vec<Pred>),
    And(Vec<Pred>),
    Not(Box<Pred>),
    Attr(NameTest),
    AttrIs {
        test: NameTest,
        value: String,
        equal: bool,
    },
    Contains {
        test: NameTest,
        value: String,
        prefix_only: bool,
    },
    /// A child element passing the name test and its own predicates.
    Child(NameTest, Vec<Pred>),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Axis {
    Child,
    Descendant,
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct Step {
    axis: Axis,
    test: NameTest,
    preds: Vec<Pred>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct Path {
    steps: Vec<Step>,
    /// A final attribute step.
    attr: Option<NameTest>,
}

/// A parsed selector: a union of paths.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Selector {
    paths: Vec<Path>,
}

/// Resolves a prefix ("" for none) to a namespace; `Err` when the prefix is not declared.
pub(crate) type Resolver<'a> = &'a dyn Fn(&str) -> Result<Option<String>, String>;

impl Selector {
    /// Parses `text`; the error says what is outside the subset.
    pub fn parse(text: &str, resolve: Resolver<'_>) -> Result<Selector, String> {
        let mut p = Parser { s: text.as_bytes(), src: text, pos: 0, resolve };
        let mut paths = vec![p.path()?];
        loop {
            p.ws();
            if p.eat("|") {
                paths.push(p.path()?);
            } else if p.pos == p.s.len() {
                return Ok(Selector { paths });
            } else {
                return Err(p.unsupported());
            }
        }
    }

    /// For every element of `tree` (by index), whether the selector selects it.
    pub fn select_elements(&self, tree: &Tree) -> Vec<bool> {
        let mut out = vec![false; tree.elements.len()];
        for path in self.paths.iter().filter(|p| p.attr.is_none()) {
            for (o, m) in out.iter_mut().zip(path_matches(tree, &path.steps)) {
                *o |= m;
            }
        }
        out
    }

    /// For every element, for each of its attributes, whether the selector selects it.
    pub fn select_attributes(&self, tree: &Tree) -> Vec<Vec<bool>> {
        let mut out: Vec<Vec<bool>> =
            tree.elements.iter().map(|e| vec![false; e.attrs.len()]).collect();
        for path in &self.paths {
            let Some(test) = &path.attr else { continue };
            let elements = if path.steps.is_empty() {
                vec![true; tree.elements.len()]
            } else {
                path_matches(tree, &path.steps)
            };
            for (i, element) in tree.elements.iter().enumerate() {
                if !elements[i] {
                    continue;
                }
                for (k, attr) in element.attrs.iter().enumerate() {
                    out[i][k] |= test.matches_attr(attr);
                }
            }
        }
        out
    }

    /// True when some path selects attributes.
    pub fn has_attribute_paths(&self) -> bool {
        self.paths.iter().any(|p| p.attr.is_some())
    }
}

/// Which elements the steps select, by dynamic programming over the document (parents come
/// before their children in the index): `matched[e]` after step k says steps `..=k` match with
/// step k on `e`, and `below[e]` that they match on `e` or one of its ancestors. Linear in
/// steps × elements, whatever the nesting (a rule file is input too: backtracking over
/// `//a//b//c` would be exponential in the depth).
fn path_matches(tree: &Tree, steps: &[Step]) -> Vec<bool> {
    let n = tree.elements.len();
    let mut matched = vec![false; n];
    let mut below = vec![false; n];
    for (k, step) in steps.iter().enumerate() {
        let mut next = vec![false; n];
        for (i, element) in tree.elements.iter().enumerate() {
            let context = if k == 0 {
                step.axis == Axis::Descendant || element.parent.is_none()
            } else {
                match (step.axis, element.parent) {
                    (_, None) => false,
                    (Axis::Child, Some(p)) => matched[p],
                    (Axis::Descendant, Some(p)) => below[p],
                }
            };
            next[i] = context
                && step.test.matches_element(element)
                && step.preds.iter().all(|p| eval(tree, i, p));
        }
        let mut next_below = vec![false; n];
        for (i, element) in tree.elements.iter().enumerate() {
            next_below[i] = next[i] || element.parent.is_some_and(|p| next_below[p]);
        }
        matched = next;
        below = next_below;
    }
    if steps.is_empty() { vec![false; n] } else { matched }
}

fn eval(tree: &Tree, index: usize, pred: &Pred) -> bool {
    let element = &tree.elements[index];
    let attr = |t: &NameTest| element.attrs.iter().find(|a| t.matches_attr(a));
    match pred {
        Pred::Or(list) => list.iter().any(|p| eval(tree, index, p)),
        Pred::And(list) => list.iter().all(|p| eval(tree, index, p)),
        Pred::Not(p) => !eval(tree, index, p),
        Pred::Attr(t) => attr(t).is_some(),
        // XPath: `@a != 'v'` is false when there is no `a`.
        Pred::AttrIs { test, value, equal } => {
            attr(test).is_some_and(|a| (a.value == *value) == *equal)
        }
        Pred::Contains { test, value, prefix_only } => attr(test).is_some_and(|a| {
            if *prefix_only {
                a.value.starts_with(value.as_str())
            } else {
                a.value.contains(value.as_str())
            }
        }),
        Pred::Child(t, preds) => element.children.iter().any(|c| match c {
            Child::Element(i) => {
                t.matches_element(&tree.elements[*i]) && preds.iter().all(|p| eval(tree, *i, p))
            }
            _ => false,
        }),
    }
}

struct Parser<'a, 'r> {
    s: &'a [u8],
    src: &'a str,
    pos: usize,
    resolve: Resolver<'r>,
}

impl Parser<'_, '_> {
    fn unsupported(&self) -> String {
        format!(
            "`{}` is outside the supported XPath subset (at `{}`)",
            self.src,
            &self.src[self.pos.min(self.src.len())..]
        )
    }

    fn ws(&mut self) {
        while self.s.get(self.pos).is_some_and(|b| b.is_ascii_whitespace()) {
            self.pos += 1;
        }
    }

    fn eat(&mut self, token: &str) -> bool {
        self.ws();
        if self.src[self.pos..].starts_with(token) {
            self.pos += token.len();
            true
        } else {
            false
        }
    }

    fn path(&mut self) -> Result<Path, String> {
        let mut steps = Vec::new();
        let mut axis = if self.eat("//") {
            Axis::Descendant
        } else if self.eat("/") {
            Axis::Child
        } else {
            Axis::Descendant
        };
        loop {
            if self.eat("@") {
                let test = self.name_test(true)?;
                return Ok(Path { steps, attr: Some(test) });
            }
            let test = self.name_test(false)?;
            let mut preds = Vec::new();
            while self.eat("[") {
                preds.push(self.or()?);
                if !self.eat("]") {
                    return Err(self.unsupported());
                }
            }
            steps.push(Step { axis, test, preds });
            axis = if self.eat("//") {
                Axis::Descendant
            } else if self.eat("/") {
                Axis::Child
            } else {
                return Ok(Path { steps, attr: None });
            };
        }
    }

    fn name(&mut self) -> &str {
        self.ws();
        let start = self.pos;
        while self.s.get(self.pos).is_some_and(|&b| {
            b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.' | b':') || b >= 0x80
        }) {
            self.pos += 1;
        }
        &self.src[start..self.pos]
    }

    fn name_test(&mut self, attribute: bool) -> Result<NameTest, String> {
        if self.eat("*") {
            return Ok(NameTest::Any);
        }
        let name = self.name().to_string();
        if name.is_empty() || name.starts_with(|c: char| c.is_ascii_digit() || c == '-') {
            return Err(self.unsupported());
        }
        if self.s.get(self.pos) == Some(&b'(') || self.s.get(self.pos) == Some(&b':') {
            // A function call or an axis (`text()`, `ancestor::x`).
            return Err(self.unsupported());
        }
        let (prefix, local) = match name.split_once(':') {
            Some((p, l)) => (p, l),
            None => ("", name.as_str()),
        };
        if local.is_empty() && self.eat("*") {
            return Ok(NameTest::AnyIn((self.resolve)(prefix)?));
        }
        let ns = if prefix.is_empty() && attribute { None } else { (self.resolve)(prefix)? };
        Ok(NameTest::Name { ns, local: local.to_string() })
    }

    fn or(&mut self) -> Result<Pred, String> {
        let mut list = vec![self.and()?];
        while self.keyword("or") {
            list.push(self.and()?);
        }
        Ok(if list.len() == 1 { list.remove(0) } else { Pred::Or(list) })
    }

    fn and(&mut self) -> Result<Pred, String> {
        let mut list = vec![self.unary()?];
        while self.keyword("and") {
            list.push(self.unary()?);
        }
        Ok(if list.len() == 1 { list.remove(0) } else { Pred::And(list) })
    }

    fn keyword(&mut self, word: &str) -> bool {
        self.ws();
        let rest = &self.src[self.pos..];
        let after = rest.as_bytes().get(word.len());
        if rest.starts_with(word) && after.is_some_and(|b| b.is_ascii_whitespace() || *b == b'(') {
            self.pos += word.len();
            true
        } else {
            false
        }
    }

    fn literal(&mut self) -> Result<String, String> {
        self.ws();
        let quote = *self.s.get(self.pos).ok_or_else(|| self.unsupported())?;
        if quote != b'\'' && quote != b'"' {
            return Err(self.unsupported());
        }
        let rest = &self.src[self.pos + 1..];
        let end = rest.find(quote as char).ok_or_else(|| self.unsupported())?;
        let value = rest[..end].to_string();
        self.pos += end + 2;
        Ok(value)
    }

    fn unary(&mut self) -> Result<Pred, String> {
        if self.eat("(") {
            let inner = self.or()?;
            return if self.eat(")") { Ok(inner) } else { Err(self.unsupported()) };
        }
        for (function, prefix_only) in [("contains(", false), ("starts-with(", true)] {
            if self.eat(function) {
                if !self.eat("@") {
                    return Err(self.unsupported());
                }
                let test = self.name_test(true)?;
                if !self.eat(",") {
                    return Err(self.unsupported());
                }
                let value = self.literal()?;
                return if self.eat(")") {
                    Ok(Pred::Contains { test, value, prefix_only })
                } else {
                    Err(self.unsupported())
                };
            }
        }
        if self.eat("not(") {
            let inner = self.or()?;
            return if self.eat(")") {
                Ok(Pred::Not(Box::new(inner)))
            } else {
                Err(self.unsupported())
            };
        }
        if self.eat("@") {
            let test = self.name_test(true)?;
            let equal = if self.eat("!=") {
                false
            } else if self.eat("=") {
                true
            } else {
                return Ok(Pred::Attr(test));
            };
            let value = self.literal()?;
            return Ok(Pred::AttrIs { test, value, equal });
        }
        let test = self.name_test(false)?;
        let mut preds = Vec::new();
        while self.eat("[") {
            preds.push(self.or()?);
            if !self.eat("]") {
                return Err(self.unsupported());
            }
        }
        Ok(Pred::Child(test, preds))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tree(text: &str) -> Tree {
        Tree::parse("t.xml", text).unwrap()
    }

    fn none(prefix: &str) -> Result<Option<String>, String> {
        match prefix {
            "" => Ok(None),
            "s" => Ok(Some("urn:s".into())),
            other => Err(format!("prefix `{other}` is not declared")),
        }
    }

    fn selected(selector: &str, text: &str) -> Vec<String> {
        let s = Selector::parse(selector, &none).unwrap();
        let t = tree(text);
        let (elements, attrs) = (s.select_elements(&t), s.select_attributes(&t));
        let mut out = Vec::new();
        for (i, e) in t.elements.iter().enumerate() {
            if elements[i] {
                out.push(e.qname.clone());
            }
            for (k, a) in e.attrs.iter().enumerate() {
                if attrs[i][k] {
                    out.push(format!("{}@{}", e.qname, a.qname));
                }
            }
        }
        out
    }

    #[test]
    fn paths_predicates_and_unions_select_what_xpath_would() {
        let doc = "<r><a k=\"1\"><b/><c t=\"x\"><b n=\"no\"/></c></a><b/><s:q xmlns:s=\"urn:s\" alt=\"hi\"/></r>";
        assert_eq!(selected("//b", doc), ["b", "b", "b"]);
        assert_eq!(selected("/r/b", doc), ["b"]);
        assert_eq!(selected("/r/a/b", doc), ["b"]);
        assert_eq!(selected("//a//b", doc), ["b", "b"]);
        assert_eq!(selected("a/c/b", doc), ["b"]);
        assert_eq!(selected("//b[@n='no'] | //c", doc), ["c", "b"]);
        assert_eq!(selected("//*[@k and not(@t)]", doc), ["a"]);
        assert_eq!(selected("//*[@t!='y']", doc), ["c"]);
        assert_eq!(selected("//*[c]", doc), ["a"]);
        assert_eq!(selected("//*[c[@t='x']]", doc), ["a"]);
        assert!(selected("//*[c[@t='y']]", doc).is_empty());
        assert_eq!(selected("//*[starts-with(@t,'x') or contains(@n,'o')]", doc), ["c", "b"]);
        assert_eq!(selected("//s:q/@alt", doc), ["s:q@alt"]);
        assert_eq!(selected("//s:*", doc), ["s:q"]);
        assert_eq!(selected("//@*", doc).len(), 4, "namespace declarations are not attributes");
        assert!(selected("//q", doc).is_empty(), "unprefixed names have no namespace");
    }

    #[test]
    fn many_descendant_steps_on_a_deep_document_stay_fast() {
        let depth = 400;
        let doc = format!("{}{}", "<a>".repeat(depth), "</a>".repeat(depth));
        let t = tree(&doc);
        // Every `a` matches the last steps; no `c` exists, so every combination fails.
        let selector = format!("//c{}", "//a".repeat(12));
        let s = Selector::parse(&selector, &none).unwrap();
        let started = std::time::Instant::now();
        assert!(s.select_elements(&t).iter().all(|m| !m));
        assert!(started.elapsed() < std::time::Duration::from_secs(5), "{:?}", started.elapsed());
    }

    #[test]
    fn what_is_outside_the_subset_is_refused() {
        for bad in ["//a[1]", "//text()", "ancestor::a", "//a[@b=c]", "//a[", "//a | "] {
            assert!(Selector::parse(bad, &none).is_err(), "{bad}");
        }
        assert!(Selector::parse("//x:a", &none).unwrap_err().contains("`x`"));
    }
}
