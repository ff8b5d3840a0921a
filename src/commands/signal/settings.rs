//! What `hal9ctl signal` sends: the parsed flags, so the request is built
//! without clap types. The config has nothing to add to a signal.

use crate::cli::args::SignalArgs;
use crate::runtime::Layer;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignalSettings {
    pub text: String,
    /// Enter at the first neuron of this layer.
    pub layer: Option<Layer>,
    /// Enter at this neuron.
    pub neuron: Option<String>,
}

impl SignalSettings {
    pub fn resolve(a: &SignalArgs) -> SignalSettings {
        SignalSettings {
            text: a.text.clone(),
            layer: a.layer,
            neuron: a.neuron.clone(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cli::args::{Cli, Command};
    use clap::Parser;

    fn resolve(argv: &[&str]) -> SignalSettings {
        let cli = Cli::try_parse_from(argv).unwrap();
        let Command::Signal(a) = &cli.command else {
            panic!("not a signal: {argv:?}")
        };
        SignalSettings::resolve(a)
    }

    #[test]
    fn the_entry_point_is_the_layer_or_neuron_given_else_none() {
        let plain = resolve(&["hal9ctl", "signal", "users report slow answers"]);
        assert_eq!(plain.text, "users report slow answers");
        assert_eq!((plain.layer, plain.neuron), (None, None));
        let entered = resolve(&[
            "hal9ctl", "signal", "plan", "--layer", "L4", "--neuron", "n1",
        ]);
        assert_eq!(entered.layer, Some(Layer::L4));
        assert_eq!(entered.neuron.as_deref(), Some("n1"));
    }
}
