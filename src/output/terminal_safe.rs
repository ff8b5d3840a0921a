//! Text from the system (file names, process names, log lines) can carry
//! terminal control sequences: a file named `a\e[1A\e[2K\rok.log` would move
//! the cursor and rewrite the report on the operator's screen. Everything the
//! Printer and the error path write is passed through here first.

/// SGR parameters the [`super::Styles`] colours use; any other sequence
/// (cursor moves, erases, conceal, OSC titles) is shown escaped, not obeyed.
const OUR_SGR: &[&str] = &["0", "1", "2", "31", "32", "33", "35"];

/// Escape every control character except newline and tab as `\xNN` (C1
/// controls as `\u{NN}`). With `keep_colours`, the colour sequences our own
/// styles emit pass through.
pub fn neutralize(text: &str, keep_colours: bool) -> String {
    if !text
        .chars()
        .any(|c| c.is_control() && c != '\n' && c != '\t')
    {
        return text.to_string();
    }
    let mut out = String::with_capacity(text.len() + 16);
    let mut rest = text;
    while let Some(c) = rest.chars().next() {
        if c == '\x1b'
            && keep_colours
            && let Some(len) = our_sgr_len(rest)
        {
            out.push_str(rest.get(..len).unwrap_or_default());
            rest = rest.get(len..).unwrap_or_default();
            continue;
        }
        if c.is_control() && c != '\n' && c != '\t' {
            if (c as u32) < 0x80 {
                out.push_str(&format!("\\x{:02x}", c as u32));
            } else {
                out.push_str(&format!("\\u{{{:x}}}", c as u32));
            }
        } else {
            out.push(c);
        }
        rest = rest.get(c.len_utf8()..).unwrap_or_default();
    }
    out
}

/// The byte length of `\x1b[P;…m` at the start of `s` when every P is ours.
fn our_sgr_len(s: &str) -> Option<usize> {
    let body = s.strip_prefix("\x1b[")?;
    let end = body.find('m')?;
    let params = body.get(..end)?;
    params
        .split(';')
        .all(|p| OUR_SGR.contains(&p))
        .then_some(2 + end + 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursor_moves_are_shown_not_obeyed() {
        let evil = "/srv/evil\x1b[1A\x1b[2K\rfake.log";
        assert_eq!(
            neutralize(evil, true),
            r"/srv/evil\x1b[1A\x1b[2K\x0dfake.log"
        );
        assert_eq!(
            neutralize("title\x1b]0;pwned\x07", false),
            r"title\x1b]0;pwned\x07"
        );
        assert_eq!(neutralize("c1\u{9b}2J", false), r"c1\u{9b}2J");
    }

    #[test]
    fn our_colours_and_plain_text_pass() {
        let green = "\x1b[1;32m✓\x1b[0m ok\n\tnext";
        assert_eq!(neutralize(green, true), green);
        assert_eq!(
            neutralize(green, false),
            r"\x1b[1;32m✓\x1b[0m ok".to_string() + "\n\tnext"
        );
        assert_eq!(neutralize("\x1b[8mhidden", true), r"\x1b[8mhidden");
    }
}
