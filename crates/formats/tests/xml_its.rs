//! The generic XML filter (ITS 2.0 rules, built-in vocabularies) on documents built here:
//! identity is byte-exact, a pseudo translation changes text only (checked with roxmltree, an
//! independent parser), and what the rules select is what is translated.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use tradia_core::pseudo::pseudo_content;
use tradia_core::{Content, LanguageTag};
use tradia_formats::{Document, ExtractOptions, Format, MergeOptions, detect, extract};

fn fr() -> MergeOptions {
    MergeOptions { target: LanguageTag::parse("fr").unwrap() }
}

fn texts(d: &Document) -> Vec<String> {
    d.segments.iter().map(|s| s.content.render()).collect()
}

/// Extracts `src` as `name`, checks identity, merges the pseudo translation and checks that the
/// output has the same elements and attributes (except `changed_attrs`); returns the output.
fn round_trip(name: &str, src: &str, changed_attrs: &[&str]) -> (Document, String) {
    round_trip_to(name, src, changed_attrs, &fr())
}

fn round_trip_to(
    name: &str,
    src: &str,
    changed_attrs: &[&str],
    target: &MergeOptions,
) -> (Document, String) {
    let d = extract(name, src.as_bytes(), &ExtractOptions::default()).unwrap();
    assert_eq!(d.merge_identity(target).unwrap(), src.as_bytes(), "{name}: identity");
    let pseudo: Vec<Content> = d.segments.iter().map(|s| pseudo_content(&s.content)).collect();
    let out = String::from_utf8(d.merge(&pseudo, target).unwrap()).unwrap();
    same_structure(src, &out, changed_attrs);
    (d, out)
}

fn same_structure(a: &str, b: &str, changed_attrs: &[&str]) {
    let a = roxmltree::Document::parse(a).unwrap();
    let b = roxmltree::Document::parse(b).unwrap_or_else(|e| panic!("output: {e}\n{b}"));
    let ea: Vec<_> = a.descendants().filter(|n| n.is_element()).collect();
    let eb: Vec<_> = b.descendants().filter(|n| n.is_element()).collect();
    assert_eq!(ea.len(), eb.len(), "element count");
    for (x, y) in ea.iter().zip(&eb) {
        assert_eq!(x.tag_name(), y.tag_name());
        let attrs = |n: &roxmltree::Node| -> Vec<(String, String)> {
            n.attributes()
                .filter(|at| !changed_attrs.contains(&at.name()))
                .map(|at| (at.name().to_string(), at.value().to_string()))
                .collect()
        };
        assert_eq!(attrs(x), attrs(y), "attributes of <{}>", x.tag_name().name());
    }
}

#[test]
fn svg_text_title_and_desc_are_translated_and_nothing_else() {
    let src = r#"<?xml version="1.0" encoding="UTF-8"?>
<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink" width="200">
  <title>Sales chart</title>
  <desc>Yearly sales by region</desc>
  <style>.label { font-family: Arial; }</style>
  <metadata><rdf>Author name</rdf></metadata>
  <g id="layer"><text x="10" y="20">Total <tspan font-weight="bold">sales</tspan> per year</text></g>
  <script>alert("no")</script>
</svg>
"#;
    assert_eq!(detect("chart.svg", src.as_bytes()).unwrap(), Format::Xml);
    let (d, out) = round_trip("chart.svg", src, &[]);
    assert_eq!(
        texts(&d),
        ["Sales chart", "Yearly sales by region", "Total <g1>sales</g1> per year"]
    );
    assert!(out.contains("<tspan font-weight=\"bold\">"), "{out}");
    assert!(out.contains(".label { font-family: Arial; }") && out.contains("Author name"));
    assert!(out.contains("alert(\"no\")"), "{out}");
}

