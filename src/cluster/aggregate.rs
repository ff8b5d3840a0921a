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

/// One event, on plain data: what it is about, what it says, how often
/// (the API server's own count) and when it first and last happened.
#[derive(Debug, Clone, PartialEq)]
pub struct EventLine<'a> {
    pub kind: &'a str,
    pub name: &'a str,
    pub reason: &'a str,
    pub message: &'a str,
    pub count: u64,
    /// Unix seconds.
    pub first: Option<i64>,
    pub last: Option<i64>,
}

/// Identical events (same kind, reason and message) said once, kubectl's
/// way: "18 Pods FailedScheduling: 0/1 nodes are available (x36 over 2m)";
/// a lone object keeps its name ("Pod/hal9-x BackOff: … (x8 over 15s)").
/// In order of first appearance.
pub fn aggregate_events<'a>(events: impl IntoIterator<Item = EventLine<'a>>) -> Vec<String> {
    struct Group<'a> {
        key: (&'a str, &'a str, &'a str),
        names: Vec<&'a str>,
        count: u64,
        first: Option<i64>,
        last: Option<i64>,
    }
    let mut groups: Vec<Group> = Vec::new();
    for e in events {
        let key = (e.kind, e.reason, e.message);
        let count = e.count.max(1);
        match groups.iter_mut().find(|g| g.key == key) {
            Some(g) => {
                if !g.names.contains(&e.name) {
                    g.names.push(e.name);
                }
                g.count = g.count.saturating_add(count);
                g.first = min_opt(g.first, e.first.or(e.last));
                g.last = g.last.max(e.last);
            }
            None => groups.push(Group {
                key,
                names: vec![e.name],
                count,
                first: e.first.or(e.last),
                last: e.last,
            }),
        }
    }
    groups
        .into_iter()
        .map(|g| {
            let (kind, reason, message) = g.key;
            let subject = match g.names.as_slice() {
                [one] => format!("{kind}/{one}"),
                many => format!("{} {kind}s", many.len()),
            };
            let span = match (g.first, g.last) {
                (Some(f), Some(l)) if l > f => format!(
                    " over {}",
                    humantime::format_duration(std::time::Duration::from_secs((l - f) as u64))
                ),
                _ => String::new(),
            };
            let times = if g.count > 1 || !span.is_empty() {
                format!(" (x{}{span})", g.count)
            } else {
                String::new()
            };
            format!("{subject} {reason}: {message}{times}")
        })
        .collect()
}

fn min_opt(a: Option<i64>, b: Option<i64>) -> Option<i64> {
    match (a, b) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ev<'a>(name: &'a str, reason: &'a str, count: u64, first: i64, last: i64) -> EventLine<'a> {
        EventLine {
            kind: "Pod",
            name,
            reason,
            message: "Back-off restarting failed container",
            count,
            first: Some(first),
            last: Some(last),
        }
    }

    #[test]
    fn identical_events_are_one_line_with_kubectls_count_and_span() {
        let lines = aggregate_events([
            ev("a", "BackOff", 3, 100, 110),
            ev("b", "BackOff", 5, 95, 115),
            ev("c", "Unhealthy", 1, 100, 100),
            ev("a", "BackOff", 1, 112, 112),
        ]);
        assert_eq!(
            lines,
            vec![
                "2 Pods BackOff: Back-off restarting failed container (x9 over 20s)".to_string(),
                "Pod/c Unhealthy: Back-off restarting failed container".to_string(),
            ]
        );
        assert_eq!(
            aggregate_events([ev("a", "BackOff", 8, 0, 15)]),
            vec!["Pod/a BackOff: Back-off restarting failed container (x8 over 15s)"]
        );
    }

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
