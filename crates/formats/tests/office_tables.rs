//! Excel tables: header cells translated together with the table definitions' column names,
//! and kept (and reported) where structured references or pivot caches use them.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io::{Cursor, Read, Write};

use tradia_core::{Content, LanguageTag};
use tradia_formats::{Document, ExtractOptions, MergeOptions, extract};
use zip::write::SimpleFileOptions;

const S: &str = "http://schemas.openxmlformats.org/spreadsheetml/2006/main";
const CT_SHEET: &str = "application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml";
const CT_TABLE: &str = "application/vnd.openxmlformats-officedocument.spreadsheetml.table+xml";

fn zip_of(entries: &[(&str, String)]) -> Vec<u8> {
    let mut w = zip::ZipWriter::new(Cursor::new(Vec::new()));
    for (name, data) in entries {
        w.start_file(*name, SimpleFileOptions::default()).unwrap();
        w.write_all(data.as_bytes()).unwrap();
    }
    w.finish().unwrap().into_inner()
}

fn read_entry(bytes: &[u8], name: &str) -> String {
    let mut a = zip::ZipArchive::new(Cursor::new(bytes)).unwrap();
    let mut s = String::new();
    a.by_name(name).unwrap().read_to_string(&mut s).unwrap();
    s
}

fn table(name: &str, columns: &[&str], extra: &str) -> String {
    let cols: String = columns
        .iter()
        .enumerate()
        .map(|(i, c)| format!(r#"<tableColumn id="{}" name="{c}"/>"#, i + 1))
        .collect();
    format!(
        r#"<table xmlns="{S}" id="1" name="{name}" displayName="{name}" ref="A1:B3"><autoFilter ref="A1:B3"/><tableColumns count="{}">{cols}</tableColumns>{extra}</table>"#,
        columns.len()
    )
}

/// A workbook with one sheet whose first row holds the headers `Ville`, `Population` (shared
/// strings 0 and 1) of table `Villes`, `formula` in C1, and a second table `tableb`.
fn xlsx(formula: &str, table_a_extra: &str, table_b: &str) -> Vec<u8> {
    let wb = format!(
        r#"<workbook xmlns="{S}" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"><sheets><sheet name="Feuil1" sheetId="1" r:id="rId1"/></sheets></workbook>"#
    );
    let sst = format!(
        r#"<sst xmlns="{S}" count="4" uniqueCount="4"><si><t>Ville</t></si><si><t>Population</t></si><si><t>Code</t></si><si><t>Région</t></si></sst>"#
    );
    let sheet = format!(
        r#"<worksheet xmlns="{S}"><sheetData><row r="1"><c r="A1" t="s"><v>0</v></c><c r="B1" t="s"><v>1</v></c><c r="C1"><f>{formula}</f><v>0</v></c></row></sheetData></worksheet>"#
    );
    let ct = format!(
        r#"<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default Extension="xml" ContentType="application/xml"/><Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/><Override PartName="/xl/sharedStrings.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/><Override PartName="/xl/worksheets/sheet1.xml" ContentType="{CT_SHEET}"/><Override PartName="/xl/tables/table1.xml" ContentType="{CT_TABLE}"/><Override PartName="/xl/tables/table2.xml" ContentType="{CT_TABLE}"/></Types>"#
    );
    zip_of(&[
        ("[Content_Types].xml", ct),
        ("xl/workbook.xml", wb),
        ("xl/sharedStrings.xml", sst),
        ("xl/worksheets/sheet1.xml", sheet),
        ("xl/tables/table1.xml", table("Villes", &["Ville", "Population"], table_a_extra)),
        ("xl/tables/table2.xml", table_b.to_string()),
    ])
}

fn open(bytes: &[u8]) -> Document {
    extract("t.xlsx", bytes, &ExtractOptions::default()).unwrap()
}

fn texts(doc: &Document) -> Vec<String> {
    doc.segments.iter().map(|s| s.content.render()).collect()
}

/// Merges with `translate` applied to every segment's text.
fn merge(doc: &Document, translate: impl Fn(&str) -> String) -> Vec<u8> {
    let translations: Vec<Content> =
        doc.segments.iter().map(|s| Content::text(translate(&s.content.render()))).collect();
    let options = MergeOptions { target: LanguageTag::parse("en").unwrap() };
    doc.merge(&translations, &options).unwrap()
}

fn english(text: &str) -> String {
    match text {
        "Ville" => "City",
        "Population" => "Inhabitants",
        "Code" => "Zip code",
        "Région" => "Region",
        other => other,
    }
    .to_string()
}

#[test]
fn headers_and_column_names_are_translated_together() {
    let bytes = xlsx("1+1", "", &table("tableb", &["Code", "Région"], ""));
    let doc = open(&bytes);
    assert_eq!(texts(&doc), ["Feuil1", "Ville", "Population", "Code", "Région"]);
    assert!(
        doc.merge_identity(&MergeOptions { target: LanguageTag::parse("fr").unwrap() }).unwrap()
            == bytes
    );
    let out = merge(&doc, english);
    let sst = read_entry(&out, "xl/sharedStrings.xml");
    assert!(sst.contains("<si><t>City</t></si><si><t>Inhabitants</t></si>"), "{sst}");
    let t1 = read_entry(&out, "xl/tables/table1.xml");
    assert!(
        t1.contains(r#"<tableColumn id="1" name="City"/><tableColumn id="2" name="Inhabitants"/>"#),
        "{t1}"
    );
    let t2 = read_entry(&out, "xl/tables/table2.xml");
    assert!(t2.contains(r#"name="Zip code""#) && t2.contains(r#"name="Region""#), "{t2}");
}

#[test]
fn column_names_that_would_collide_keep_their_sources_with_their_headers() {
    let bytes = xlsx("1+1", "", &table("tableb", &["Code", "Région"], ""));
    let doc = open(&bytes);
    // Both columns of `Villes` translated to the same name: that table keeps its sources.
    let out =
        merge(&doc, |t| if t == "Ville" || t == "Population" { "Town".into() } else { english(t) });
    let sst = read_entry(&out, "xl/sharedStrings.xml");
    assert!(sst.contains("<si><t>Ville</t></si><si><t>Population</t></si>"), "{sst}");
    assert!(sst.contains("<si><t>Zip code</t></si><si><t>Region</t></si>"), "{sst}");
    let t1 = read_entry(&out, "xl/tables/table1.xml");
    assert!(t1.contains(r#"name="Ville""#) && t1.contains(r#"name="Population""#), "{t1}");
}

#[test]
fn tables_with_references_that_cannot_be_rewritten_are_kept_and_reported() {
    // A worksheet formula names table `Villes` (any case) in a way that cannot be read: its
    // headers are kept.
    let bytes = xlsx("SUM(villes[[Population])", "", &table("tableb", &["Code", "Région"], ""));
    let doc = open(&bytes);
    assert_eq!(texts(&doc), ["Feuil1", "Code", "Région"]);
    let kept: Vec<_> = doc.report.kept.iter().map(|k| (k.field.as_str(), &k.reason)).collect();
    assert!(
        kept.iter().any(|(f, r)| *f == "tableColumn" && r.contains("structured references")),
        "{kept:?}"
    );
    let out = merge(&doc, english);
    let t1 = read_entry(&out, "xl/tables/table1.xml");
    assert!(t1.contains(r#"name="Ville""#), "{t1}");
    let t2 = read_entry(&out, "xl/tables/table2.xml");
    assert!(t2.contains(r#"name="Zip code""#), "{t2}");

    // A calculated column formula in the table itself.
    let calc = r#"<calculatedColumnFormula>[@Population]*2</calculatedColumnFormula>"#;
    let bytes = xlsx("1+1", "", &table("tableb", &["Code", "Région"], calc));
    let doc = open(&bytes);
    assert_eq!(texts(&doc), ["Feuil1", "Ville", "Population"]);
    assert!(doc.report.kept.iter().any(|k| k.location.contains("table `tableb`")));

    // A defined name using the table.
    let bytes = xlsx_with_workbook_extra(
        r#"<definedNames><definedName name="total">SUM(Villes[Population])</definedName></definedNames>"#,
    );
    let doc = open(&bytes);
    assert_eq!(texts(&doc), ["Feuil1", "Code", "Région"]);
}

fn xlsx_with_workbook_extra(extra: &str) -> Vec<u8> {
    let bytes = xlsx("1+1", "", &table("tableb", &["Code", "Région"], ""));
    let mut a = zip::ZipArchive::new(Cursor::new(&bytes)).unwrap();
    let mut entries = Vec::new();
    for i in 0..a.len() {
        let mut f = a.by_index(i).unwrap();
        let mut text = String::new();
        f.read_to_string(&mut text).unwrap();
        let name = f.name().unwrap().to_string();
        if name == "xl/workbook.xml" {
            text = text.replace("</workbook>", &format!("{extra}</workbook>"));
        }
        entries.push((name, text));
    }
    let entries: Vec<(&str, String)> =
        entries.iter().map(|(n, t)| (n.as_str(), t.clone())).collect();
    zip_of(&entries)
}

#[test]
fn structured_references_follow_the_renamed_columns() {
    let calc =
        r#"<calculatedColumnFormula>Villes[[#This Row],[Population]]*2</calculatedColumnFormula>"#;
    let bytes = xlsx(
        "SUM(Villes[Population])&amp;\"Villes[Ville]\"",
        calc,
        &table("tableb", &["Code", "Région"], ""),
    );
    let doc = open(&bytes);
    assert_eq!(texts(&doc), ["Feuil1", "Ville", "Population", "Code", "Région"]);
    let fr = MergeOptions { target: LanguageTag::parse("fr").unwrap() };
    assert!(doc.merge_identity(&fr).unwrap() == bytes, "identity is byte-exact");
    let out = merge(&doc, english);
    let sheet = read_entry(&out, "xl/worksheets/sheet1.xml");
    assert!(
        sheet.contains(r#"<f>SUM(Villes[[Inhabitants]])&amp;"Villes[Ville]"</f>"#),
        "the reference is renamed, the string literal is not: {sheet}"
    );
    let t1 = read_entry(&out, "xl/tables/table1.xml");
    assert!(
        t1.contains(
            "<calculatedColumnFormula>Villes[[#This Row],[Inhabitants]]*2</calculatedColumnFormula>"
        ),
        "{t1}"
    );
    assert!(t1.contains(r#"name="Inhabitants""#), "{t1}");
    // A formula that cannot be read keeps its table's names.
    let bytes = xlsx("SUM(Villes[Inconnue])", "", &table("tableb", &["Code", "Région"], ""));
    assert_eq!(texts(&open(&bytes)), ["Feuil1", "Code", "Région"]);
}

/// `bytes` with one more part, typed in `[Content_Types].xml`.
fn with_part(bytes: &[u8], name: &str, content_type: &str, xml: &str) -> Vec<u8> {
    let mut a = zip::ZipArchive::new(Cursor::new(bytes)).unwrap();
    let mut entries = Vec::new();
    for i in 0..a.len() {
        let mut f = a.by_index(i).unwrap();
        let mut text = String::new();
        f.read_to_string(&mut text).unwrap();
        let entry = f.name().unwrap().to_string();
        if entry == "[Content_Types].xml" {
            text = text.replace(
                "</Types>",
                &format!(r#"<Override PartName="/{name}" ContentType="{content_type}"/></Types>"#),
            );
        }
        entries.push((entry, text));
    }
    entries.push((name.to_string(), xml.to_string()));
    let entries: Vec<(&str, String)> =
        entries.iter().map(|(n, t)| (n.as_str(), t.clone())).collect();
    zip_of(&entries)
}

#[test]
fn pivot_cache_field_names_are_kept_and_reported() {
    let bytes = xlsx("1+1", "", &table("tableb", &["Code", "Région"], ""));
    let pivot = format!(
        r#"<pivotCacheDefinition xmlns="{S}"><cacheSource type="worksheet"><worksheetSource name="Villes"/></cacheSource><cacheFields count="1"><cacheField name="Ville" numFmtId="0"/></cacheFields></pivotCacheDefinition>"#
    );
    let bytes = with_part(
        &bytes,
        "xl/pivotCache/pivotCacheDefinition1.xml",
        "application/vnd.openxmlformats-officedocument.spreadsheetml.pivotCacheDefinition+xml",
        &pivot,
    );
    let doc = open(&bytes);
    // `Ville` names a pivot field: kept, in the cell and the table; `Population` is renamed.
    assert_eq!(texts(&doc), ["Feuil1", "Population", "Code", "Région"]);
    assert!(
        doc.report
            .kept
            .iter()
            .any(|k| k.location.contains("`Ville`") && k.reason.contains("pivot"))
    );
    let out = merge(&doc, english);
    let t1 = read_entry(&out, "xl/tables/table1.xml");
    assert!(t1.contains(r#"name="Ville""#) && t1.contains(r#"name="Inhabitants""#), "{t1}");
    assert!(read_entry(&out, "xl/pivotCache/pivotCacheDefinition1.xml") == pivot);
}
