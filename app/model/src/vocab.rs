//! Open vocabularies of the diagnosis: the failure class and the kind of a change. Each has
//! the values the engine reasons about as variants, and keeps any other value a source or a
//! model writes (`Other`), so the wire stays the plain string it always was.

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::fmt;

macro_rules! open_vocabulary {
    ($(#[$meta:meta])* $name:ident { $($(#[$vmeta:meta])* $variant:ident => $wire:literal),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum $name {
            $($(#[$vmeta])* $variant,)+
            /// A value outside the known ones, kept as written.
            Other(String),
        }

        impl $name {
            pub const KNOWN: &'static [$name] = &[$($name::$variant),+];

            pub fn as_str(&self) -> &str {
                match self {
                    $($name::$variant => $wire,)+
                    $name::Other(s) => s.as_str(),
                }
            }

            /// Reads a value case-insensitively; anything unknown is `Other`.
            pub fn parse(raw: &str) -> Self {
                let v = raw.trim().to_ascii_lowercase();
                match v.as_str() {
                    $($wire => $name::$variant,)+
                    _ => $name::Other(raw.trim().to_string()),
                }
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl Serialize for $name {
            fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(self.as_str())
            }
        }

        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let raw = String::deserialize(d)?;
                Ok(Self::parse(&raw))
            }
        }

        impl PartialEq<str> for $name {
            fn eq(&self, other: &str) -> bool {
                self.as_str().eq_ignore_ascii_case(other)
            }
        }

        impl PartialEq<&str> for $name {
            fn eq(&self, other: &&str) -> bool {
                self.as_str().eq_ignore_ascii_case(other)
            }
        }
    };
}

open_vocabulary! {
    /// What kind of failure an incident is.
    FailureClass {
        BadDeploy => "bad_deploy",
        ConfigRegression => "config_regression",
        DependencyRegression => "dependency_regression",
        DbPool => "db_pool",
        MemoryLeak => "memory_leak",
        SlowQuery => "slow_query",
        DiskFull => "disk_full",
        TrafficSurge => "traffic_surge",
        Capacity => "capacity",
        CrashLoop => "crash_loop",
        Certificate => "certificate",
        Dns => "dns",
        DownstreamOutage => "downstream_outage",
        InfraFailure => "infra_failure",
        ApplicationError => "application_error",
        Transient => "transient",
        Unknown => "unknown",
    }
}

open_vocabulary! {
    /// What kind of change a deploy or change event is.
    ChangeKind {
        Deploy => "deploy",
        FeatureFlag => "feature_flag",
        Config => "config",
        Dependency => "dependency",
        Infra => "infra",
        Change => "change",
    }
}

impl FailureClass {
    /// Saturation classes: scaling is the answer when traffic grew and no change is to blame.
    pub fn is_saturation(&self) -> bool {
        matches!(self, Self::DbPool | Self::Capacity | Self::TrafficSurge)
    }
}

impl ChangeKind {
    /// A change of configuration rather than code (a flag flip, a config push).
    pub fn is_configuration(&self) -> bool {
        matches!(self, Self::FeatureFlag | Self::Config)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_values_round_trip_as_their_strings() {
        for c in FailureClass::KNOWN {
            let v = serde_json::to_value(c).unwrap();
            assert_eq!(v, c.as_str());
            assert_eq!(&serde_json::from_value::<FailureClass>(v).unwrap(), c);
        }
        assert_eq!(
            serde_json::from_value::<ChangeKind>("Feature_Flag".into()).unwrap(),
            ChangeKind::FeatureFlag
        );
    }

    #[test]
    fn unknown_values_are_kept() {
        let c: FailureClass = serde_json::from_value("network_partition".into()).unwrap();
        assert_eq!(c, FailureClass::Other("network_partition".into()));
        assert_eq!(serde_json::to_value(&c).unwrap(), "network_partition");
        assert!(FailureClass::parse("DB_POOL") == *"db_pool");
    }
}
