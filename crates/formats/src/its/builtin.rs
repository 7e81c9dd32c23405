//! Built-in ITS rule sets for common vocabularies, chosen by the root element.
//!
//! Each set is written as an ITS 2.0 rules document and read by the same code as rules found in
//! a document, so that what a built-in set does can be read (and tested) like any rule file. In
//! these sets unprefixed names are in the vocabulary's own namespace (the root's). Rules a
//! document carries apply after them, so a document can refine its vocabulary's defaults.

use super::rules::RuleSet;
use super::tree::Tree;

/// A vocabulary with its own handling.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Vocabulary {
    /// Any XML: ITS defaults (every element's text translatable, no attribute).
    Generic,
    /// SVG: `text`, `tspan`, `title`, `desc`.
    Svg,
    /// Android `res/values/strings.xml`.
    Android,
    /// .NET `.resx`.
    Resx,
    /// Qt Linguist `.ts`: `source` is translated into its `translation` (obsolete, vanished and
    /// plural messages kept).
    QtTs,
    /// DocBook 4 or 5.
    DocBook,
    /// DITA topics and maps.
    Dita,
}

impl Vocabulary {
    /// Printf-style and `{0}` placeholders in text are inline codes (message catalogues).
    pub fn placeholders(self) -> bool {
        matches!(self, Vocabulary::Android | Vocabulary::Resx | Vocabulary::QtTs)
    }

    /// The vocabulary of a document, by its root element.
    pub fn of(tree: &Tree) -> Vocabulary {
        let Some(root) = tree.elements.first() else { return Vocabulary::Generic };
        let ns = root.ns.as_deref().unwrap_or("");
        match (root.local(), ns) {
            ("svg", "http://www.w3.org/2000/svg" | "") => Vocabulary::Svg,
            ("resources", "") => Vocabulary::Android,
            ("root", "") if root.children.iter().any(|c| {
                matches!(c, super::tree::Child::Element(i) if tree.elements[*i].local() == "resheader")
            }) =>
            {
                Vocabulary::Resx
            }
            ("TS", "") => Vocabulary::QtTs,
            (_, "http://docbook.org/ns/docbook") => Vocabulary::DocBook,
            ("book" | "article" | "chapter" | "part" | "refentry", "") => Vocabulary::DocBook,
            ("topic" | "concept" | "task" | "reference" | "glossentry" | "map" | "bookmap", "") => {
                Vocabulary::Dita
            }
            _ => Vocabulary::Generic,
        }
    }

    /// The rule set, as an ITS rules document.
    fn rules_text(self) -> &'static str {
        match self {
            Vocabulary::Generic => "",
            Vocabulary::Svg => SVG,
            Vocabulary::Android => ANDROID,
            Vocabulary::Resx => RESX,
            Vocabulary::QtTs => QT_TS,
            Vocabulary::DocBook => DOCBOOK,
            Vocabulary::Dita => DITA,
        }
    }

    /// The built-in rules, with unprefixed names in `root_ns`.
    pub fn rules(self, root_ns: Option<&str>) -> RuleSet {
        let text = self.rules_text();
        if text.is_empty() {
            return RuleSet::default();
        }
        match Tree::parse("built-in ITS rules", text) {
            Ok(tree) => RuleSet::read(&tree, root_ns),
            // The texts are constants checked by a test; this cannot happen in a release.
            Err(e) => RuleSet { rules: Vec::new(), warnings: vec![e.to_string()] },
        }
    }
}

const SVG: &str = r#"<its:rules xmlns:its="http://www.w3.org/2005/11/its" version="2.0">
  <its:translateRule selector="//*" translate="no"/>
  <its:translateRule selector="//text | //text//* | //title | //desc" translate="yes"/>
  <its:withinTextRule selector="//tspan | //text//a | //textPath | //tref" withinText="yes"/>
</its:rules>"#;

const ANDROID: &str = r#"<its:rules xmlns:its="http://www.w3.org/2005/11/its" version="2.0"
    xmlns:xliff="urn:oasis:names:tc:xliff:document:1.2">
  <its:translateRule selector="/resources" translate="no"/>
  <its:translateRule selector="//string | //plurals/item | //string-array/item" translate="yes"/>
  <its:translateRule selector="//*[@translatable='false']" translate="no"/>
  <its:translateRule selector="//*[@translatable='false']//*" translate="no"/>
  <its:withinTextRule selector="//b | //i | //u | //a | //font | //annotation | //xliff:g | //big | //small | //sup | //sub" withinText="yes"/>
  <its:translateRule selector="//xliff:g" translate="no"/>
  <its:locNoteRule selector="//xliff:g" locNotePointer="@example"/>