#[test]
fn generic_xml_follows_the_its_defaults_and_local_markup() {
    let src = r#"<catalog xmlns:its="http://www.w3.org/2005/11/its" its:version="2.0">
  <book id="b1">
    <title>The quick fox</title>
    <code its:translate="no">FX-1 model</code>
    <blurb xml:space="preserve">Two
   lines</blurb>
    <summary>A  story
      of foxes <em its:withinText="yes">and</em> hounds &amp;
      cats.</summary>
  </book>
</catalog>
"#;
    assert_eq!(detect("books.xml", src.as_bytes()).unwrap(), Format::Xml);
    let (d, _) = round_trip("books.xml", src, &[]);
    assert_eq!(
        texts(&d),
        ["The quick fox", "Two\n   lines", "A story of foxes <g1>and</g1> hounds &amp; cats."]
    );
}

#[test]
fn global_rules_select_elements_attributes_inline_and_notes() {
    let src = r#"<doc xmlns:its="http://www.w3.org/2005/11/its">
  <its:rules version="2.0">
    <its:translateRule selector="//meta" translate="no"/>
    <its:translateRule selector="//img/@alt" translate="yes"/>
    <its:withinTextRule selector="//b | //img" withinText="yes"/>
    <its:withinTextRule selector="//fn" withinText="nested"/>
    <its:locNoteRule selector="//p[@role='button']" locNotePointer="@hint"/>
    <its:locNoteRule selector="//heading">
      <its:locNote>A page heading, keep it short</its:locNote>
    </its:locNoteRule>
    <its:preserveSpaceRule selector="//pre" space="preserve"/>
    <its:termRule selector="//term" term="yes"/>
  </its:rules>
  <meta>Internal build 42</meta>
  <heading>Welcome home</heading>
  <p role="button" hint="label of the OK button">Press <b>OK</b> now <img src="a.png" alt="an arrow"/>.</p>
  <p>Text<fn>A footnote here</fn> goes on.</p>
  <pre>keep
  this</pre>
</doc>
"#;
    let (d, out) = round_trip("rules.xml", src, &["alt"]);
    assert_eq!(
        texts(&d),
        [
            "Welcome home",
            "an arrow",
            "Press <g1>OK</g1> now <x2/>.",
            "A footnote here",
            "Text<x1/> goes on.",
            "keep\n  this"
        ]
    );
    assert!(out.contains("Internal build 42"), "{out}");
    assert!(
        out.contains("alt=\"⟦"),
        "the alt attribute inside the inline img is translated: {out}"
    );
    assert!(out.contains("<fn>⟦"), "the nested footnote is translated inside its parent: {out}");
    assert_eq!(d.report.notes.get(&0).map(String::as_str), Some("A page heading, keep it short"));
    assert_eq!(d.report.notes.get(&2).map(String::as_str), Some("label of the OK button"));
    assert!(d.report.warnings.iter().any(|w| w.contains("termRule")), "{:?}", d.report.warnings);
}

#[test]
fn a_selector_outside_the_subset_is_ignored_with_a_warning() {
    let src = r#"<doc xmlns:its="http://www.w3.org/2005/11/its"><its:rules version="2.0"><its:translateRule selector="//p[position()=1]" translate="no"/></its:rules><p>Hello there</p></doc>"#;
    let d = extract("w.xml", src.as_bytes(), &ExtractOptions::default()).unwrap();
    assert_eq!(texts(&d), ["Hello there"]);
    assert!(
        d.report.warnings.iter().any(|w| w.contains("XPath subset")),
        "{:?}",
        d.report.warnings
    );
}

#[test]
fn an_android_comment_just_before_a_resource_is_its_note() {
    let src = r#"<?xml version="1.0" encoding="utf-8"?>
<resources>
    <!-- Title of the main screen -->
    <string name="title">Home page</string>
    <string name="plain">No comment here</string>
    <!-- Not about the next string -->
    <color name="red">#f00</color>
    <string name="after_color">Still no comment</string>
    <!-- Songs found by the search -->
    <plurals name="songs">
        <item quantity="one">%d song found</item>
        <item quantity="other">%d songs found</item>
    </plurals>
</resources>
"#;
    // Into English, whose plurals need no new item.
    let english = MergeOptions { target: LanguageTag::parse("en").unwrap() };
    let (d, _) = round_trip_to("strings.xml", src, &[], &english);
    let notes: Vec<Option<&str>> =
        (0..d.segments.len() as u32).map(|i| d.report.notes.get(&i).map(String::as_str)).collect();
    assert_eq!(
        notes,
        [
            Some("Title of the main screen"),
            None,
            None,
            Some("Songs found by the search"),
            Some("Songs found by the search"),
        ]
    );
}

