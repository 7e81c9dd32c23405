//! Accounts at the HTTP edge: who is calling ([`caller`]), the secrets of passwords, sessions
//! and keys ([`secrets`]), signing in and first-start set-up ([`sign_in`]), single sign-on through OpenID Connect
//! ([`oidc`]), the caller's own
//! profile and keys ([`me`]), administration ([`admin`]), quotas and usage ([`quota`]) and the
//! audit log ([`audit`]).
//!
//! The store keeps users, sessions, keys, usage and the audit log; this module decides who may
//! do what with them, and what is answered.

pub mod admin;
pub mod audit;
pub mod caller;
pub mod me;
pub mod offline;
pub mod oidc;
pub mod quota;
pub mod secrets;
pub mod sign_in;

pub use caller::{Identity, Via};
