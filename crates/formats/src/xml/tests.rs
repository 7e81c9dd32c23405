//! Tests of the strict tokenizer: ranges, refusals with offsets, namespace scopes.

use super::*;

fn all(text: &str) -> Result<Vec<(usize, usize)>, FormatError> {
    let mut r = StrictReader::new(text, "t.xml", 0);
    let mut out = Vec::new();
    while let Some(t) = r.next_token()? {
        out.push((t.start, t.end));
    }
    Ok(out)
}

#[test]
fn ranges_cover_the_input() {
    let text = "<?xml version=\"1.0\"?>\n<a:r xmlns:a=\"u\">x &amp; <b/></a:r >";
    let ranges = all(text).unwrap();
    let mut pos = 0;
    for (s, e) in ranges {
        assert_eq!(s, pos);
        pos = e;
    }
    assert_eq!(pos, text.len());
}

#[test]
fn malformed_inputs_are_refused_with_offsets() {
    let cases = [
        ("<a><b></a>", 6),
        ("<a></a><b/>", 7),
        ("<a>&foo;</a>", 3),
        ("<a>", 3),
        ("x<a/>", 0),
        ("<p:a/>", 0),
        ("<a><p:b/><c xmlns:p=\"u\"/></a>", 3),
        ("<a><b p:x=\"1\"/><c xmlns:p=\"u\"/></a>", 3),
        ("<a b='<'/>", 0),
    ];
    for (text, offset) in cases {
        match all(text) {
            Err(FormatError::Malformed { offset: o, .. }) => assert_eq!(o, offset, "{text}"),
            other => panic!("{text}: {other:?}"),
        }
    }
    assert!(matches!(
        all("<!DOCTYPE a [<!ENTITY x \"y\">]><a>&x;</a>"),
        Err(FormatError::Doctype { .. })
    ));
}

#[test]
fn namespaces_resolve_per_scope() {
    let text = "<a xmlns:p=\"one\"><p:b xmlns:p=\"two\"><p:c/></p:b><p:d/></a>";
    let mut r = StrictReader::new(text, "t", 0);
    let mut seen = Vec::new();
    while let Some(t) = r.next_token().unwrap() {
        if let Event::Start(_) | Event::Empty(_) = &t.event {
            let name = t.name;
            seen.push(format!("{name}={}", r.resolve(name, true).unwrap_or("-")));
        }
    }
    assert_eq!(seen, ["a=-", "p:b=two", "p:c=two", "p:d=one"]);
}

#[test]
fn a_prefix_declared_nowhere_is_read_as_part_of_a_plain_name() {
    let text = "<a xmlns=\"urn:x\"><tool:meta tool:id=\"7\">x</tool:meta><b/></a>";
    let mut r = StrictReader::new(text, "t", 0);
    let mut seen = Vec::new();
    while let Some(t) = r.next_token().unwrap() {
        if let Event::Start(_) | Event::Empty(_) = &t.event {
            seen.push(format!("{}={}", t.name, r.element_namespace().unwrap_or("-")));
        }
    }
    assert_eq!(seen, ["a=urn:x", "tool:meta=-", "b=urn:x"]);
    assert_eq!(r.unbound_prefixes(), ["tool"]);
    match all("<p:a/>") {
        Err(FormatError::Malformed { message, .. }) => {
            assert!(message.contains("root element's prefix `p`"), "{message}")
        }
        other => panic!("{other:?}"),
    }
    match all("<a><p:b/><c xmlns:p=\"u\"/></a>") {
        Err(FormatError::Malformed { message, .. }) => {
            assert!(message.contains("`p` is declared elsewhere"), "{message}")
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn entities_resolve() {
    assert_eq!(resolve_entity("#x41"), Some('A'));
    assert_eq!(resolve_entity("#65"), Some('A'));
    assert_eq!(resolve_entity("#0"), None);
    assert_eq!(resolve_entity("#x"), None);
    assert_eq!(resolve_entity("nbsp"), None);
}