#[test]
fn android_strings_keep_untranslatables_placeholders_and_escapes() {
    let src = r#"<?xml version="1.0" encoding="utf-8"?>
<resources xmlns:xliff="urn:oasis:names:tc:xliff:document:1.2" xmlns:tools="http://schemas.android.com/tools">
    <string name="app_name" translatable="false">Acme</string>
    <string name="welcome">Welcome, %1$s! You have %2$d new messages.</string>
    <string name="dont">Don\'t <b>stop</b> now</string>
    <string name="count">Downloaded <xliff:g id="count" example="3">%d</xliff:g> files</string>
    <plurals name="songs">
        <item quantity="one">%d song found</item>
        <item quantity="other">%d songs found</item>
    </plurals>
    <string-array name="planets"><item>Mercury planet</item><item>Venus planet</item></string-array>
    <color name="red">#f00</color>
    <integer name="max">5</integer>
    <string name="ref">@string/app_name</string>
</resources>
"#;
    // Into English: the plurals' `one` and `other` are all the target needs.
    let english = MergeOptions { target: LanguageTag::parse("en").unwrap() };
    let (d, out) = round_trip_to("strings.xml", src, &[], &english);
    assert_eq!(
        texts(&d),
        [
            "Welcome, <x1/>! You have <x2/> new messages.",
            "Don't <g1>stop</g1> now",
            "Downloaded <x1/> files",
            "<x1/> song found",
            "<x1/> songs found",
            "Mercury planet",
            "Venus planet",
        ]
    );
    assert!(out.contains(">Acme</string>"), "{out}");
    assert!(out.contains("\\'"), "apostrophes are escaped again: {out}");
    assert!(
        out.contains("%1$s") && out.contains("<xliff:g id=\"count\" example=\"3\">%d</xliff:g>")
    );
    let t = Content::parse("Ne t'arrête pas <g1>là</g1>").unwrap();
    let mut all: Vec<Content> = d.segments.iter().map(|s| s.content.clone()).collect();
    all[1] = t;
    let out = String::from_utf8(d.merge(&all, &fr()).unwrap()).unwrap();
    assert!(out.contains("<string name=\"dont\">Ne t\\'arrête pas <b>là</b></string>"), "{out}");
    assert_eq!(d.report.notes.get(&2), None, "the xliff:g example is a note of a kept code only");
    // Into Arabic, the plurals get the four categories English lacks, from the `other` item.
    let pseudo: Vec<Content> = d.segments.iter().map(|s| pseudo_content(&s.content)).collect();
    let arabic = MergeOptions { target: LanguageTag::parse("ar").unwrap() };
    let out = String::from_utf8(d.merge(&pseudo, &arabic).unwrap()).unwrap();
    let doc = roxmltree::Document::parse(&out).unwrap();
    let plurals = doc.descendants().find(|n| n.has_tag_name("plurals")).unwrap();
    let quantities: Vec<&str> = plurals
        .children()
        .filter(|n| n.has_tag_name("item"))
        .map(|n| n.attribute("quantity").unwrap())
        .collect();
    assert_eq!(quantities, ["one", "other", "zero", "two", "few", "many"]);
    let other = plurals.children().find(|n| n.attribute("quantity") == Some("other")).unwrap();
    let many = plurals.children().find(|n| n.attribute("quantity") == Some("many")).unwrap();
    assert_eq!(many.text(), other.text());
    assert!(out.contains("fóúñd⟧</item>\n        <item quantity=\"zero\">%d ⟦"), "{out}");
    // Into Japanese (only `other`), nothing is added; the identity merge adds nothing either.
    let japanese = MergeOptions { target: LanguageTag::parse("ja").unwrap() };
    let out = String::from_utf8(d.merge(&pseudo, &japanese).unwrap()).unwrap();
    assert_eq!(out.matches("<item quantity=").count(), 2);
    assert_eq!(d.merge_identity(&arabic).unwrap(), src.as_bytes());
}

