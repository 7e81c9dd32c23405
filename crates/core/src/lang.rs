//! Language tags (BCP 47) and what Tradia knows about each language.
//!
//! Users type `FR`, `en-us` or `pt_BR`; everything inside Tradia sees one canonical form
//! (`fr`, `en-US`, `pt-BR`). The table of known languages gives prompts a spelled-out name (models
//! translate better into "Brazilian Portuguese" than into "pt-BR") and the interface a native name
//! and a writing direction.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// A syntactically valid, case-normalised BCP 47 language tag.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct LanguageTag(String);

/// Why a string is not a usable language tag.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{0}` is not a language code (expected a BCP 47 tag such as fr, en, ar or pt-BR)")]
pub struct InvalidLanguage(pub String);

impl LanguageTag {
    /// Parses and normalises a tag: `EN-us` → `en-US`, `zh_hant_tw` → `zh-Hant-TW`.
    pub fn parse(input: &str) -> Result<Self, InvalidLanguage> {
        let bad = || InvalidLanguage(input.to_string());
        let trimmed = input.trim();
        if trimmed.is_empty() || trimmed.len() > 35 {
            return Err(bad());
        }
        let mut out = String::new();
        for (i, sub) in trimmed.split(['-', '_']).enumerate() {
            if sub.is_empty() || sub.len() > 8 || !sub.chars().all(|c| c.is_ascii_alphanumeric()) {
                return Err(bad());
            }
            if i == 0 {
                if !(2..=3).contains(&sub.len()) || !sub.chars().all(|c| c.is_ascii_alphabetic()) {
                    return Err(bad());
                }
                out.push_str(&sub.to_ascii_lowercase());
                continue;
            }
            out.push('-');
            if sub.len() == 4 && sub.chars().all(|c| c.is_ascii_alphabetic()) {
                // Script subtag: title case.
                let lower = sub.to_ascii_lowercase();
                let mut chars = lower.chars();
                if let Some(first) = chars.next() {
                    out.push(first.to_ascii_uppercase());
                    out.push_str(chars.as_str());
                }
            } else if (sub.len() == 2 && sub.chars().all(|c| c.is_ascii_alphabetic()))
                || (sub.len() == 3 && sub.chars().all(|c| c.is_ascii_digit()))
            {
                out.push_str(&sub.to_ascii_uppercase());
            } else {
                out.push_str(&sub.to_ascii_lowercase());
            }
        }
        Ok(LanguageTag(out))
    }

    /// The canonical tag.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The primary language subtag (`pt` for `pt-BR`).
    pub fn primary(&self) -> &str {
        self.0.split('-').next().unwrap_or(&self.0)
    }

    /// What Tradia knows about this language: the exact tag if listed, else its primary language.
    pub fn info(&self) -> Option<&'static LanguageInfo> {
        LANGUAGES
            .iter()
            .find(|l| l.code.eq_ignore_ascii_case(&self.0))
            .or_else(|| LANGUAGES.iter().find(|l| l.code == self.primary()))
    }

    /// English name for prompts (`Brazilian Portuguese`), or the tag itself when unknown.
    pub fn english_name(&self) -> String {
        match self.info() {
            Some(info) if info.code.eq_ignore_ascii_case(&self.0) => info.english.to_string(),
            Some(info) => format!("{} ({})", info.english, self.0),
            None => self.0.clone(),
        }
    }

    /// True for languages written right to left (by language or by script subtag).
    pub fn is_rtl(&self) -> bool {
        let script_rtl = self
            .0
            .split('-')
            .skip(1)
            .any(|s| matches!(s, "Arab" | "Hebr" | "Syrc" | "Thaa" | "Nkoo" | "Adlm" | "Rohg"));
        let script_ltr = self.0.split('-').skip(1).any(|s| matches!(s, "Latn" | "Cyrl"));
        script_rtl || (!script_ltr && self.info().is_some_and(|i| i.rtl))
    }

    /// True when both tags name the same language (primary subtags equal).
    pub fn same_language(&self, other: &LanguageTag) -> bool {
        self.primary() == other.primary()
    }
}

impl FromStr for LanguageTag {
    type Err = InvalidLanguage;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        LanguageTag::parse(s)
    }
}

impl fmt::Display for LanguageTag {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl Serialize for LanguageTag {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for LanguageTag {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        LanguageTag::parse(&s).map_err(serde::de::Error::custom)
    }
}

/// A language Tradia lists in its interface.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct LanguageInfo {
    /// Canonical BCP 47 tag.
    pub code: &'static str,
    /// English name (used in prompts).
    pub english: &'static str,
    /// Name in the language itself (used in the interface).
    pub native: &'static str,
    /// Written right to left.
    pub rtl: bool,
}

