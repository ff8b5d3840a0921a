//! Paths and arguments as text without losing bytes. A file name need not be
//! UTF-8; serde refuses such a `PathBuf` outright, which turned a whole
//! `-o json` report into an error document. Here valid UTF-8 stays as is, and
//! a name that is not has each stray byte as `\xNN` and each backslash doubled.

use std::ffi::OsStr;
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};

use serde::Serializer;

/// `s` as text, every byte kept (see the module doc).
pub fn os_text(s: &OsStr) -> String {
    let bytes = s.as_bytes();
    if let Ok(text) = std::str::from_utf8(bytes) {
        return text.to_string();
    }
    let mut out = String::with_capacity(bytes.len() + 8);
    for chunk in bytes.utf8_chunks() {
        out.push_str(&chunk.valid().replace('\\', "\\\\"));
        for b in chunk.invalid() {
            out.push_str(&format!("\\x{b:02x}"));
        }
    }
    out
}

/// `#[serde(serialize_with = "crate::output::os_text::path")]` for a `PathBuf`.
pub fn path<S: Serializer>(p: &Path, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&os_text(p.as_os_str()))
}

/// `#[serde(serialize_with = "crate::output::os_text::paths")]` for a `Vec<PathBuf>`.
pub fn paths<S: Serializer>(ps: &[PathBuf], s: S) -> Result<S::Ok, S::Error> {
    s.collect_seq(ps.iter().map(|p| os_text(p.as_os_str())))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(serde::Serialize)]
    struct R {
        #[serde(serialize_with = "path")]
        one: PathBuf,
        #[serde(serialize_with = "paths")]
        many: Vec<PathBuf>,
    }

    #[test]
    fn every_byte_is_kept_and_json_still_serializes() {
        let odd = PathBuf::from(OsStr::from_bytes(b"/srv/r\xff\\x"));
        assert_eq!(os_text(odd.as_os_str()), r"/srv/r\xff\\x");
        assert_eq!(os_text(OsStr::new(r"C:\ok")), r"C:\ok");
        let v = serde_json::to_value(R {
            one: odd.clone(),
            many: vec![odd, PathBuf::from("/ok")],
        })
        .unwrap();
        assert_eq!(v["one"], r"/srv/r\xff\\x");
        assert_eq!(v["many"][1], "/ok");
    }
}
