//! The `rules` processor: deterministic pattern → output, evaluated in order.
//!
//! A rule matches when its pattern occurs in the input, ignoring case; `*`
//! matches everything. The first match wins: its output template is
//! rendered with `{input}` replaced by the input, and the signal follows the
//! rule's `forward` subset (all of the neuron's forward connections when the
//! rule names none). When no rule matches, the neuron passes its input
//! through unchanged to all its forward connections, so a network with gaps
//! in its rules still answers.

use std::collections::HashMap;
use std::sync::Arc;

use crate::runtime::spec::RuleSpec;

const PLACEHOLDER: &str = "{input}";

/// Which forward connections a processed signal follows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Route {
    /// Every forward connection of the neuron.
    All,
    /// The `forward` subset of the rule with this index.
    Rule(u32),
}

#[derive(Debug)]
pub struct Rules {
    rules: Vec<Rule>,
    /// Whether some rule before the first `*` needs the lowercased input.
    needs_lowercase: bool,
}

#[derive(Debug)]
struct Rule {
    /// Lowercased substring; `None` for `*`.
    pattern: Option<String>,
    template: Template,
    forward: Option<Vec<usize>>,
}

/// An output template split at each `{input}`.
#[derive(Debug)]
struct Template {
    parts: Vec<String>,
}

impl Template {
    fn parse(text: &str) -> Template {
        Template {
            parts: text.split(PLACEHOLDER).map(str::to_string).collect(),
        }
    }

    fn render(&self, input: &str) -> String {
        let fixed: usize = self.parts.iter().map(String::len).sum();
        let mut out = String::with_capacity(fixed + input.len() * (self.parts.len() - 1));
        for (i, part) in self.parts.iter().enumerate() {
            if i > 0 {
                out.push_str(input);
            }
            out.push_str(part);
        }
        out
    }
}

impl Rules {
    /// Compile the rules of one neuron. `forward` is the neuron's own forward
    /// list; a rule may only narrow it. `index` maps neuron ids to indices.
    pub fn compile(
        specs: &[RuleSpec],
        forward: &[String],
        index: &HashMap<&str, usize>,
    ) -> Result<Rules, String> {
        if specs.is_empty() {
            return Err("the rules processor needs at least one rule".to_string());
        }
        let mut rules = Vec::with_capacity(specs.len());
        for (n, spec) in specs.iter().enumerate() {
            if spec.pattern.is_empty() {
                return Err(format!(
                    "rule {} has an empty pattern; use \"*\" to match everything",
                    n + 1
                ));
            }
            let pattern = (spec.pattern != "*").then(|| spec.pattern.to_lowercase());
            let forward = match &spec.forward {
                None => None,
                Some(targets) => {
                    let mut resolved = Vec::with_capacity(targets.len());
                    for t in targets {
                        match index.get(t.as_str()) {
                            Some(&i) if forward.contains(t) => resolved.push(i),
                            _ => {
                                return Err(format!(
                                    "rule {} forwards to {t:?}, which is not in the neuron's forward list {forward:?}",
                                    n + 1
                                ));
                            }
                        }
                    }
                    Some(resolved)
                }
            };
            rules.push(Rule {
                pattern,
                template: Template::parse(&spec.output),
                forward,
            });
        }
        // Only a leading `*` makes lowercasing the input unnecessary.
        let needs_lowercase = rules.first().is_some_and(|r| r.pattern.is_some());
        Ok(Rules {
            rules,
            needs_lowercase,
        })
    }

    /// The output and route for `input`.
    pub fn apply(&self, input: &Arc<str>) -> (Arc<str>, Route) {
        let lower = if self.needs_lowercase {
            input.to_lowercase()
        } else {
            String::new()
        };
        for (i, rule) in self.rules.iter().enumerate() {
            let hit = match &rule.pattern {
                None => true,
                Some(p) => lower.contains(p.as_str()),
            };
            if hit {
                let route = match rule.forward {
                    Some(_) => Route::Rule(i as u32),
                    None => Route::All,
                };
                return (Arc::from(rule.template.render(input)), route);
            }
        }
        (Arc::clone(input), Route::All)
    }

    /// The forward subset of rule `i`, if it has one.
    pub fn forward_of(&self, i: u32) -> Option<&[usize]> {
        self.rules
            .get(i as usize)
            .and_then(|r| r.forward.as_deref())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rule(pattern: &str, output: &str, forward: Option<&[&str]>) -> RuleSpec {
        RuleSpec {
            pattern: pattern.to_string(),
            output: output.to_string(),
            forward: forward.map(|f| f.iter().map(|s| s.to_string()).collect()),
        }
    }

    fn compile(specs: &[RuleSpec]) -> Result<Rules, String> {
        let index: HashMap<&str, usize> = [("a", 0), ("b", 1), ("c", 2)].into_iter().collect();
        Rules::compile(specs, &["a".to_string(), "b".to_string()], &index)
    }

    fn apply(rules: &Rules, input: &str) -> (String, Route) {
        let (out, route) = rules.apply(&Arc::from(input));
        (out.to_string(), route)
    }

    #[test]
    fn first_match_wins_ignoring_case() {
        let r = compile(&[
            rule("Disk", "disk: {input}", None),
            rule("down", "down", None),
            rule("*", "other", None),
        ])
        .unwrap();
        assert_eq!(apply(&r, "DISK down").0, "disk: DISK down");
        assert_eq!(apply(&r, "node is DOWN").0, "down");
        assert_eq!(apply(&r, "fine").0, "other");
    }

    #[test]
    fn every_placeholder_is_replaced() {
        let r = compile(&[rule("*", "{input}|{input}", None)]).unwrap();
        assert_eq!(apply(&r, "x").0, "x|x");
    }

    #[test]
    fn a_rule_narrows_the_forward_connections() {
        let r = compile(&[rule("only-b", "b", Some(&["b"])), rule("*", "all", None)]).unwrap();
        let (_, route) = apply(&r, "ONLY-B please");
        assert_eq!(route, Route::Rule(0));
        assert_eq!(r.forward_of(0), Some(&[1usize][..]));
        assert_eq!(apply(&r, "x").1, Route::All);
    }

    #[test]
    fn no_match_passes_the_input_through() {
        let r = compile(&[rule("disk", "disk", None)]).unwrap();
        assert_eq!(
            apply(&r, "memory pressure"),
            ("memory pressure".to_string(), Route::All)
        );
    }

    #[test]
    fn refuses_bad_rules() {
        assert!(compile(&[]).unwrap_err().contains("at least one rule"));
        assert!(
            compile(&[rule("", "x", None)])
                .unwrap_err()
                .contains("empty pattern")
        );
        let err = compile(&[rule("*", "x", Some(&["c"]))]).unwrap_err();
        assert!(err.contains("\"c\""), "{err}");
    }
}