</its:rules>"#;

const RESX: &str = r#"<its:rules xmlns:its="http://www.w3.org/2005/11/its" version="2.0">
  <its:translateRule selector="/root" translate="no"/>
  <its:translateRule selector="//data[not(@type) and not(@mimetype)]/value" translate="yes"/>
  <its:translateRule selector="//data[starts-with(@name,'&gt;&gt;')]/value" translate="no"/>
  <its:preserveSpaceRule selector="//data" space="preserve"/>
  <its:locNoteRule selector="//data/value" locNotePointer="../comment"/>
</its:rules>"#;

const QT_TS: &str = r#"<its:rules xmlns:its="http://www.w3.org/2005/11/its" version="2.0">
  <its:translateRule selector="/TS" translate="no"/>
  <its:translateRule selector="//message[not(@numerus='yes')]/source" translate="yes"/>
  <its:translateRule selector="//message[translation[@type='obsolete' or @type='vanished']]/source" translate="no"/>
  <its:preserveSpaceRule selector="//source" space="preserve"/>
  <its:locNoteRule selector="//message/source" locNotePointer="../extracomment"/>
</its:rules>"#;

const DOCBOOK: &str = r#"<its:rules xmlns:its="http://www.w3.org/2005/11/its" version="2.0">
  <its:translateRule selector="//programlisting | //screen | //literal | //code | //command | //filename | //computeroutput | //userinput | //systemitem | //envar | //varname | //function | //classname | //methodname | //parameter | //replaceable | //option | //uri | //email | //info/date | //releaseinfo | //address" translate="no"/>
  <its:withinTextRule selector="//emphasis | //link | //ulink | //xref | //olink | //literal | //code | //command | //filename | //computeroutput | //userinput | //systemitem | //envar | //varname | //function | //classname | //methodname | //parameter | //replaceable | //option | //uri | //email | //phrase | //quote | //citetitle | //firstterm | //glossterm | //acronym | //abbrev | //guilabel | //guibutton | //guimenu | //guimenuitem | //guisubmenu | //keycap | //keycombo | //menuchoice | //trademark | //productname | //superscript | //subscript | //inlinemediaobject | //citation | //foreignphrase | //wordasword | //application | //package" withinText="yes"/>
  <its:withinTextRule selector="//footnote | //indexterm | //remark" withinText="nested"/>
  <its:preserveSpaceRule selector="//programlisting | //screen | //literallayout | //synopsis" space="preserve"/>
</its:rules>"#;

const DITA: &str = r#"<its:rules xmlns:its="http://www.w3.org/2005/11/its" version="2.0">
  <its:translateRule selector="//codeblock | //codeph | //filepath | //cmdname | //varname | //apiname | //parmname | //userinput | //systemoutput | //msgnum | //draft-comment | //required-cleanup | //prolog" translate="no"/>
  <its:translateRule selector="//*[@translate='no']" translate="no"/>
  <its:translateRule selector="//*[@translate='yes']" translate="yes"/>
  <its:translateRule selector="//topicref/@navtitle | //*/@alt" translate="yes"/>
  <its:withinTextRule selector="//b | //i | //u | //ph | //codeph | //keyword | //term | //xref | //uicontrol | //wintitle | //menucascade | //filepath | //cmdname | //varname | //apiname | //option | //parmname | //q | //tm | //sup | //sub | //image | //userinput | //systemoutput | //cite | //abbreviated-form | //line-through | //overline | //tt" withinText="yes"/>
  <its:withinTextRule selector="//fn | //indexterm | //draft-comment" withinText="nested"/>
  <its:preserveSpaceRule selector="//codeblock | //pre | //lines | //msgblock | //screen" space="preserve"/>
</its:rules>"#;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_built_in_rule_set_reads_without_a_warning() {
        for vocabulary in [
            Vocabulary::Svg,
            Vocabulary::Android,
            Vocabulary::Resx,
            Vocabulary::QtTs,
            Vocabulary::DocBook,
            Vocabulary::Dita,
        ] {
            let set = vocabulary.rules(None);
            assert!(set.warnings.is_empty(), "{vocabulary:?}: {:?}", set.warnings);
            assert!(set.rules.len() >= 3, "{vocabulary:?}");
        }
    }
}