const fn lang(
    code: &'static str,
    english: &'static str,
    native: &'static str,
    rtl: bool,
) -> LanguageInfo {
    LanguageInfo { code, english, native, rtl }
}

/// Languages listed by the interface, French, English and Arabic first.
pub static LANGUAGES: &[LanguageInfo] = &[
    lang("fr", "French", "Français", false),
    lang("en", "English", "English", false),
    lang("ar", "Arabic", "العربية", true),
    lang("de", "German", "Deutsch", false),
    lang("es", "Spanish", "Español", false),
    lang("it", "Italian", "Italiano", false),
    lang("pt", "Portuguese", "Português", false),
    lang("pt-BR", "Brazilian Portuguese", "Português do Brasil", false),
    lang("nl", "Dutch", "Nederlands", false),
    lang("ca", "Catalan", "Català", false),
    lang("eu", "Basque", "Euskara", false),
    lang("br", "Breton", "Brezhoneg", false),
    lang("oc", "Occitan", "Occitan", false),
    lang("co", "Corsican", "Corsu", false),
    lang("ro", "Romanian", "Română", false),
    lang("pl", "Polish", "Polski", false),
    lang("cs", "Czech", "Čeština", false),
    lang("sk", "Slovak", "Slovenčina", false),
    lang("hu", "Hungarian", "Magyar", false),
    lang("sv", "Swedish", "Svenska", false),
    lang("da", "Danish", "Dansk", false),
    lang("nb", "Norwegian Bokmål", "Norsk bokmål", false),
    lang("fi", "Finnish", "Suomi", false),
    lang("el", "Greek", "Ελληνικά", false),
    lang("ru", "Russian", "Русский", false),
    lang("uk", "Ukrainian", "Українська", false),
    lang("bg", "Bulgarian", "Български", false),
    lang("tr", "Turkish", "Türkçe", false),
    lang("he", "Hebrew", "עברית", true),
    lang("fa", "Persian", "فارسی", true),
    lang("ur", "Urdu", "اردو", true),
    lang("ps", "Pashto", "پښتو", true),
    lang("ku", "Kurdish", "Kurdî", false),
    lang("hi", "Hindi", "हिन्दी", false),
    lang("bn", "Bengali", "বাংলা", false),
    lang("zh", "Chinese", "中文", false),
    lang("zh-Hans", "Simplified Chinese", "简体中文", false),
    lang("zh-Hant", "Traditional Chinese", "繁體中文", false),
    lang("ja", "Japanese", "日本語", false),
    lang("ko", "Korean", "한국어", false),
    lang("vi", "Vietnamese", "Tiếng Việt", false),
    lang("th", "Thai", "ไทย", false),
    lang("id", "Indonesian", "Bahasa Indonesia", false),
    lang("ms", "Malay", "Bahasa Melayu", false),
    lang("sw", "Swahili", "Kiswahili", false),
    lang("wo", "Wolof", "Wolof", false),
    lang("ber", "Berber", "Tamaziɣt", false),
    lang("ht", "Haitian Creole", "Kreyòl ayisyen", false),
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tags_are_normalised() {
        assert_eq!(LanguageTag::parse("EN-us").unwrap().as_str(), "en-US");
        assert_eq!(LanguageTag::parse("pt_br").unwrap().as_str(), "pt-BR");
        assert_eq!(LanguageTag::parse("zh-hant-tw").unwrap().as_str(), "zh-Hant-TW");
        assert_eq!(LanguageTag::parse("es-419").unwrap().as_str(), "es-419");
    }

    #[test]
    fn bad_tags_are_refused() {
        for bad in ["", "f", "french!", "fr--FR", "123", "toolongsubtag-xx"] {
            assert!(LanguageTag::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn names_and_direction() {
        let ar = LanguageTag::parse("ar").unwrap();
        assert!(ar.is_rtl());
        assert_eq!(ar.english_name(), "Arabic");
        assert!(!LanguageTag::parse("fr-CA").unwrap().is_rtl());
        assert_eq!(LanguageTag::parse("fr-CA").unwrap().english_name(), "French (fr-CA)");
        assert!(LanguageTag::parse("pa-Arab").unwrap().is_rtl());
        assert!(!LanguageTag::parse("ku-Latn").unwrap().is_rtl());
        assert_eq!(LanguageTag::parse("pt-BR").unwrap().english_name(), "Brazilian Portuguese");
    }
}
