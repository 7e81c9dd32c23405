//! Removing a leading `<think>…</think>` block from a token stream, piece by piece, so that
//! streamed text shows the answer only.

/// Removes a leading `<think>…</think>` block from a token stream.
#[derive(Default)]
pub(super) struct ThinkFilter {
    buf: String,
    state: ThinkState,
}

#[derive(Default, PartialEq)]
enum ThinkState {
    #[default]
    Start,
    Thinking,
    Passing,
}

impl ThinkFilter {
    pub(super) fn push(&mut self, t: &str) -> String {
        match self.state {
            ThinkState::Passing => t.to_string(),
            ThinkState::Start => {
                self.buf.push_str(t);
                let head = self.buf.trim_start();
                if head.len() < "<think>".len() && "<think>".starts_with(head) {
                    return String::new();
                }
                if head.starts_with("<think>") {
                    self.state = ThinkState::Thinking;
                    return self.push("");
                }
                self.state = ThinkState::Passing;
                std::mem::take(&mut self.buf)
            }
            ThinkState::Thinking => {
                self.buf.push_str(t);
                match self.buf.find("</think>") {
                    Some(end) => {
                        let rest = self.buf[end + "</think>".len()..].trim_start().to_string();
                        self.buf.clear();
                        self.state = ThinkState::Start;
                        if rest.is_empty() { String::new() } else { self.push(&rest) }
                    }
                    None => String::new(),
                }
            }
        }
    }

    pub(super) fn finish(&mut self) -> String {
        match self.state {
            ThinkState::Start => std::mem::take(&mut self.buf),
            _ => String::new(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn think_blocks_are_filtered_from_streams() {
        let mut f = ThinkFilter::default();
        let mut out = String::new();
        for t in ["<th", "ink>reasoning", " more</thi", "nk>\n", "Bon", "jour"] {
            out.push_str(&f.push(t));
        }
        out.push_str(&f.finish());
        assert_eq!(out, "Bonjour");
        let mut g = ThinkFilter::default();
        let mut out = String::new();
        for t in ["<", "b>Hi</b>"] {
            out.push_str(&g.push(t));
        }
        out.push_str(&g.finish());
        assert_eq!(out, "<b>Hi</b>");
    }
}
