#![allow(clippy::unwrap_used, clippy::expect_used)]
//! Accounts end to end on a real server: the isolation matrix over every route of the route
//! table, administrators' metadata-only view, first-start set-up, sign-in throttling and its
//! audit trail, CSRF with a valid cookie, quotas with `Retry-After`, API keys, the trusted proxy
//! header, single sign-on against a real OpenID provider. Each test runs on SQLite, and on PostgreSQL too when `TRADIA_TEST_DATABASE_URL` names
//! one (logins are made unique per run, so a shared database is fine).

mod glossaries;
mod harness;
mod isolation;
mod job_guidance;
mod oidc;
mod provider;
mod sign_in;
