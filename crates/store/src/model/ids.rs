//! Typed identifiers: one newtype per kind of record, so a user id cannot be passed where a job
//! id is expected.
//!
//! All are UUID v7 (time-ordered: identifiers sort in creation order, which is what pagination
//! and the audit log's order rely on), written and parsed as the usual hyphenated text.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// Defines a UUID v7 identifier type with the same API as every other one.
macro_rules! typed_id {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(pub Uuid);

        impl $name {
            /// A fresh identifier, later than every identifier this process made before.
            pub fn new() -> Self {
                $name(Uuid::now_v7())
            }
        }

        impl Default for $name {
            fn default() -> Self {
                Self::new()
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                self.0.fmt(f)
            }
        }

        impl FromStr for $name {
            type Err = uuid::Error;

            fn from_str(s: &str) -> Result<Self, Self::Err> {
                Uuid::parse_str(s).map($name)
            }
        }
    };
}

typed_id!(
    /// A job's identifier: a UUID v7, so identifiers sort in creation order.
    JobId
);
typed_id!(
    /// A user's identifier.
    UserId
);
typed_id!(
    /// A team's identifier.
    TeamId
);
typed_id!(
    /// A sign-in session's identifier (not its token: the token is a secret the store never
    /// sees, only its hash).
    SessionId
);
typed_id!(
    /// An API key's identifier (not the key: the store keeps only its hash).
    ApiKeyId
);
typed_id!(
    /// An audit log entry's identifier.
    AuditId
);
typed_id!(
    /// A glossary's identifier, the string id clients address it by.
    GlossaryId
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_sort_in_creation_order_and_round_trip() {
        let a = UserId::new();
        let b = UserId::new();
        assert!(a < b);
        assert_eq!(a.to_string().parse::<UserId>().unwrap(), a);
        assert!("not-a-uuid".parse::<TeamId>().is_err());
        assert_eq!(serde_json::to_string(&a).unwrap(), format!("\"{a}\""));
    }
}
