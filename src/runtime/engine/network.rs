//! The network built from `[[neurons]]`: validated once, then addressed by
//! index so propagation never looks a name up.

use std::collections::HashMap;
use std::sync::atomic::AtomicU64;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use super::breaker::{Breaker, BreakerConfig};
use super::rules::{Route, Rules};
use super::{SignalError, SpecError};
use crate::runtime::layer::Layer;
use crate::runtime::spec::{NeuronSpec, ProcessorKind, RuntimeSettings};

#[derive(Debug)]
pub struct Neuron {
    pub id: Arc<str>,
    pub layer: Layer,
    pub forward: Vec<usize>,
    pub backward: Vec<usize>,
    pub processor: Processor,
    pub processed: AtomicU64,
    pub failed: AtomicU64,
}

#[derive(Debug)]
pub enum Processor {
    Rules(Rules),
    Command(CommandNeuron),
}

#[derive(Debug)]
pub struct CommandNeuron {
    pub argv: Vec<String>,
    pub timeout: Duration,
    /// Names of the environment variables the program inherits.
    pub env: Vec<String>,
    /// One permit per call that may run at once.
    pub slots: tokio::sync::Semaphore,
    pub concurrency: usize,
    pub health: Mutex<CommandHealth>,
}

#[derive(Debug)]
pub struct CommandHealth {
    pub breaker: Breaker,
    /// The summary of the last failure, never the program's stderr: this is
    /// shown on the unauthenticated `/health`.
    pub last_error: Option<String>,
}

impl Neuron {
    pub fn processor_name(&self) -> &'static str {
        match self.processor {
            Processor::Rules(_) => "rules",
            Processor::Command(_) => "command",
        }
    }

    /// The neurons a signal processed here goes on to.
    pub fn forwards(&self, route: Route) -> &[usize] {
        match (route, &self.processor) {
            (Route::Rule(i), Processor::Rules(rules)) => {
                rules.forward_of(i).unwrap_or(&self.forward)
            }
            _ => &self.forward,
        }
    }
}

#[derive(Debug)]
pub struct Network {
    pub neurons: Vec<Neuron>,
    index: HashMap<Arc<str>, usize>,
}

impl Network {
    pub fn build(specs: &[NeuronSpec], settings: &RuntimeSettings) -> Result<Network, SpecError> {
        check_settings(settings)?;
        if specs.is_empty() {
            return Err(SpecError::Empty);
        }
        let mut names: HashMap<&str, usize> = HashMap::with_capacity(specs.len());
        for (i, spec) in specs.iter().enumerate() {
            if spec.id.trim().is_empty() {
                return Err(SpecError::Invalid(
                    spec.id.clone(),
                    "the id is empty".to_string(),
                ));
            }
            if names.insert(spec.id.as_str(), i).is_some() {
                return Err(SpecError::DuplicateNeuron(spec.id.clone()));
            }
        }
        let resolve = |from: &str, targets: &[String]| -> Result<Vec<usize>, SpecError> {
            targets
                .iter()
                .map(|t| {
                    names
                        .get(t.as_str())
                        .copied()
                        .ok_or_else(|| SpecError::UnknownConnection {
                            from: from.to_string(),
                            to: t.clone(),
                        })
                })
                .collect()
        };
        let breaker = BreakerConfig {
            failures: settings.breaker_failures,
            open_for: settings.breaker_open_for,
            successes: settings.breaker_successes,
        };
        let mut neurons = Vec::with_capacity(specs.len());
        for spec in specs {
            let forward = resolve(&spec.id, &spec.forward)?;
            let backward = resolve(&spec.id, &spec.backward)?;
            let processor = build_processor(spec, settings, breaker, &names)
                .map_err(|why| SpecError::Invalid(spec.id.clone(), why))?;
            neurons.push(Neuron {
                id: Arc::from(spec.id.as_str()),
                layer: spec.layer,
                forward,
                backward,
                processor,
                processed: AtomicU64::new(0),
                failed: AtomicU64::new(0),
            });
        }
        let index = neurons
            .iter()
            .enumerate()
            .map(|(i, n)| (Arc::clone(&n.id), i))
            .collect();
        Ok(Network { neurons, index })
    }

