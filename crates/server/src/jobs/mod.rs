//! Document jobs: upload, storage access, the HTTP endpoints and the runner.

pub mod api;
pub mod model;
pub mod repo;
pub mod runner;
pub mod upload;
