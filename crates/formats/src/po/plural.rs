//! Plural forms of gettext catalogues: the `Plural-Forms` header of a target language, and the
//! evaluation of its C expression (to find the form used for n = 1).
//!
//! No maintained Rust crate carries gettext's per-language formulas (CLDR's plural rules, which
//! crates such as `intl_pluralrules` implement, are categories, not the `nplurals`/`plural=`
//! pairs PO files need), so the table below is the one GNU gettext itself uses: the "Plural
//! forms" section of the gettext manual and `gettext-tools/src/plural-table.c`, which `msginit`
//! writes into new catalogues. Languages it does not list get the Germanic default
//! `nplurals=2; plural=(n != 1);`.

use tradia_core::LanguageTag;

/// The `Plural-Forms` value gettext uses for `target`.
pub(super) fn table_plural_forms(target: &LanguageTag) -> &'static str {
    let primary = target.primary();
    // Brazilian Portuguese counts 0 as singular; European Portuguese does not.
    if primary == "pt" && target.as_str().to_ascii_lowercase().ends_with("-pt") {
        return "nplurals=2; plural=(n != 1);";
    }
    match primary {
        "ja" | "zh" | "ko" | "vi" | "th" | "id" | "ms" | "lo" | "my" | "tr" | "fa" | "ka" => {
            "nplurals=1; plural=0;"
        }
        "fr" | "pt" | "hy" | "ln" | "wa" | "oc" | "br" => "nplurals=2; plural=(n > 1);",
        "ar" => {
            "nplurals=6; plural=(n==0 ? 0 : n==1 ? 1 : n==2 ? 2 : n%100>=3 && n%100<=10 ? 3 : n%100>=11 ? 4 : 5);"
        }
        "ru" | "uk" | "be" | "sr" | "hr" | "bs" => {
            "nplurals=3; plural=(n%10==1 && n%100!=11 ? 0 : n%10>=2 && n%10<=4 && (n%100<10 || n%100>=20) ? 1 : 2);"
        }
        "pl" => {
            "nplurals=3; plural=(n==1 ? 0 : n%10>=2 && n%10<=4 && (n%100<10 || n%100>=20) ? 1 : 2);"
        }
        "cs" | "sk" => "nplurals=3; plural=(n==1) ? 0 : (n>=2 && n<=4) ? 1 : 2;",
        "lv" => "nplurals=3; plural=(n%10==1 && n%100!=11 ? 0 : n != 0 ? 1 : 2);",
        "lt" => {
            "nplurals=3; plural=(n%10==1 && n%100!=11 ? 0 : n%10>=2 && (n%100<10 || n%100>=20) ? 1 : 2);"
        }
        "ga" => "nplurals=3; plural=n==1 ? 0 : n==2 ? 1 : 2;",
        "ro" => "nplurals=3; plural=n==1 ? 0 : (n==0 || (n%100 > 0 && n%100 < 20)) ? 1 : 2;",
        "sl" => "nplurals=4; plural=(n%100==1 ? 0 : n%100==2 ? 1 : n%100==3 || n%100==4 ? 2 : 3);",
        // English, German, Dutch, the Scandinavian languages, Spanish, Italian, Greek, Hebrew,
        // Hungarian, Finnish, Estonian, Bulgarian, Hindi… and languages gettext does not list.
        _ => "nplurals=2; plural=(n != 1);",
    }
}

/// Reads `nplurals=N; plural=EXPR;` and returns N and the form index for n = 1.
pub(super) fn parse_plural_forms(forms: &str) -> Option<(usize, usize)> {
    let mut n = None;
    let mut expr = None;
    for part in forms.split(';') {
        let (k, v) = part.split_once('=')?;
        match k.trim() {
            "nplurals" => n = v.trim().parse::<usize>().ok(),
            "plural" => expr = Some(v.trim().to_string()),
            _ => {}
        }
        if n.is_some() && expr.is_some() {
            break;
        }
    }
    let n = n.filter(|n| (1..=16).contains(n))?;
    let one = eval_plural(&expr?, 1)?;
    Some((n, usize::try_from(one).ok().filter(|i| *i < n).unwrap_or(0)))
}

/// Evaluates a gettext plural expression (C syntax) for `n`.
pub(super) fn eval_plural(expr: &str, n: u64) -> Option<u64> {
    let tokens = lex(expr)?;
    let mut p = Parser { tokens, pos: 0, n };
    let value = p.ternary()?;
    (p.pos == p.tokens.len()).then_some(value)
}

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    Num(u64),
    N,
    Op(&'static str),
}