#[test]
fn resx_values_are_translated_with_their_comments_as_notes() {
    let src = r#"<?xml version="1.0" encoding="utf-8"?>
<root>
  <xsd:schema id="root" xmlns="" xmlns:xsd="http://www.w3.org/2001/XMLSchema"><xsd:element name="root"/></xsd:schema>
  <resheader name="resmimetype"><value>text/microsoft-resx</value></resheader>
  <data name="Greeting" xml:space="preserve">
    <value>Hello {0}, welcome back</value>
    <comment>Shown on the start page</comment>
  </data>
  <data name="Icon" type="System.Drawing.Bitmap, System.Drawing" mimetype="application/x-microsoft.net.object.bytearray.base64"><value>AAEAAAD/////</value></data>
  <data name="&gt;&gt;button1.Name" xml:space="preserve"><value>button one</value></data>
</root>
"#;
    let (d, _) = round_trip("Strings.resx", src, &[]);
    assert_eq!(texts(&d), ["Hello <x1/>, welcome back"]);
    assert_eq!(d.report.notes.get(&0).map(String::as_str), Some("Shown on the start page"));
}

#[test]
fn qt_sources_are_translated_into_their_translations() {
    let src = r#"<?xml version="1.0" encoding="utf-8"?>
<TS version="2.1" language="fr_FR">
<context>
    <name>MainWindow</name>
    <message>
        <location filename="main.cpp" line="12"/>
        <source>Open %1 files</source>
        <extracomment>Menu entry</extracomment>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Quit the application</source>
        <translation type="unfinished"/>
    </message>
    <message>
        <source>An old message</source>
        <translation type="vanished">Un vieux message</translation>
    </message>
    <message numerus="yes">
        <source>%n item(s)</source>
        <translation type="unfinished"><numerusform></numerusform></translation>
    </message>
</context>
</TS>
"#;
    let (d, out) = round_trip("app_fr.ts", src, &[]);
    assert_eq!(texts(&d), ["Open <x1/> files", "Quit the application"]);
    assert!(out.contains("<source>Open %1 files</source>"), "the source stays: {out}");
    assert!(
        out.contains("<translation type=\"unfinished\">⟦Ópéñ⟧ %1 ⟦fílés⟧</translation>"),
        "{out}"
    );
    assert!(out.contains("<translation type=\"unfinished\">⟦Qúít"), "{out}");
    assert_eq!(d.report.notes.get(&0).map(String::as_str), Some("Menu entry"));
}

#[test]
fn docbook_and_dita_keep_code_and_nest_footnotes() {
    let docbook = r#"<article xmlns="http://docbook.org/ns/docbook" version="5.0">
  <title>Getting started</title>
  <para>Run <command>make install</command> as <emphasis>root</emphasis>.<footnote><para>Or use sudo.</para></footnote></para>
  <programlisting>make
  install</programlisting>
</article>
"#;
    let (d, out) = round_trip("guide.xml", docbook, &[]);
    assert_eq!(texts(&d), ["Getting started", "Or use sudo.", "Run <x1/> as <g2>root</g2>.<x3/>"]);
    assert!(out.contains("<command>make install</command>"), "{out}");
    let dita = r#"<topic id="t1"><title>Install the <keyword>tool</keyword></title><body><p>Type <codeph>tool -h</codeph> for help.</p><p translate="no">ACME Inc.</p><codeblock>tool --all</codeblock></body></topic>"#;
    let (d, out) = round_trip("install.dita", dita, &[]);
    assert_eq!(texts(&d), ["Install the <g1>tool</g1>", "Type <x1/> for help."]);
    assert!(out.contains("<codeblock>tool --all</codeblock>") && out.contains(">ACME Inc.</p>"));
}
