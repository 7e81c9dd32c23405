//! Property tests of the segment model: for generated contents with nested inline codes,
//! render → parse is the identity, and every malformed answer (a code dropped, duplicated,
//! invented, mis-nested, or of the wrong kind) is rejected by `Content::parse_answer`.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use proptest::prelude::*;
use tradia_core::{Content, ContentBuilder, Piece};

/// A generated tree: text, a paired code around children, or a standalone code.
#[derive(Debug, Clone)]
enum Node {
    Text(String),
    Paired(Vec<Node>),
    Standalone,
}

/// Text that includes the characters a rendering must escape, fake tags and entities.
fn text() -> impl Strategy<Value = String> {
    prop_oneof![
        "[a-zA-Z éàü\u{a0}]{1,12}",
        Just("<g1>".to_string()),
        Just("</x2>".to_string()),
        Just("a & b".to_string()),
        Just("&lt;TITLE&gt;".to_string()),
        Just("x < y > z".to_string()),
        Just("&amp;".to_string()),
        Just(" ".to_string()),
        Just("🚀 العربية".to_string()),
        "\\PC{1,8}",
    ]
}

fn node() -> impl Strategy<Value = Node> {
    let leaf = prop_oneof![3 => text().prop_map(Node::Text), 1 => Just(Node::Standalone)];
    leaf.prop_recursive(4, 32, 5, |inner| {
        prop_oneof![
            2 => prop::collection::vec(inner.clone(), 0..5).prop_map(Node::Paired),
            1 => text().prop_map(Node::Text),
            1 => Just(Node::Standalone),
        ]
    })
}

fn build(nodes: &[Node], b: &mut ContentBuilder) {
    for n in nodes {
        match n {
            Node::Text(t) => b.text(t),
            Node::Standalone => {
                b.standalone();
            }
            Node::Paired(children) => {
                b.open();
                build(children, b);
                b.close();
            }
        }
    }
}

fn content() -> impl Strategy<Value = Content> {
    prop::collection::vec(node(), 0..6).prop_map(|nodes| {
        let mut b = ContentBuilder::new();
        build(&nodes, &mut b);
        b.finish().expect("a builder fed a tree gives valid content")
    })
}

/// Renders any piece list, valid or not, with the syntax of `Content::render`.
fn render(pieces: &[Piece]) -> String {
    pieces
        .iter()
        .map(|p| match p {
            Piece::Text(t) => t.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;"),
            Piece::Open(id) => format!("<g{id}>"),
            Piece::Close(id) => format!("</g{id}>"),
            Piece::Standalone(id) => format!("<x{id}/>"),
        })
        .collect()
}

fn position(pieces: &[Piece], wanted: &Piece) -> usize {
    pieces.iter().position(|p| p == wanted).unwrap()
}

fn paired_ids(c: &Content) -> Vec<u32> {
    c.pieces()
        .iter()
        .filter_map(|p| if let Piece::Open(id) = p { Some(*id) } else { None })
        .collect()
}