fn lex(s: &str) -> Option<Vec<Tok>> {
    const OPS: [&str; 19] = [
        "||", "&&", "==", "!=", "<=", ">=", "<", ">", "?", ":", "(", ")", "+", "-", "*", "/", "%",
        "!", "",
    ];
    let mut out = Vec::new();
    let b = s.as_bytes();
    let mut i = 0;
    while i < b.len() {
        let c = b[i];
        if c.is_ascii_whitespace() {
            i += 1;
        } else if c.is_ascii_digit() {
            let len = b[i..].iter().take_while(|c| c.is_ascii_digit()).count();
            out.push(Tok::Num(s[i..i + len].parse().ok()?));
            i += len;
        } else if c == b'n' {
            out.push(Tok::N);
            i += 1;
        } else {
            let op = OPS.iter().find(|op| !op.is_empty() && s[i..].starts_with(**op))?;
            out.push(Tok::Op(op));
            i += op.len();
        }
        if out.len() > 512 {
            return None;
        }
    }
    Some(out)
}

struct Parser {
    tokens: Vec<Tok>,
    pos: usize,
    n: u64,
}

impl Parser {
    fn eat(&mut self, op: &'static str) -> bool {
        if self.tokens.get(self.pos) == Some(&Tok::Op(op)) {
            self.pos += 1;
            true
        } else {
            false
        }
    }

    fn ternary(&mut self) -> Option<u64> {
        let cond = self.binary(0)?;
        if self.eat("?") {
            let a = self.ternary()?;
            if !self.eat(":") {
                return None;
            }
            let b = self.ternary()?;
            return Some(if cond != 0 { a } else { b });
        }
        Some(cond)
    }

    fn binary(&mut self, level: usize) -> Option<u64> {
        const LEVELS: [&[&str]; 6] = [
            &["||"],
            &["&&"],
            &["==", "!="],
            &["<=", ">=", "<", ">"],
            &["+", "-"],
            &["*", "/", "%"],
        ];
        if level == LEVELS.len() {
            return self.unary();
        }
        let mut left = self.binary(level + 1)?;
        'outer: loop {
            for &op in LEVELS[level] {
                if self.eat(op) {
                    let right = self.binary(level + 1)?;
                    left = match op {
                        "||" => u64::from(left != 0 || right != 0),
                        "&&" => u64::from(left != 0 && right != 0),
                        "==" => u64::from(left == right),
                        "!=" => u64::from(left != right),
                        "<=" => u64::from(left <= right),
                        ">=" => u64::from(left >= right),
                        "<" => u64::from(left < right),
                        ">" => u64::from(left > right),
                        "+" => left.checked_add(right)?,
                        "-" => left.checked_sub(right)?,
                        "*" => left.checked_mul(right)?,
                        "/" => left.checked_div(right)?,
                        _ => left.checked_rem(right)?,
                    };
                    continue 'outer;
                }
            }
            return Some(left);
        }
    }

    fn unary(&mut self) -> Option<u64> {
        if self.eat("!") {
            return Some(u64::from(self.unary()? == 0));
        }
        if self.eat("(") {
            let v = self.ternary()?;
            return self.eat(")").then_some(v);
        }
        let tok = self.tokens.get(self.pos)?.clone();
        self.pos += 1;
        match tok {
            Tok::Num(v) => Some(v),
            Tok::N => Some(self.n),
            Tok::Op(_) => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn forms(lang: &str) -> Option<(usize, usize)> {
        parse_plural_forms(table_plural_forms(&LanguageTag::parse(lang).unwrap()))
    }

    #[test]
    fn every_formula_of_the_table_parses_and_stays_in_range() {
        let cases = [
            ("ar", 6, 1),
            ("ja", 1, 0),
            ("zh-Hans", 1, 0),
            ("fr", 2, 0),
            ("pt-BR", 2, 0),
            ("pt-PT", 2, 0),
            ("en", 2, 0),
            ("ru", 3, 0),
            ("pl", 3, 0),
            ("cs", 3, 0),
            ("lv", 3, 0),
            ("lt", 3, 0),
            ("ga", 3, 0),
            ("ro", 3, 0),
            ("sl", 4, 0),
            ("de", 2, 0),
        ];
        for (lang, n, one) in cases {
            assert_eq!(forms(lang), Some((n, one)), "{lang}");
            let expr = table_plural_forms(&LanguageTag::parse(lang).unwrap());
            let expr = expr.split_once("plural=").unwrap().1.trim_end_matches(';');
            for count in 0..200 {
                let index = eval_plural(expr, count).unwrap();
                assert!(index < n as u64, "{lang}: n={count} gives form {index}");
            }
        }
        assert_eq!(eval_plural("(n > 1)", 0), Some(0));
        assert_eq!(eval_plural("(n != 1)", 0), Some(1));
    }
}
