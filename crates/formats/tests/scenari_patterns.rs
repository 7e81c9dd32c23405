//! Always-run tests on small Scenari documents written here (composed, not copied from any
//! course): the inline patterns P1-P9 of `docs/scenari-format.md` §4, the quiz rules, kept
//! fields, identity and translated merges, and bad input with exact errors.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use tradia_core::{Content, LanguageTag, pseudo::pseudo_content};
use tradia_formats::{Document, ExtractOptions, Format, FormatError, MergeOptions, extract};

const HEAD: &str = r#"<?xml version="1.0"?><sc:item xmlns:sc="http://www.utc.fr/ics/scenari/v3/core" xmlns:sp="http://www.utc.fr/ics/scenari/v3/primitive" xmlns:op="utc.fr:ics/opale3"><op:expUc><sp:txt><op:txt>"#;
const TAIL: &str = "</op:txt></sp:txt></op:expUc></sc:item>";

fn item(body: &str) -> String {
    format!("{HEAD}{body}{TAIL}")
}

fn doc(xml: &str) -> Document {
    extract("test.xml", xml.as_bytes(), &ExtractOptions::default()).expect("extracts")
}

fn opts() -> MergeOptions {
    MergeOptions { target: LanguageTag::parse("en").unwrap() }
}

fn rendered(xml: &str) -> Vec<String> {
    doc(xml).segments.iter().map(|s| s.content.render()).collect()
}

fn identity(xml: &str) {
    let d = doc(xml);
    assert_eq!(d.merge_identity(&opts()).unwrap(), xml.as_bytes());
}

fn merge_with(xml: &str, answers: &[&str]) -> String {
    let d = doc(xml);
    assert_eq!(d.segments.len(), answers.len(), "{:?}", d.segments);
    let translations: Vec<Content> = d
        .segments
        .iter()
        .zip(answers)
        .map(|(s, a)| Content::parse_answer(&s.content, a).unwrap())
        .collect();
    String::from_utf8(d.merge(&translations, &opts()).unwrap()).unwrap()
}

#[test]
fn p1_emphasis_with_spaces_inside_tags() {
    let xml = item(
        r#"<sc:para xml:space="preserve"><sc:inlineStyle role="emphasis">Open</sc:inlineStyle> the<sc:inlineStyle role="emphasis"> settings menu</sc:inlineStyle> first.</sc:para>"#,
    );
    assert_eq!(rendered(&xml), ["<g1>Open</g1> the<g2> settings menu</g2> first."]);
    identity(&xml);
    let out = merge_with(&xml, &["D'abord <g1>ouvrez</g1> le<g2> menu</g2>."]);
    assert!(out.contains(
        r#"<sc:para xml:space="preserve">D'abord <sc:inlineStyle role="emphasis">ouvrez</sc:inlineStyle> le<sc:inlineStyle role="emphasis"> menu</sc:inlineStyle>.</sc:para>"#
    ), "{out}");
}

#[test]
fn p2_glossary_link_attributes_stay() {
    let xml = item(
        r#"<sc:para xml:space="preserve">Check the <sc:uLink role="glos" sc:refUri="/gloss/wind_shear.ref">wind shear</sc:uLink> forecast.</sc:para>"#,
    );
    assert_eq!(rendered(&xml), ["Check the <g1>wind shear</g1> forecast."]);
    let out = merge_with(&xml, &["Vérifiez la prévision de <g1>cisaillement</g1>."]);
    assert!(out.contains(
        r#"de <sc:uLink role="glos" sc:refUri="/gloss/wind_shear.ref">cisaillement</sc:uLink>."#
    ));
}