    /// Where a signal enters: the named neuron, else the first neuron of the
    /// layer, else the first L1 neuron, else the first neuron.
    pub fn entry(&self, layer: Option<Layer>, neuron: Option<&str>) -> Result<usize, SignalError> {
        if let Some(id) = neuron {
            return self
                .index
                .get(id)
                .copied()
                .ok_or_else(|| SignalError::UnknownNeuron(id.to_string()));
        }
        if let Some(layer) = layer {
            return self.first_in(layer).ok_or(SignalError::EmptyLayer(layer));
        }
        Ok(self.first_in(Layer::L1).unwrap_or(0))
    }

    fn first_in(&self, layer: Layer) -> Option<usize> {
        self.neurons.iter().position(|n| n.layer == layer)
    }
}

fn check_settings(s: &RuntimeSettings) -> Result<(), SpecError> {
    let problem = if s.breaker_failures == 0 {
        "breaker_failures must be at least 1"
    } else if s.breaker_successes == 0 {
        "breaker_successes must be at least 1"
    } else if s.command_timeout.is_zero() {
        "command_timeout must be longer than 0s"
    } else if s.command_concurrency == 0 {
        "command_concurrency must be at least 1"
    } else if s.max_connections == 0 {
        "max_connections must be at least 1"
    } else if s.header_read_timeout.is_zero() || s.idle_timeout.is_zero() {
        "header_read_timeout and idle_timeout must be longer than 0s"
    } else {
        return Ok(());
    };
    Err(SpecError::Settings(problem.to_string()))
}

