//! The neuron graph built from `[[neurons]]`: validated once, then indexed by
//! position so propagation never looks up names.

use std::collections::HashMap;
use std::sync::Mutex;
use std::sync::atomic::AtomicU64;
use std::time::Duration;

use super::SpecError;
use super::breaker::{Breaker, BreakerConfig};
use crate::runtime::layer::Layer;
use crate::runtime::spec::{NeuronSpec, ProcessorKind, RuntimeSettings};

#[derive(Debug)]
pub struct Rule {
    /// Lowercased; `None` matches everything (`*`).
    pub pattern: Option<String>,
    pub output: String,
    /// Indices into the network; `None` follows every forward connection.
    pub forward: Option<Vec<usize>>,
}

#[derive(Debug)]
pub enum Processor {
    Rules(Vec<Rule>),
    Command {
        argv: Vec<String>,
        timeout: Duration,
        breaker: Mutex<Breaker>,
    },
}

#[derive(Debug)]
pub struct Neuron {
    pub id: String,
    pub layer: Layer,
    pub processor: Processor,
    pub forward: Vec<usize>,
    pub backward: Vec<usize>,
    pub processed: AtomicU64,
    pub failed: AtomicU64,
}

#[derive(Debug)]
pub struct Network {
    pub neurons: Vec<Neuron>,
    pub by_id: HashMap<String, usize>,
}

impl Network {
    pub fn build(specs: &[NeuronSpec], settings: &RuntimeSettings) -> Result<Network, SpecError> {
        if specs.is_empty() {
            return Err(SpecError::Empty);
        }
        let mut by_id = HashMap::new();
        for (i, s) in specs.iter().enumerate() {
            if s.id.trim().is_empty() {
                return Err(SpecError::Invalid(s.id.clone(), "the id is empty".into()));
            }
            if by_id.insert(s.id.clone(), i).is_some() {
                return Err(SpecError::DuplicateNeuron(s.id.clone()));
            }
        }
        let resolve = |from: &str, ids: &[String]| -> Result<Vec<usize>, SpecError> {
            ids.iter()
                .map(|t| {
                    by_id
                        .get(t)
                        .copied()
                        .ok_or_else(|| SpecError::UnknownConnection {
                            from: from.to_string(),
                            to: t.clone(),
                        })
                })
                .collect()
        };
        let breaker_cfg = BreakerConfig {
            failures: settings.breaker_failures.max(1),
            open_for: settings.breaker_open_for,
            successes: settings.breaker_successes.max(1),
        };
        let mut neurons = Vec::with_capacity(specs.len());
        for s in specs {
            let forward = resolve(&s.id, &s.forward)?;
            let backward = resolve(&s.id, &s.backward)?;
            let processor = match s.processor {
                ProcessorKind::Rules => {
                    if s.rules.is_empty() {
                        return Err(SpecError::Invalid(
                            s.id.clone(),
                            "a rules processor needs at least one rule".into(),
                        ));
                    }
                    if s.command.is_some() {
                        return Err(SpecError::Invalid(
                            s.id.clone(),
                            "`command` is only for processor = \"command\"".into(),
                        ));
                    }
                    let mut rules = Vec::with_capacity(s.rules.len());
                    for r in &s.rules {
                        let fwd = match &r.forward {
                            None => None,
                            Some(ids) => {
                                if let Some(bad) = ids.iter().find(|t| !s.forward.contains(t)) {
                                    return Err(SpecError::Invalid(
                                        s.id.clone(),
                                        format!(
                                            "rule {:?} forwards to {bad:?}, which is not among the neuron's forward connections",
                                            r.pattern
                                        ),
                                    ));
                                }
                                Some(resolve(&s.id, ids)?)
                            }
                        };
                        let pattern = (r.pattern != "*").then(|| r.pattern.to_lowercase());
                        rules.push(Rule {
                            pattern,
                            output: r.output.clone(),
                            forward: fwd,
                        });
                    }
                    Processor::Rules(rules)
                }
                ProcessorKind::Command => {
                    let argv = s.command.clone().unwrap_or_default();
                    if argv.is_empty() || argv[0].trim().is_empty() {
                        return Err(SpecError::Invalid(
                            s.id.clone(),
                            "a command processor needs `command = [\"program\", …]`".into(),
                        ));
                    }
                    if !s.rules.is_empty() {
                        return Err(SpecError::Invalid(
                            s.id.clone(),
                            "`rules` are only for processor = \"rules\"".into(),
                        ));
                    }
                    Processor::Command {
                        argv,
                        timeout: s.timeout.unwrap_or(settings.command_timeout),
                        breaker: Mutex::new(Breaker::new(breaker_cfg)),
                    }
                }
            };
            neurons.push(Neuron {
                id: s.id.clone(),
                layer: s.layer,
                processor,
                forward,
                backward,
                processed: AtomicU64::new(0),
                failed: AtomicU64::new(0),
            });
        }
        Ok(Network { neurons, by_id })
    }

    /// The first neuron of a layer, in config order.
    pub fn first_in(&self, layer: Layer) -> Option<usize> {
        self.neurons.iter().position(|n| n.layer == layer)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(toml_text: &str) -> Vec<NeuronSpec> {
        #[derive(serde::Deserialize)]
        struct N {
            neurons: Vec<NeuronSpec>,
        }
        toml::from_str::<N>(toml_text).unwrap().neurons
    }

    fn err(text: &str) -> String {
        Network::build(&spec(text), &RuntimeSettings::default())
            .unwrap_err()
            .to_string()
    }

    #[test]
    fn validation_names_the_problem() {
        let rule = "rules = [{ pattern = \"*\", output = \"x\" }]";
        assert!(err(&format!("[[neurons]]\nid='a'\nlayer='L1'\nprocessor='rules'\n{rule}\n[[neurons]]\nid='a'\nlayer='L2'\nprocessor='rules'\n{rule}")).contains("defined twice"));
        assert!(
            err(&format!(
                "[[neurons]]\nid='a'\nlayer='L1'\nprocessor='rules'\nforward=['zz']\n{rule}"
            ))
            .contains("unknown neuron \"zz\"")
        );
        assert!(
            err("[[neurons]]\nid='a'\nlayer='L1'\nprocessor='rules'\n")
                .contains("at least one rule")
        );
        assert!(
            err("[[neurons]]\nid='a'\nlayer='L1'\nprocessor='command'\n")
                .contains("needs `command")
        );
        assert!(err("[[neurons]]\nid='a'\nlayer='L1'\nprocessor='rules'\nforward=[]\nrules=[{pattern='x', output='y', forward=['b']}]\n[[neurons]]\nid='b'\nlayer='L2'\nprocessor='command'\ncommand=['cat']\n").contains("not among the neuron's forward"));
        assert_eq!(
            Network::build(&[], &RuntimeSettings::default())
                .unwrap_err()
                .to_string(),
            "the network has no neurons"
        );
    }
}
