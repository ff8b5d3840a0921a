//! Quoting for the commands a report suggests. Names in them come from
//! paths, labels, titles and environments that anyone can set; pasted at
//! 3am, an unquoted `web; rm -rf ~` would run.

use std::borrow::Cow;

/// `s` as one POSIX shell word: as it is when every character is plainly
/// safe, else single-quoted. An empty argument is `''`, so it stays an
/// argument instead of vanishing from the command line.
pub fn shell_word(s: &str) -> Cow<'_, str> {
    let plain = |c: char| c.is_ascii_alphanumeric() || "_-./:=@%+,".contains(c);
    if !s.is_empty() && s.chars().all(plain) {
        s.into()
    } else {
        format!("'{}'", s.replace('\'', r"'\''")).into()
    }
}

#[cfg(test)]
mod tests {
    use super::shell_word;

    #[test]
    fn plain_words_stay_and_everything_else_is_one_quoted_word() {
        assert_eq!(shell_word("/var/log/hal9-1.log"), "/var/log/hal9-1.log");
        assert_eq!(shell_word("it's"), r"'it'\''s'");
        assert_eq!(shell_word(""), "''");
        assert_eq!(shell_word("a b"), "'a b'");
        assert_eq!(shell_word("$(id)"), "'$(id)'");
    }
}
