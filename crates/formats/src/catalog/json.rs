//! The JSON half of the catalogue filter: a scanner that records the byte range, decoded value
//! and key path of every string value, and the writer of JSON string literals.

use std::ops::Range;

use super::{Scalar, Style};

pub(crate) fn offset_of(text: &str, line: usize, column: usize) -> u64 {
    let start: usize = text.split_inclusive('\n').take(line.saturating_sub(1)).map(str::len).sum();
    (start + column.saturating_sub(1)) as u64
}

pub(super) fn json_quote(value: &str) -> String {
    json_quote_with(value, &|_| false)
}

pub(super) fn json_quote_with(value: &str, unmappable: &dyn Fn(char) -> bool) -> String {
    let mut out = String::with_capacity(value.len() + 2);
    out.push('"');
    for c in value.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            c if unmappable(c) => {
                let mut units = [0u16; 2];
                for unit in c.encode_utf16(&mut units) {
                    out.push_str(&format!("\\u{unit:04x}"));
                }
            }
            c if (c as u32) < 0x20 || c == '\u{2028}' || c == '\u{2029}' => {
                out.push_str(&format!("\\u{:04x}", c as u32))
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

pub(super) struct JsonScanner<'a> {
    pub(super) s: &'a [u8],
    pub(super) src: &'a str,
    pub(super) pos: usize,
    pub(super) out: Vec<Scalar>,
}

impl JsonScanner<'_> {
    fn ws(&mut self) {
        while self.pos < self.s.len()
            && matches!(self.s[self.pos], b' ' | b'\t' | b'\n' | b'\r' | 0xEF | 0xBB | 0xBF)
        {
            self.pos += 1;
        }
    }

    /// Scans a value at `pos`; records strings unless `kept`.
    pub(super) fn value(&mut self, path: &str, kept: bool) -> Result<(), usize> {
        self.ws();
        match self.s.get(self.pos) {
            Some(b'{') => {
                self.pos += 1;
                loop {
                    self.ws();
                    if self.s.get(self.pos) == Some(&b'}') {
                        self.pos += 1;
                        return Ok(());
                    }
                    let (key, _) = self.string()?;
                    self.ws();
                    if self.s.get(self.pos) != Some(&b':') {
                        return Err(self.pos);
                    }
                    self.pos += 1;
                    let child = if path.is_empty() { key.clone() } else { format!("{path}.{key}") };
                    self.value(&child, kept || key.starts_with('@'))?;
                    self.ws();
                    match self.s.get(self.pos) {
                        Some(b',') => self.pos += 1,
                        Some(b'}') => {
                            self.pos += 1;
                            return Ok(());
                        }
                        _ => return Err(self.pos),
                    }
                }
            }
            Some(b'[') => {
                self.pos += 1;
                let mut i = 0;
                loop {
                    self.ws();
                    if self.s.get(self.pos) == Some(&b']') {
                        self.pos += 1;
                        return Ok(());
                    }
                    self.value(&format!("{path}[{i}]"), kept)?;
                    i += 1;
                    self.ws();
                    match self.s.get(self.pos) {
                        Some(b',') => self.pos += 1,
                        Some(b']') => {
                            self.pos += 1;
                            return Ok(());
                        }
                        _ => return Err(self.pos),
                    }
                }
            }
            Some(b'"') => {
                let (value, range) = self.string()?;
                if !kept {
                    self.out.push(Scalar {
                        range,
                        value,
                        style: Style::Json,
                        path: path.to_string(),
                    });
                }
                Ok(())
            }
            Some(_) => {
                while self.pos < self.s.len()
                    && !matches!(
                        self.s[self.pos],
                        b',' | b'}' | b']' | b' ' | b'\t' | b'\n' | b'\r'
                    )
                {
                    self.pos += 1;
                }
                Ok(())
            }
            None => Err(self.pos),
        }
    }

    /// Reads a string at `pos`: its decoded value and range (quotes included).
    fn string(&mut self) -> Result<(String, Range<usize>), usize> {
        let start = self.pos;
        if self.s.get(self.pos) != Some(&b'"') {
            return Err(self.pos);
        }
        self.pos += 1;
        let mut i = self.pos;
        while i < self.s.len() && self.s[i] != b'"' {
            i += if self.s[i] == b'\\' { 2 } else { 1 };
        }
        if i >= self.s.len() {
            return Err(start);
        }
        let raw = &self.src[start..=i];
        let value: String = serde_json::from_str(raw).map_err(|_| start)?;
        self.pos = i + 1;
        Ok((value, start..i + 1))
    }
}
