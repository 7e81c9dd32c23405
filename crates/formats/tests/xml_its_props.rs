//! Property test of the generic XML filter: for random well-formed XML carrying random ITS
//! rules (global and local), the identity merge is byte-exact, no segment's text holds a markup
//! character (the generated text has none, so any would have come from markup), and a pseudo
//! translation is well-formed XML with the same elements (checked with roxmltree).

#![allow(clippy::unwrap_used, clippy::expect_used)]

use proptest::prelude::*;
use tradia_core::pseudo::pseudo_content;
use tradia_core::{Content, LanguageTag};
use tradia_formats::{ExtractOptions, Format, MergeOptions};

const ITS: &str = "http://www.w3.org/2005/11/its";

#[derive(Debug, Clone)]
enum Node {
    Text(String),
    Comment(String),
    CData(String),
    Element {
        name: &'static str,
        attrs: Vec<(&'static str, String)>,
        local: Option<&'static str>,
        children: Vec<Node>,
    },
}

fn words() -> impl Strategy<Value = String> {
    prop::collection::vec(
        prop::sample::select(vec!["alpha", "beta", "Gamma", "delta", "été", "  ", "\n  ", "x1"]),
        1..4,
    )
    .prop_map(|w| w.join(" "))
}

fn node() -> impl Strategy<Value = Node> {
    let leaf = prop_oneof![
        4 => words().prop_map(Node::Text),
        1 => words().prop_map(Node::Comment),
        1 => words().prop_map(Node::CData),
    ];
    leaf.prop_recursive(4, 40, 5, |inner| {
        (
            prop::sample::select(vec!["a", "b", "c", "d"]),
            prop::collection::vec((prop::sample::select(vec!["x", "t", "id"]), words()), 0..3),
            prop::option::weighted(
                0.2,
                prop::sample::select(vec![
                    "translate=\"no\"",
                    "translate=\"yes\"",
                    "withinText=\"yes\"",
                    "withinText=\"nested\"",
                ]),
            ),
            prop::collection::vec(inner, 0..5),
        )
            .prop_map(|(name, mut attrs, local, children)| {
                attrs.sort_by_key(|a| a.0);
                attrs.dedup_by_key(|a| a.0);
                Node::Element { name, attrs, local, children }
            })
    })
}

fn rule() -> impl Strategy<Value = String> {
    let selector = prop::sample::select(vec![
        "//a",
        "//b[@x]",
        "/r/c",
        "//a//d",
        "//c | //d",
        "//*[not(@t)]",
        "//b[@id!='q']",
        "a/b",
        "//d[c]",
    ]);
    let attr_selector = prop::sample::select(vec!["//@t", "//c/@x", "//*[@id]/@x"]);
    prop_oneof![
        (selector.clone(), any::<bool>()).prop_map(|(s, t)| format!(
            "<its:translateRule selector=\"{s}\" translate=\"{}\"/>",
            if t { "yes" } else { "no" }
        )),
        (attr_selector, any::<bool>()).prop_map(|(s, t)| format!(
            "<its:translateRule selector=\"{s}\" translate=\"{}\"/>",
            if t { "yes" } else { "no" }
        )),
        (selector.clone(), prop::sample::select(vec!["yes", "no", "nested"])).prop_map(
            |(s, w)| format!("<its:withinTextRule selector=\"{s}\" withinText=\"{w}\"/>")
        ),
        selector
            .clone()
            .prop_map(|s| format!("<its:preserveSpaceRule selector=\"{s}\" space=\"preserve\"/>")),
        selector.prop_map(|s| format!("<its:locNoteRule selector=\"{s}\" locNotePointer=\"@x\"/>")),
    ]
}

fn write(node: &Node, out: &mut String) {
    match node {
        Node::Text(t) => out.push_str(t),
        Node::Comment(t) => out.push_str(&format!("<!--{t}-->")),
        Node::CData(t) => out.push_str(&format!("<![CDATA[{t}]]>")),
        Node::Element { name, attrs, local, children } => {
            out.push('<');
            out.push_str(name);
            for (k, v) in attrs {
                out.push_str(&format!(" {k}=\"{v}\""));
            }
            if let Some(local) = local {
                out.push_str(&format!(" its:{local}"));
            }
            if children.is_empty() {
                out.push_str("/>");
            } else {
                out.push('>');
                children.iter().for_each(|c| write(c, out));
                out.push_str(&format!("</{name}>"));
            }
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 300, ..ProptestConfig::default() })]

    #[test]
    fn random_xml_with_random_its_rules_round_trips(
        children in prop::collection::vec(node(), 1..6),
        rules in prop::collection::vec(rule(), 0..6),
    ) {
        let mut doc = format!("<r xmlns:its=\"{ITS}\"><its:rules version=\"2.0\">");
        rules.iter().for_each(|r| doc.push_str(r));
        doc.push_str("</its:rules>");
        children.iter().for_each(|c| write(c, &mut doc));
        doc.push_str("</r>");
        let options = MergeOptions { target: LanguageTag::parse("fr").unwrap() };
        let d = tradia_formats::extract("p.xml", doc.as_bytes(), &ExtractOptions::default()).unwrap();
        prop_assert_eq!(d.format, Format::Xml);
        prop_assert_eq!(d.merge_identity(&options).unwrap(), doc.as_bytes().to_vec());
        for s in &d.segments {
            let text = s.content.plain_text();
            prop_assert!(!text.contains(['<', '>', '&', '"', '=']), "markup in {:?}", text);
        }
        let pseudo: Vec<Content> = d.segments.iter().map(|s| pseudo_content(&s.content)).collect();
        let out = String::from_utf8(d.merge(&pseudo, &options).unwrap()).unwrap();
        let a = roxmltree::Document::parse(&doc).unwrap();
        let b = roxmltree::Document::parse(&out).map_err(|e| TestCaseError::fail(format!("{e}: {out}")))?;
        let names = |d: &roxmltree::Document| -> Vec<String> {
            d.descendants().filter(|n| n.is_element()).map(|n| n.tag_name().name().to_string()).collect()
        };
        prop_assert_eq!(names(&a), names(&b));
    }
}