#[test]
fn p3_url_phrase_metadata_in_opening_code_and_title_segment() {
    let xml = item(
        r#"<sc:para xml:space="preserve">Read the <sc:phrase role="url"><op:urlM xml:space="default"><sp:url>https://example.org/guide</sp:url><sp:title>Official guide</sp:title></op:urlM>online guide</sc:phrase> before class.</sc:para>"#,
    );
    let d = doc(&xml);
    let r: Vec<String> = d.segments.iter().map(|s| s.content.render()).collect();
    assert_eq!(r, ["Read the <g1>online guide</g1> before class.", "Official guide"]);
    assert_eq!(d.segments[1].field, "sp:title");
    assert!(d.report.kept.iter().any(|k| k.field == "sp:url" && k.reason == "URL"));
    identity(&xml);
    let out =
        merge_with(&xml, &["Lisez le <g1>guide en ligne</g1> avant le cours.", "Guide officiel"]);
    assert!(out.contains(r#"<sp:url>https://example.org/guide</sp:url><sp:title>Guide officiel</sp:title></op:urlM>guide en ligne</sc:phrase> avant le cours."#), "{out}");
}

#[test]
fn p3_link_whose_text_is_the_url_is_one_standalone_code() {
    let xml = item(
        r#"<sc:para xml:space="preserve">See <sc:phrase role="url"><op:urlM><sp:url>https://a.example/x</sp:url></op:urlM>https://a.example/x</sc:phrase> now.</sc:para>"#,
    );
    assert_eq!(rendered(&xml), ["See <x1/> now."]);
    let out = merge_with(&xml, &["Voir <x1/> maintenant."]);
    assert!(out.contains(r#"Voir <sc:phrase role="url"><op:urlM><sp:url>https://a.example/x</sp:url></op:urlM>https://a.example/x</sc:phrase> maintenant."#));
}

#[test]
fn p4_language_metadata_folded_into_opening_code() {
    let xml = item(
        r#"<sc:para xml:space="preserve">The word <sc:inlineStyle role="spec"><op:txtM><sp:lang><op:langM><sp:code>de</sp:code></op:langM></sp:lang></op:txtM>Zeitgeist</sc:inlineStyle> has no exact equivalent.</sc:para>"#,
    );
    assert_eq!(rendered(&xml), ["The word <g1>Zeitgeist</g1> has no exact equivalent."]);
    let out = merge_with(&xml, &["Le mot <g1>Zeitgeist</g1> n'a pas d'équivalent."]);
    assert!(out.contains(r#"Le mot <sc:inlineStyle role="spec"><op:txtM><sp:lang><op:langM><sp:code>de</sp:code></op:langM></sp:lang></op:txtM>Zeitgeist</sc:inlineStyle> n'a pas"#));
}

#[test]
fn p5_formula_standalone_exponent_paired() {
    let xml = item(
        r#"<sc:para xml:space="preserve">The area is <sc:textLeaf role="mathtex">\pi r^2</sc:textLeaf>, about 3 m<sc:textLeaf role="exp">2</sc:textLeaf> here.</sc:para>"#,
    );
    assert_eq!(rendered(&xml), ["The area is <x1/>, about 3 m<g2>2</g2> here."]);
    let out = merge_with(&xml, &["L'aire vaut <x1/>, environ 3 m<g2>2</g2> ici."]);
    assert!(out.contains(r#"L'aire vaut <sc:textLeaf role="mathtex">\pi r^2</sc:textLeaf>, environ 3 m<sc:textLeaf role="exp">2</sc:textLeaf> ici."#));
}

#[test]
fn p6_cloze_gap_is_kept_whole() {
    let xml = item(
        r#"<sc:para xml:space="preserve">Water boils at <sc:textLeaf role="gap"><op:gapM><sp:options><sp:option>100</sp:option><sp:option>90</sp:option></sp:options></op:gapM>100</sc:textLeaf> degrees.</sc:para>"#,
    );
    assert_eq!(rendered(&xml), ["Water boils at <x1/> degrees."]);
    let out = merge_with(&xml, &["L'eau bout à <x1/> degrés."]);
    assert!(out.contains(r#"<sp:option>100</sp:option><sp:option>90</sp:option></sp:options></op:gapM>100</sc:textLeaf> degrés."#));
}

#[test]
fn p7_icon_in_link_and_nested_styles() {
    let xml = item(
        r#"<sc:para xml:space="preserve">Click <sc:uLink role="resLnk" sc:refUri="/img/save.png"><sc:inlineImg role="ico" sc:refUri="/img/save.png"/></sc:uLink> then <sc:inlineStyle role="emp">confirm <sc:inlineStyle role="spec">OK</sc:inlineStyle></sc:inlineStyle>.</sc:para>"#,
    );
    assert_eq!(rendered(&xml), ["Click <g1><x2/></g1> then <g3>confirm <g4>OK</g4></g3>."]);
    identity(&xml);
    let out = merge_with(&xml, &["Cliquez <g1><x2/></g1> puis <g3>validez <g4>OK</g4></g3>."]);
    assert!(out.contains(r#"Cliquez <sc:uLink role="resLnk" sc:refUri="/img/save.png"><sc:inlineImg role="ico" sc:refUri="/img/save.png"/></sc:uLink> puis <sc:inlineStyle role="emp">validez <sc:inlineStyle role="spec">OK</sc:inlineStyle></sc:inlineStyle>."#));
}

#[test]
fn p8_text_that_looks_like_markup() {
    let xml = item(
        r#"<sc:para xml:space="preserve">Write &lt;TITLE&gt; then &lt;BODY&gt; on separate lines &amp; &quot;quote&quot;.</sc:para>"#,
    );
    let d = doc(&xml);
    assert_eq!(
        d.segments[0].content.plain_text(),
        "Write <TITLE> then <BODY> on separate lines & \"quote\"."
    );
    assert_eq!(
        d.segments[0].content.render(),
        "Write &lt;TITLE&gt; then &lt;BODY&gt; on separate lines &amp; \"quote\"."
    );
    identity(&xml);
    let out = merge_with(&xml, &["Écrivez &lt;TITRE&gt; puis &lt;CORPS&gt; &amp; \"cité\"."]);
    assert!(out.contains(
        r#"<sc:para xml:space="preserve">Écrivez &lt;TITRE&gt; puis &lt;CORPS&gt; &amp; "cité".</sc:para>"#
    ), "{out}");
}

#[test]
fn p9_plain_and_rich_titles_are_one_segment_each() {
    let xml = r#"<?xml version="1.0"?><sc:item xmlns:sc="http://www.utc.fr/ics/scenari/v3/core" xmlns:sp="http://www.utc.fr/ics/scenari/v3/primitive" xmlns:op="utc.fr:ics/opale3"><op:ue><op:uM><sp:title>Weather basics</sp:title></op:uM><op:uM><sp:title><op:title><sc:para xml:space="preserve">Weather basics</sc:para></op:title></sp:title></op:uM></op:ue></sc:item>"#.to_string();
    let d = doc(&xml);
    let fields: Vec<(&str, String)> =
        d.segments.iter().map(|s| (s.field.as_str(), s.content.render())).collect();
    assert_eq!(
        fields,
        [("sp:title", "Weather basics".to_string()), ("sc:para", "Weather basics".to_string())]
    );
    assert_eq!(d.segments[0].location, "test.xml › sp:title[1]");
    assert_eq!(d.segments[1].location, "test.xml › sc:para[1]");
    identity(&xml);
}

#[test]
fn quiz_scoring_kept_and_short_answer_translated() {
    let xml = r#"<?xml version="1.0" encoding="UTF-8"?>
<sc:item xmlns:sc="http://www.utc.fr/ics/scenari/v3/core">
	<op:mcqSur xmlns:op="utc.fr:ics/opale3" xmlns:sp="http://www.utc.fr/ics/scenari/v3/primitive">
		<op:exeM><sp:title>Capitals</sp:title></op:exeM>
		<sc:question><op:res><sp:txt><op:txt><sc:para xml:space="preserve">Which city is the capital?</sc:para></op:txt></sp:txt></op:res></sc:question>
		<sc:choices>
			<sc:choice><sc:choiceLabel><op:txt><sc:para xml:space="preserve">Paris</sc:para></op:txt></sc:choiceLabel></sc:choice>
			<sc:choice><sc:choiceLabel><op:txt><sc:para xml:space="preserve">Lyon</sc:para></op:txt></sc:choiceLabel><sc:choiceExplanation><op:txt><sc:para xml:space="preserve">No, it is not.</sc:para></op:txt></sc:choiceExplanation></sc:choice>
		</sc:choices>
		<sc:solution choice="1"/>
		<sp:asw><sc:SFSolution><sc:value>pécuniaire</sc:value></sc:SFSolution></sp:asw>
		<sc:globalExplanation><op:res><sp:txt><op:txt><sc:para xml:space="preserve">Paris is the capital.</sc:para></op:txt></sp:txt></op:res></sc:globalExplanation>
	</op:mcqSur>
</sc:item>"#;
    let d = doc(xml);
    let texts: Vec<String> = d.segments.iter().map(|s| s.content.render()).collect();
    assert_eq!(
        texts,
        [
            "Capitals",
            "Which city is the capital?",
            "Paris",
            "Lyon",
            "No, it is not.",
            "pécuniaire",
            "Paris is the capital."
        ]
    );
    // The short-answer value is a segment of its own, grouped (Q5, translated by default).
    assert_eq!(d.segments[5].field, "sc:value");
    assert_eq!(d.quiz.len(), 1);
    assert_eq!(d.quiz[0].terms, [(5, tradia_core::QuizRole::Answer)]);
    assert!(!d.report.kept.iter().any(|k| k.field == "sp:asw"));
    let pseudo: Vec<Content> = d.segments.iter().map(|s| pseudo_content(&s.content)).collect();
    let out = String::from_utf8(d.merge(&pseudo, &opts()).unwrap()).unwrap();
    assert_eq!(out.matches("<sc:choice>").count(), 2);
    assert!(out.contains(r#"<sc:solution choice="1"/>"#));
    let value = pseudo_content(&Content::text("pécuniaire")).plain_text();
    assert!(out.contains(&format!("<sc:value>{value}</sc:value>")), "{out}");
    assert!(out.contains("⟦Párís⟧"));
    identity(xml);
}

#[test]
fn quiz_answers_are_kept_on_request() {
    let xml = r#"<?xml version="1.0" encoding="UTF-8"?>
<sc:item xmlns:sc="http://www.utc.fr/ics/scenari/v3/core">
	<op:field xmlns:op="utc.fr:ics/opale3" xmlns:sp="http://www.utc.fr/ics/scenari/v3/primitive">
		<sc:question><op:res><sp:txt><op:txt><sc:para xml:space="preserve">Which adjective?</sc:para></op:txt></sp:txt></op:res></sc:question>
		<sp:asw><sc:SFSolution><sc:value>pécuniaire</sc:value></sc:SFSolution></sp:asw>
	</op:field>
</sc:item>"#;
    let keep = ExtractOptions { keep_quiz_answers: true, ..ExtractOptions::default() };
    let d = extract("test.quiz", xml.as_bytes(), &keep).unwrap();
    let texts: Vec<String> = d.segments.iter().map(|s| s.content.render()).collect();
    assert_eq!(texts, ["Which adjective?"]);
    assert!(d.quiz.is_empty());
    assert!(d.report.kept.iter().any(|k| k.field == "sp:asw"));
    let pseudo: Vec<Content> = d.segments.iter().map(|s| pseudo_content(&s.content)).collect();
    let out = String::from_utf8(d.merge(&pseudo, &opts()).unwrap()).unwrap();
    assert!(out.contains("<sc:value>pécuniaire</sc:value>"));
    assert_eq!(d.merge_identity(&opts()).unwrap(), xml.as_bytes());
}

#[test]
fn kept_and_unknown_fields_are_reported() {
    let xml = r#"<?xml version="1.0"?><sc:item xmlns:sc="http://www.utc.fr/ics/scenari/v3/core" xmlns:sp="http://www.utc.fr/ics/scenari/v3/primitive" xmlns:op="utc.fr:ics/opale3"><op:bib><op:bibM><sp:id>Smith2001</sp:id><sp:type>web</sp:type><sp:mystery>Some words</sp:mystery><sp:term>Wind shear</sp:term><sp:title>$$title$$</sp:title></op:bibM><sc:code mimeType="text/x-python" xml:space="preserve">print("hello world")</sc:code></op:bib></sc:item>"#;
    let d = doc(xml);
    let texts: Vec<String> = d.segments.iter().map(|s| s.content.render()).collect();
    assert_eq!(texts, ["Wind shear"]);
    assert_eq!(d.report.unknown_fields.get("sp:mystery"), Some(&1));
    let kept: Vec<(&str, &str)> =
        d.report.kept.iter().map(|k| (k.field.as_str(), k.reason.as_str())).collect();
    assert!(kept.contains(&("sp:id", "identifier")), "{kept:?}");
    assert!(kept.contains(&("sp:type", "option key")), "{kept:?}");
    assert!(kept.iter().any(|(f, _)| *f == "sc:code"), "{kept:?}");
    identity(xml);
}

#[test]
fn placeholders_inside_text_are_codes() {
    let xml = item(r#"<sc:para xml:space="preserve">Hello $$name$$, welcome.</sc:para>"#);
    assert_eq!(rendered(&xml), ["Hello <x1/>, welcome."]);
    let out = merge_with(&xml, &["Bonjour <x1/>, bienvenue."]);
    assert!(out.contains("Bonjour $$name$$, bienvenue."));
}

#[test]
fn empty_and_letterless_paragraphs_give_no_segment() {
    let xml = item(
        r#"<sc:para xml:space="preserve"></sc:para><sc:para/><sc:para xml:space="preserve">1013,25</sc:para><sc:para xml:space="preserve"><sc:inlineImg role="ico" sc:refUri="/a.png"/></sc:para>"#,
    );
    assert!(rendered(&xml).is_empty());
    identity(&xml);
}

#[test]
fn whitespace_entities_cdata_comments_and_pretty_printing_round_trip() {
    let xml = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<!-- c -->\n<?xml-stylesheet href=\"x\"?>\n<sc:item xmlns:sc=\"http://www.utc.fr/ics/scenari/v3/core\">\n\t<op:a xmlns:op=\"utc.fr:ics/opale3\" >\n\t\t<sc:para xml:space='preserve'> Lead &#233;t&#xE9; <![CDATA[a < b]]> trail\u{a0}: </sc:para >\n\t</op:a>\n</sc:item>";
    identity(xml);
    let d = doc(xml);
    assert_eq!(d.segments[0].content.plain_text(), " Lead été a < b trail\u{a0}: ");
    let pseudo: Vec<Content> = d.segments.iter().map(|s| pseudo_content(&s.content)).collect();
    let out = String::from_utf8(d.merge(&pseudo, &opts()).unwrap()).unwrap();
    assert!(
        out.contains("<sc:para xml:space='preserve'> ⟦Léád été á &lt; b tráíl\u{a0}:⟧ </sc:para >"),
        "{out}"
    );
    assert!(out.starts_with(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<!-- c -->\n<?xml-stylesheet href=\"x\"?>\n"
    ));
}

#[test]
fn meta_xml_resources_are_items() {
    let xml = r#"<?xml version="1.0"?><sfm:png xmlns:sfm="http://www.utc.fr/ics/scenari/v3/filemeta" xmlns:sp="http://www.utc.fr/ics/scenari/v3/primitive" xmlns:op="utc.fr:ics/opale3"><op:imgM><sp:title>A map</sp:title><sp:alt><sp:type>info</sp:type><sp:altTxt>Map of the airfield</sp:altTxt></sp:alt></op:imgM></sfm:png>"#;
    assert_eq!(tradia_formats::detect("meta.xml", xml.as_bytes()).unwrap(), Format::Scenari);
    assert_eq!(rendered(xml), ["A map", "Map of the airfield"]);
}

#[test]
fn latin1_items_are_written_back_in_latin1() {
    let text = "<?xml version=\"1.0\" encoding=\"ISO-8859-1\"?><sc:item xmlns:sc=\"http://www.utc.fr/ics/scenari/v3/core\"><sc:para>Caf\u{e9} cr\u{e8}me</sc:para></sc:item>";
    let (bytes, _, _) = encoding_rs::WINDOWS_1252.encode(text);
    let d = extract("x.xml", &bytes, &ExtractOptions::default()).unwrap();
    assert_eq!(d.segments[0].content.plain_text(), "Café crème");
    assert_eq!(d.merge_identity(&opts()).unwrap(), bytes.as_ref());
    let out = d.merge(&[Content::text("Thé noir ☕")], &opts()).unwrap();
    assert!(out.windows(3).any(|w| w == b"Th\xe9"));
    assert!(String::from_utf8_lossy(&out).contains("&#9749;"));
}

#[test]
fn no_xml_lang_is_added() {
    let xml = item(r#"<sc:para xml:space="preserve">Hello.</sc:para>"#);
    let d = doc(&xml);
    let ar = MergeOptions { target: LanguageTag::parse("ar").unwrap() };
    let out = d.merge(&[Content::text("مرحبا.")], &ar).unwrap();
    assert!(!String::from_utf8(out).unwrap().contains("xml:lang"));
}

fn err(bytes: &[u8]) -> FormatError {
    extract("bad.xml", bytes, &ExtractOptions::default()).unwrap_err()
}

#[test]
fn not_xml_is_unsupported_with_the_list_of_formats() {
    match tradia_formats::extract_as(
        Format::Scenari,
        "notes.txt",
        b"just some text",
        &ExtractOptions::default(),
    ) {
        Err(FormatError::Malformed { part, offset, .. }) => {
            assert_eq!((part.as_str(), offset), ("notes.txt", 0));
        }
        other => panic!("{other:?}"),
    }
    let e = err(b"\x00\x01\x02binary");
    assert_eq!(e.code(), "unsupported_format");
    assert!(e.to_string().contains("Scenari item"), "{e}");
}

#[test]
fn malformed_items_name_part_and_offset() {
    let xml = item(r#"<sc:para xml:space="preserve">oops</sc:inlineStyle></sc:para>"#);
    let at = xml.find("</sc:inlineStyle>").unwrap() as u64;
    match tradia_formats::extract_as(
        Format::Scenari,
        "bad.xml",
        xml.as_bytes(),
        &ExtractOptions::default(),
    ) {
        Err(FormatError::Malformed { part, offset, message }) => {
            assert_eq!(part, "bad.xml");
            assert_eq!(offset, at);
            assert!(message.contains("expected </sc:para>"), "{message}");
        }
        other => panic!("{other:?}"),
    }
    let truncated = &format!("{HEAD}<sc:para>cut");
    match tradia_formats::extract_as(
        Format::Scenari,
        "bad.xml",
        truncated.as_bytes(),
        &ExtractOptions::default(),
    ) {
        Err(FormatError::Malformed { offset, .. }) => assert_eq!(offset, truncated.len() as u64),
        other => panic!("{other:?}"),
    }
}

#[test]
fn doctype_and_entities_are_refused() {
    let laughs = r#"<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;">]><sc:item xmlns:sc="http://www.utc.fr/ics/scenari/v3/core"><sc:para>&lol2;</sc:para></sc:item>"#;
    let xxe = r#"<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]><sc:item xmlns:sc="http://www.utc.fr/ics/scenari/v3/core"><sc:para>&e;</sc:para></sc:item>"#;
    for input in [laughs, xxe] {
        match tradia_formats::extract_as(
            Format::Scenari,
            "evil.xml",
            input.as_bytes(),
            &ExtractOptions::default(),
        ) {
            Err(FormatError::Doctype { part }) => assert_eq!(part, "evil.xml"),
            other => panic!("{other:?}"),
        }
    }
    // An undefined entity without a DOCTYPE is malformed.
    let undefined = item("<sc:para>a &nbsp; b</sc:para>");
    let e = tradia_formats::extract_as(
        Format::Scenari,
        "u.xml",
        undefined.as_bytes(),
        &ExtractOptions::default(),
    )
    .unwrap_err();
    assert_eq!(e.code(), "malformed_document");
}

#[test]
fn wrong_translations_are_refused_not_merged() {
    let xml = item(
        r#"<sc:para xml:space="preserve">A <sc:inlineStyle role="emp">b</sc:inlineStyle>.</sc:para>"#,
    );
    let d = doc(&xml);
    let e = d.merge(&[Content::text("no codes")], &opts()).unwrap_err();
    assert_eq!(e.code(), "invalid_translation");
    let e = d.merge(&[], &opts()).unwrap_err();
    assert_eq!(e.code(), "translation_count_mismatch");
}

#[test]
fn broken_scenari_items_are_detected_and_reported_with_offsets() {
    match extract("broken.xml", b"<sc:item><oops></sc:item>", &ExtractOptions::default()) {
        Err(FormatError::Malformed { part, offset, message }) => {
            assert_eq!((part.as_str(), offset), ("broken.xml", 0));
            assert!(message.contains("unbound namespace prefix"), "{message}");
        }
        other => panic!("{other:?}"),
    }
    // Cut inside the root's start tag: the unterminated tag is where the item breaks.
    let cut = &item("<sc:para>x</sc:para>")[..150];
    match extract("cut.xml", cut.as_bytes(), &ExtractOptions::default()) {
        Err(FormatError::Malformed { part, offset, .. }) => {
            assert_eq!((part.as_str(), offset), ("cut.xml", 21));
        }
        other => panic!("{other:?}"),
    }
    // Cut after some content: the end of the input, where elements are still open.
    let cut = format!("{HEAD}<sc:para>x");
    match extract("cut.xml", cut.as_bytes(), &ExtractOptions::default()) {
        Err(FormatError::Malformed { offset, message, .. }) => {
            assert_eq!(offset, cut.len() as u64);
            assert!(message.contains("<sc:para> is not closed"), "{message}");
        }
        other => panic!("{other:?}"),
    }
}