fn code_ids(c: &Content) -> Vec<u32> {
    c.codes().keys().copied().collect()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn render_then_parse_is_identity(c in content()) {
        let rendered = c.render();
        prop_assert_eq!(Content::parse(&rendered).unwrap(), c.clone());
        prop_assert_eq!(Content::parse_answer(&c, &rendered).unwrap(), c.clone());
        // The edges split off for a model and put back give the same content.
        let edges = c.split_edges();
        prop_assert_eq!(edges.rejoin(&edges.core).unwrap(), c);
    }

    #[test]
    fn dropped_code_is_rejected(c in content(), pick in any::<prop::sample::Index>()) {
        let ids = code_ids(&c);
        prop_assume!(!ids.is_empty());
        let id = ids[pick.index(ids.len())];
        // Drop the whole code (both halves of a pair).
        let dropped: Vec<Piece> = c.pieces().iter().filter(|p| !matches!(p,
            Piece::Open(i) | Piece::Close(i) | Piece::Standalone(i) if *i == id)).cloned().collect();
        prop_assert!(Content::parse_answer(&c, &render(&dropped)).is_err());
        // Drop only the closing half of a pair.
        if paired_ids(&c).contains(&id) {
            let mut half = c.pieces().to_vec();
            half.remove(position(&half, &Piece::Close(id)));
            prop_assert!(Content::parse_answer(&c, &render(&half)).is_err());
        }
    }

    #[test]
    fn duplicated_code_is_rejected(
        c in content(),
        pick in any::<prop::sample::Index>(),
        at in any::<prop::sample::Index>(),
    ) {
        let ids = code_ids(&c);
        prop_assume!(!ids.is_empty());
        let id = ids[pick.index(ids.len())];
        let mut pieces = c.pieces().to_vec();
        let insert = at.index(pieces.len() + 1);
        if paired_ids(&c).contains(&id) {
            pieces.splice(insert..insert, [Piece::Open(id), Piece::Close(id)]);
        } else {
            pieces.insert(insert, Piece::Standalone(id));
        }
        prop_assert!(Content::parse_answer(&c, &render(&pieces)).is_err());
    }

    #[test]
    fn invented_code_is_rejected(
        c in content(),
        at in any::<prop::sample::Index>(),
        paired in any::<bool>(),
    ) {
        let new_id = code_ids(&c).last().copied().unwrap_or(0) + 1;
        let mut pieces = c.pieces().to_vec();
        let insert = at.index(pieces.len() + 1);
        if paired {
            pieces.splice(insert..insert, [Piece::Open(new_id), Piece::Close(new_id)]);
        } else {
            pieces.insert(insert, Piece::Standalone(new_id));
        }
        prop_assert!(Content::parse_answer(&c, &render(&pieces)).is_err());
    }

    #[test]
    fn mis_nested_codes_are_rejected(c in content(), pick in any::<prop::sample::Index>()) {
        let pairs = paired_ids(&c);
        prop_assume!(!pairs.is_empty());
        let a = pairs[pick.index(pairs.len())];
        // Closing before opening.
        let mut swapped = c.pieces().to_vec();
        let (open, close) = (position(&swapped, &Piece::Open(a)), position(&swapped, &Piece::Close(a)));
        swapped.swap(open, close);
        prop_assert!(Content::parse_answer(&c, &render(&swapped)).is_err());
        // Crossing another pair: <gA><gB></gA></gB>.
        if let Some(&b) = pairs.iter().find(|&&b| b > a) {
            let mut crossed = c.pieces().to_vec();
            let close_a = position(&crossed, &Piece::Close(a));
            let close_b = position(&crossed, &Piece::Close(b));
            let open_b = position(&crossed, &Piece::Open(b));
            if close_b < close_a {
                // B nested in A: swap the two closings.
                crossed.swap(close_a, close_b);
            } else {
                // B after A: close A after B opens.
                crossed.swap(close_a, open_b);
            }
            prop_assert!(Content::parse_answer(&c, &render(&crossed)).is_err());
        }
    }

    #[test]
    fn wrong_kind_is_rejected(c in content(), pick in any::<prop::sample::Index>()) {
        let ids = code_ids(&c);
        prop_assume!(!ids.is_empty());
        let id = ids[pick.index(ids.len())];
        let pieces: Vec<Piece> = if paired_ids(&c).contains(&id) {
            c.pieces().iter().filter_map(|p| match p {
                Piece::Open(i) if *i == id => Some(Piece::Standalone(id)),
                Piece::Close(i) if *i == id => None,
                other => Some(other.clone()),
            }).collect()
        } else {
            c.pieces().iter().flat_map(|p| match p {
                Piece::Standalone(i) if *i == id => vec![Piece::Open(id), Piece::Close(id)],
                other => vec![other.clone()],
            }).collect()
        };
        prop_assert!(Content::parse_answer(&c, &render(&pieces)).is_err());
    }
}
