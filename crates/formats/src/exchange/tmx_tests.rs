use super::*;

fn c(text: &str) -> Content {
    Content::parse(text).unwrap()
}

/// The TMX 1.4b specification's example document (section "Example"), inline codes included:
/// `<bpt>`/`<ept>` pairs with native code, `<ph>` with native code, a header with `srclang`.
const SPEC_EXAMPLE: &str = r#"<?xml version="1.0"?>
<!DOCTYPE tmx SYSTEM "tmx14.dtd">
<tmx version="1.4">
 <header
  creationtool="XYZTool"
  creationtoolversion="1.01-023"
  datatype="PlainText"
  segtype="sentence"
  adminlang="en-us"
  srclang="EN"
  o-tmf="ABCTransMem"
  creationdate="20020101T163812Z"
  creationid="ThomasJ"
  changedate="20020413T023401Z"
  changeid="Amity"
  o-encoding="iso-8859-1">
  <note>This is a note at document level.</note>
  <prop type="RTFPreamble">{\rtf1\ansi\tag etc...{\fonttbl}</prop>
 </header>
 <body>
  <tu
   tuid="0001"
   datatype="Text"
   usagecount="2"
   lastusagedate="19970314T023401Z">
   <note>Text of a note at the TU level.</note>
   <prop type="x-Domain">Computing</prop>
   <tuv
    xml:lang="EN"
    creationdate="19970212T153400Z"
    creationid="BobW">
    <seg>data (with a non-standard character: &#xF8FF;).</seg>
   </tuv>
   <tuv
    xml:lang="FR-CA"
    creationdate="19970309T021145Z"
    creationid="BobW">
    <prop type="Origin">MT</prop>
    <seg>données (avec un caractère non standard: &#xF8FF;).</seg>
   </tuv>
  </tu>
  <tu creationdate="20020101T163812Z">
   <tuv xml:lang="EN">
    <seg>The <bpt i="1" x="1">&lt;B></bpt>black<ept i="1">&lt;/B></ept> cat eats a <ph x="2">&lt;IMG SRC="fish.gif"/></ph> fish.</seg>
   </tuv>
   <tuv xml:lang="FR-CA">
    <seg>Le chat <bpt i="1" x="1">&lt;B></bpt>noir<ept i="1">&lt;/B></ept> mange un <ph x="2">&lt;IMG SRC="fish.gif"/></ph> poisson.</seg>
   </tuv>
  </tu>
  <tu>
   <tuv xml:lang="EN"><seg>Elements <it pos="begin" x="1">&lt;B></it>isolated and <hi type="term">highlighted</hi>.</seg></tuv>
   <tuv xml:lang="FR-CA"><seg>Éléments <it pos="begin" x="1">&lt;B></it>isolés et <hi type="term">surlignés</hi>.</seg></tuv>
  </tu>
 </body>
</tmx>
"#;

#[test]
fn the_spec_example_is_read_with_its_codes() {
    let read = read_tmx(SPEC_EXAMPLE.as_bytes(), TmxLimits::default()).unwrap();
    assert_eq!(read.skipped, Vec::<String>::new());
    let e = &read.entries;
    assert_eq!(e.len(), 3);
    assert_eq!(e[0].source_lang.as_str().to_ascii_lowercase(), "en");
    assert_eq!(e[0].target_lang.as_str().to_ascii_lowercase(), "fr-ca");
    assert_eq!(e[0].source.render(), "data (with a non-standard character: \u{F8FF}).");
    assert_eq!(e[1].source, c("The <g1>black</g1> cat eats a <x2/> fish."));
    assert_eq!(e[1].target, c("Le chat <g1>noir</g1> mange un <x2/> poisson."));
    assert_eq!(e[1].creation_date.as_deref(), Some("20020101T163812Z"));
    assert_eq!(e[2].source, c("Elements <x1/>isolated and <g2>highlighted</g2>."));
    assert_eq!(e[2].target, c("Éléments <x1/>isolés et <g2>surlignés</g2>."));
}

#[test]
fn import_export_import_gives_the_same_entries() {
    let first = read_tmx(SPEC_EXAMPLE.as_bytes(), TmxLimits::default()).unwrap().entries;
    let written = write_tmx(&first, "0.1");
    let again = read_tmx(&written, TmxLimits::default()).unwrap();
    assert_eq!(again.skipped_count, 0);
    assert_eq!(again.entries, first);
    // Ids that do not start at 1 (a core cut from its edges) survive too.
    let odd = vec![TmxEntry {
        source_lang: "fr".parse().unwrap(),
        target_lang: "en".parse().unwrap(),
        source: c("Voir <g3>ceci</g3> et <x5/> &amp; &lt;cela&gt;."),
        target: c("See <g3>this</g3> and <x5/> &amp; &lt;that&gt;."),
        creation_date: None,
    }];
    assert_eq!(read_tmx(&write_tmx(&odd, "0.1"), TmxLimits::default()).unwrap().entries, odd);
}

#[test]
fn units_whose_codes_differ_are_skipped_with_a_reason() {
    let tmx = r#"<tmx version="1.4"><header srclang="fr"/><body>
      <tu><tuv xml:lang="fr"><seg>Un <ph x="1"/> deux</seg></tuv><tuv xml:lang="en"><seg>One two</seg></tuv></tu>
      <tu><tuv xml:lang="fr"><seg>Bon</seg></tuv><tuv xml:lang="en"><seg>Good</seg></tuv><tuv xml:lang="de"><seg>Gut</seg></tuv></tu>
      <tu><tuv xml:lang="en"><seg>No source here</seg></tuv></tu>
    </body></tmx>"#;
    let read = read_tmx(tmx.as_bytes(), TmxLimits::default()).unwrap();
    assert_eq!(read.entries.len(), 2, "one unit with two targets");
    assert_eq!(read.skipped_count, 2);
    assert!(read.skipped[0].contains("inline codes differ"), "{:?}", read.skipped);
    assert!(read.skipped[1].contains("source language"), "{:?}", read.skipped);
}

#[test]
fn malformed_or_dangerous_input_is_refused() {
    let refuse = |s: &str| read_tmx(s.as_bytes(), TmxLimits::default()).unwrap_err();
    assert!(matches!(refuse("<html/>"), TmxError::NotTmx(_)));
    assert!(matches!(refuse("<tmx><body><tu></tmx>"), TmxError::Xml(_)));
    let bomb = r#"<!DOCTYPE tmx [<!ENTITY a "aaaa">]><tmx version="1.4"><body/></tmx>"#;
    assert!(matches!(refuse(bomb), TmxError::NotTmx(_)));
    let small = TmxLimits { max_bytes: 10, ..TmxLimits::default() };
    assert!(matches!(read_tmx(SPEC_EXAMPLE.as_bytes(), small), Err(TmxError::TooLarge(_))));
}