fn build_processor(
    spec: &NeuronSpec,
    settings: &RuntimeSettings,
    breaker: BreakerConfig,
    names: &HashMap<&str, usize>,
) -> Result<Processor, String> {
    match spec.processor {
        ProcessorKind::Rules => {
            if spec.command.is_some() {
                return Err("`command` only applies to processor = \"command\"".to_string());
            }
            if spec.timeout.is_some() {
                return Err("`timeout` only applies to processor = \"command\"".to_string());
            }
            Rules::compile(&spec.rules, &spec.forward, names).map(Processor::Rules)
        }
        ProcessorKind::Command => {
            if !spec.rules.is_empty() {
                return Err("`rules` only apply to processor = \"rules\"".to_string());
            }
            let argv = match &spec.command {
                Some(argv) if argv.first().is_some_and(|p| !p.is_empty()) => argv.clone(),
                _ => {
                    return Err(
                        "processor = \"command\" needs command = [\"program\", \"arg\", …]"
                            .to_string(),
                    );
                }
            };
            let timeout = spec.timeout.unwrap_or(settings.command_timeout);
            if timeout.is_zero() {
                return Err("timeout must be longer than 0s".to_string());
            }
            Ok(Processor::Command(CommandNeuron {
                argv,
                timeout,
                env: settings.command_env.clone(),
                slots: tokio::sync::Semaphore::new(settings.command_concurrency),
                concurrency: settings.command_concurrency,
                health: Mutex::new(CommandHealth {
                    breaker: Breaker::new(breaker),
                    last_error: None,
                }),
            }))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::runtime::spec::RuleSpec;

    fn rules_neuron(id: &str, layer: Layer, forward: &[&str]) -> NeuronSpec {
        NeuronSpec {
            id: id.to_string(),
            layer,
            processor: ProcessorKind::Rules,
            forward: forward.iter().map(|s| s.to_string()).collect(),
            backward: Vec::new(),
            rules: vec![RuleSpec {
                pattern: "*".to_string(),
                output: "{input}".to_string(),
                forward: None,
            }],
            command: None,
            timeout: None,
        }
    }

    fn build(specs: &[NeuronSpec]) -> Result<Network, SpecError> {
        Network::build(specs, &RuntimeSettings::default())
    }

    fn invalid(specs: &[NeuronSpec]) -> String {
        match build(specs) {
            Err(SpecError::Invalid(_, why)) => why,
            other => panic!("expected Invalid, got {other:?}"),
        }
    }

    #[test]
    fn refuses_an_empty_network_and_duplicates() {
        assert!(matches!(build(&[]), Err(SpecError::Empty)));
        let a = rules_neuron("a", Layer::L1, &[]);
        assert!(matches!(
            build(&[a.clone(), a]),
            Err(SpecError::DuplicateNeuron(id)) if id == "a"
        ));
    }

    #[test]
    fn refuses_unknown_forward_and_backward_targets() {
        let a = rules_neuron("a", Layer::L1, &["ghost"]);
        assert!(matches!(
            build(&[a]),
            Err(SpecError::UnknownConnection { from, to }) if from == "a" && to == "ghost"
        ));
        let mut b = rules_neuron("b", Layer::L1, &[]);
        b.backward = vec!["nobody".to_string()];
        assert!(matches!(
            build(&[b]),
            Err(SpecError::UnknownConnection { to, .. }) if to == "nobody"
        ));
    }

    #[test]
    fn refuses_processors_without_what_they_need() {
        let mut a = rules_neuron("a", Layer::L1, &[]);
        a.rules.clear();
        assert!(invalid(&[a]).contains("at least one rule"));

        let mut c = rules_neuron("c", Layer::L1, &[]);
        c.processor = ProcessorKind::Command;
        c.rules.clear();
        assert!(invalid(std::slice::from_ref(&c)).contains("needs command"));
        c.command = Some(Vec::new());
        assert!(invalid(std::slice::from_ref(&c)).contains("needs command"));

        let mut r = rules_neuron("r", Layer::L1, &[]);
        r.command = Some(vec!["cat".to_string()]);
        assert!(invalid(&[r]).contains("only applies"));
    }

    #[test]
    fn refuses_a_rule_forwarding_outside_the_neuron_forward_list() {
        let mut a = rules_neuron("a", Layer::L1, &["b"]);
        a.rules[0].forward = Some(vec!["c".to_string()]);
        let b = rules_neuron("b", Layer::L2, &[]);
        let c = rules_neuron("c", Layer::L2, &[]);
        assert!(invalid(&[a, b, c]).contains("not in the neuron's forward list"));
    }

    #[test]
    fn refuses_settings_that_disable_the_breaker() {
        let settings = RuntimeSettings {
            breaker_failures: 0,
            ..RuntimeSettings::default()
        };
        let a = rules_neuron("a", Layer::L1, &[]);
        assert!(matches!(
            Network::build(&[a], &settings),
            Err(SpecError::Settings(_))
        ));
    }

    #[test]
    fn entry_by_id_by_layer_or_first_l1() {
        let n = build(&[
            rules_neuron("top", Layer::L5, &[]),
            rules_neuron("mid", Layer::L3, &[]),
            rules_neuron("low", Layer::L1, &[]),
        ])
        .unwrap();
        assert_eq!(n.entry(None, Some("mid")).unwrap(), 1);
        assert_eq!(n.entry(Some(Layer::L5), None).unwrap(), 0);
        assert_eq!(n.entry(None, None).unwrap(), 2);
        assert!(matches!(
            n.entry(Some(Layer::L2), None),
            Err(SignalError::EmptyLayer(Layer::L2))
        ));
        assert!(matches!(
            n.entry(None, Some("x")),
            Err(SignalError::UnknownNeuron(id)) if id == "x"
        ));
        let no_l1 = build(&[rules_neuron("only", Layer::L4, &[])]).unwrap();
        assert_eq!(no_l1.entry(None, None).unwrap(), 0);
    }
}
