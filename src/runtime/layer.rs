//! The five layers of the HAL9 hierarchy.

use std::fmt;
use std::str::FromStr;

#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize,
)]
pub enum Layer {
    L1,
    L2,
    L3,
    L4,
    L5,
}

impl Layer {
    pub const ALL: [Layer; 5] = [Layer::L1, Layer::L2, Layer::L3, Layer::L4, Layer::L5];

    pub fn name(self) -> &'static str {
        match self {
            Layer::L1 => "Reflexive",
            Layer::L2 => "Implementation",
            Layer::L3 => "Operational",
            Layer::L4 => "Tactical",
            Layer::L5 => "Strategic",
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Layer::L1 => "L1",
            Layer::L2 => "L2",
            Layer::L3 => "L3",
            Layer::L4 => "L4",
            Layer::L5 => "L5",
        }
    }

    pub fn index(self) -> usize {
        self as usize
    }
}

impl fmt::Display for Layer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown layer {0:?}: expected one of L1, L2, L3, L4, L5")]
pub struct UnknownLayer(pub String);

impl FromStr for Layer {
    type Err = UnknownLayer;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.to_ascii_uppercase().as_str() {
            "L1" => Ok(Layer::L1),
            "L2" => Ok(Layer::L2),
            "L3" => Ok(Layer::L3),
            "L4" => Ok(Layer::L4),
            "L5" => Ok(Layer::L5),
            _ => Err(UnknownLayer(s.to_string())),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_case_insensitively_and_rejects_others() {
        assert_eq!("l3".parse::<Layer>(), Ok(Layer::L3));
        assert_eq!("L5".parse::<Layer>(), Ok(Layer::L5));
        assert!("L6".parse::<Layer>().is_err());
        assert_eq!(Layer::L4.name(), "Tactical");
    }
}
