//! Recognising a runaway answer while it streams, so that it can be cut at once.
//!
//! A real small model falls into repetition loops (`C'est la foi. C'est la foi. …`,
//! `&gt;&gt;…`, the same entry over and over): 24 % of the requests of the first real run went
//! to the output limit that way (issue 18), each one holding a slot for nothing. A
//! [`RunawayGuard`] watches the streamed answer of a batch and says when to stop reading it:
//! when its tail is one unit repeated (an n-gram loop) that the source does not repeat itself,
//! or when it is longer than a bound derived from the source (a translation is rarely more
//! than 3 or 4 times its source).

/// Why an answer was cut.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Cut {
    /// The tail repeats one unit (shown, at most 40 characters) this many times.
    Loop {
        /// The repeated text.
        unit: String,
        /// How many times it repeats at the end of the answer.
        times: usize,
    },
    /// The answer exceeded this many characters.
    TooLong(usize),
}

impl std::fmt::Display for Cut {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Cut::Loop { unit, times } => write!(f, "repetition loop ({unit:?} {times} times)"),
            Cut::TooLong(n) => write!(f, "answer longer than {n} characters"),
        }
    }
}

/// The longest repeated unit looked for, in characters.
const MAX_PERIOD: usize = 120;
/// A loop is that many characters of repetition at least…
const MIN_LOOP_CHARS: usize = 64;
/// …and that many repetitions at least.
const MIN_REPEATS: usize = 3;
/// The tail is examined every that many characters.
const CHECK_EVERY: usize = 24;

/// Watches one streamed answer.
#[derive(Debug)]
pub struct RunawayGuard {
    source: String,
    max_chars: usize,
    tail: Vec<char>,
    chars: usize,
    since_check: usize,
}

impl RunawayGuard {
    /// A guard for an answer to `source` (the texts sent, concatenated); the answer may have at
    /// most `max_chars` characters.
    pub fn new(source: String, max_chars: usize) -> Self {
        RunawayGuard { source, max_chars, tail: Vec::new(), chars: 0, since_check: 0 }
    }

    /// The bound for an answer to sources of `source_chars` characters in all, in `entries`
    /// entries: four times the source plus the JSON of each entry plus a margin.
    pub fn bound(source_chars: usize, entries: usize) -> usize {
        source_chars * 4 + entries * 40 + 200
    }

    /// Adds streamed text; `Some` when the answer must be cut.
    pub fn push(&mut self, text: &str) -> Option<Cut> {
        for c in text.chars() {
            self.tail.push(c);
            self.chars += 1;
            self.since_check += 1;
        }
        if self.chars > self.max_chars {
            return Some(Cut::TooLong(self.max_chars));
        }
        let keep = MAX_PERIOD * (MIN_REPEATS + 1) + MIN_LOOP_CHARS;
        if self.tail.len() > keep * 2 {
            self.tail.drain(..self.tail.len() - keep);
        }
        if self.since_check < CHECK_EVERY {
            return None;
        }
        self.since_check = 0;
        self.find_loop()
    }

    fn find_loop(&self) -> Option<Cut> {
        let t = &self.tail;
        for p in 1..=MAX_PERIOD {
            let repeats = MIN_REPEATS.max(MIN_LOOP_CHARS.div_ceil(p));
            let n = p * repeats;
            if n > t.len() {
                break;
            }
            let w = &t[t.len() - n..];
            if !(p..n).all(|i| w[i] == w[i - p]) {
                continue;
            }
            let unit: String = w[n - p..].iter().collect();
            if unit.trim().is_empty() || self.source_repeats(&unit) {
                continue;
            }
            // Count every repetition at the end, for the report.
            let mut times = repeats;
            while (times + 1) * p <= t.len()
                && t[t.len() - (times + 1) * p..t.len() - times * p] == w[n - p..]
            {
                times += 1;
            }
            return Some(Cut::Loop { unit: unit.chars().take(40).collect(), times });
        }
        None
    }

    /// Whether the source itself repeats `unit` (in any rotation) three times in a row: then
    /// the answer may too (a dotted line, a repeated cell).
    fn source_repeats(&self, unit: &str) -> bool {
        let chars: Vec<char> = unit.chars().collect();
        (0..chars.len()).any(|k| {
            let rotated: String = chars[k..].iter().chain(&chars[..k]).collect();
            self.source.contains(&rotated.repeat(3))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn feed(g: &mut RunawayGuard, text: &str) -> Option<Cut> {
        // Token-sized pieces, as a stream delivers them.
        let chars: Vec<char> = text.chars().collect();
        chars.chunks(3).find_map(|c| g.push(&c.iter().collect::<String>()))
    }

    #[test]
    fn a_repetition_loop_is_cut_early() {
        let mut g = RunawayGuard::new("La foi est une chose.".into(), 100_000);
        let answer = format!(
            "{{\"translations\":[{{\"id\":\"1\",\"text\":\"Faith is{}",
            " C'est la foi.".repeat(200)
        );
        let cut = feed(&mut g, &answer).unwrap();
        let Cut::Loop { unit, times } = &cut else { panic!("{cut:?}") };
        assert!(unit.repeat(2).contains(" C'est la foi."), "{unit}");
        assert!(*times >= 3);
        assert!(g.chars < 300, "cut after {} characters", g.chars);
        let mut g = RunawayGuard::new("a > b".into(), 100_000);
        assert!(feed(&mut g, &format!("a {}", "&gt;".repeat(100))).is_some());
    }

    #[test]
    fn normal_answers_and_repetitions_of_the_source_are_not_cut() {
        let src = "Le projet vise à renforcer les compétences des élèves en lecture et écriture.";
        let mut g = RunawayGuard::new(src.into(), RunawayGuard::bound(src.len(), 1));
        let ok = "{\"translations\":[{\"id\":\"1\",\"text\":\"The project aims to strengthen the pupils' reading and writing skills.\"}]}";
        assert_eq!(feed(&mut g, ok), None);
        let dots = format!("Sommaire {} 3", ".".repeat(80));
        let mut g = RunawayGuard::new(dots.clone(), 100_000);
        assert_eq!(feed(&mut g, &format!("Contents {} 3", ".".repeat(80))), None);
    }

    #[test]
    fn an_answer_beyond_the_bound_is_cut() {
        let mut g = RunawayGuard::new("Court.".into(), RunawayGuard::bound(6, 1));
        let long: String = (0..400).map(|i| format!("w{i} ")).collect();
        assert_eq!(feed(&mut g, &long), Some(Cut::TooLong(264)));
    }
}
