//! File-name patterns for the cleanup categories: `*`, `?` and `[a-z0-9]`
//! (`[!…]` negates), matched against one name, never a path.

use std::fmt;

#[derive(Debug, Clone, PartialEq, Eq)]
enum Token {
    Any,
    One,
    Char(char),
    Class {
        negated: bool,
        ranges: Vec<(char, char)>,
    },
}

#[derive(Clone, PartialEq, Eq)]
pub struct Glob {
    text: String,
    tokens: Vec<Token>,
}

impl fmt::Debug for Glob {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Glob({:?})", self.text)
    }
}

impl fmt::Display for Glob {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

impl Glob {
    pub fn new(text: &str) -> Result<Glob, String> {
        if text.is_empty() {
            return Err("an empty pattern".into());
        }
        if text.contains('/') {
            return Err(format!("{text:?} contains '/': patterns match file names"));
        }
        let mut tokens = Vec::new();
        let mut chars = text.chars().peekable();
        while let Some(c) = chars.next() {
            tokens.push(match c {
                '*' => Token::Any,
                '?' => Token::One,
                '[' => {
                    let negated = chars.next_if_eq(&'!').is_some();
                    let mut ranges = Vec::new();
                    loop {
                        match chars.next() {
                            None => return Err(format!("{text:?} has an unclosed '['")),
                            Some(']') if !ranges.is_empty() => break,
                            Some(lo) => {
                                if chars.next_if_eq(&'-').is_some() {
                                    match chars.next() {
                                        Some(hi) if hi != ']' => ranges.push((lo, hi)),
                                        _ => {
                                            return Err(format!("{text:?} has an open range"));
                                        }
                                    }
                                } else {
                                    ranges.push((lo, lo));
                                }
                            }
                        }
                    }
                    Token::Class { negated, ranges }
                }
                c => Token::Char(c),
            });
        }
        Ok(Glob {
            text: text.to_string(),
            tokens,
        })
    }

    pub fn as_str(&self) -> &str {
        &self.text
    }

    pub fn matches(&self, name: &str) -> bool {
        let name: Vec<char> = name.chars().collect();
        // Classic wildcard matching: remember the last `*` and retry from it.
        let (mut t, mut n) = (0, 0);
        let mut star: Option<(usize, usize)> = None;
        while n < name.len() {
            let step = match self.tokens.get(t) {
                Some(Token::Any) => {
                    star = Some((t, n));
                    t += 1;
                    continue;
                }
                Some(Token::One) => true,
                Some(Token::Char(c)) => *c == name[n],
                Some(Token::Class { negated, ranges }) => {
                    ranges.iter().any(|(lo, hi)| (*lo..=*hi).contains(&name[n])) != *negated
                }
                None => false,
            };
            if step {
                t += 1;
                n += 1;
            } else if let Some((st, sn)) = star {
                t = st + 1;
                n = sn + 1;
                star = Some((st, sn + 1));
            } else {
                return false;
            }
        }
        self.tokens[t..].iter().all(|tok| *tok == Token::Any)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(p: &str, n: &str) -> bool {
        Glob::new(p).unwrap().matches(n)
    }

    #[test]
    fn wildcards_and_classes() {
        assert!(m("*.log", "hal9.log"));
        assert!(!m("*.log", "hal9.log.1"));
        assert!(m("*.log.[0-9]*", "hal9.log.1"));
        assert!(m("*.log.[0-9]*", "hal9.log.12.gz"));
        assert!(!m("*.log.[0-9]*", "hal9.log.old"));
        assert!(m("core", "core"));
        assert!(m("core.[0-9]*", "core.4242"));
        assert!(!m("core.[0-9]*", "core.rs"));
        assert!(m("hs_err_pid*.log", "hs_err_pid77.log"));
        assert!(m("?.dmp", "a.dmp"));
        assert!(!m("?.dmp", "ab.dmp"));
        assert!(m("[!.]*", "x"));
        assert!(!m("[!.]*", ".x"));
        assert!(m("*", ""));
        assert!(m("a*b*c", "aXbYbZc"));
    }

    #[test]
    fn bad_patterns_are_refused() {
        assert!(Glob::new("").is_err());
        assert!(Glob::new("logs/*.log").is_err());
        assert!(Glob::new("[abc").is_err());
        assert!(Glob::new("[a-]").is_err());
    }
}
