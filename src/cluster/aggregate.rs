//! Identical reasons said once with a count, the way kubectl's "(x8 over
//! 15s)" does: 18 Pending pods with the same scheduler message are one line.

/// Group `(subject, reason)` pairs by reason, in order of first appearance:
/// "18 pods: 0/1 nodes are available: Insufficient cpu". One subject keeps
/// its name ("pod hal9-x: …"), so a lone problem stays findable.
pub fn aggregate<'a>(
    items: impl IntoIterator<Item = (&'a str, &'a str)>,
    noun: &str,
) -> Vec<String> {
    let mut groups: Vec<(&str, Vec<&str>)> = Vec::new();
    for (subject, reason) in items {
        match groups.iter_mut().find(|(r, _)| *r == reason) {
            Some((_, subjects)) => subjects.push(subject),
            None => groups.push((reason, vec![subject])),
        }
    }
    groups
        .into_iter()
        .map(|(reason, subjects)| match subjects.as_slice() {
            [one] => format!("{noun} {one}: {reason}"),
            many => format!("{} {noun}s: {reason}", many.len()),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn eighteen_identical_reasons_are_one_line() {
        let names: Vec<String> = (0..18).map(|i| format!("hal9-{i}")).collect();
        let msg = "0/1 nodes are available: 1 Insufficient cpu.";
        let mut items: Vec<(&str, &str)> = names.iter().map(|n| (n.as_str(), msg)).collect();
        items.insert(3, ("hal9-x", "ErrImageNeverPull"));
        assert_eq!(
            aggregate(items, "pod"),
            vec![
                format!("18 pods: {msg}"),
                "pod hal9-x: ErrImageNeverPull".to_string()
            ]
        );
    }

    #[test]
    fn nothing_is_nothing() {
        assert!(aggregate(Vec::<(&str, &str)>::new(), "pod").is_empty());
    }
}
