//! Document jobs: upload, storage access, the HTTP endpoints (with the download, the event
//! stream and the quality report) and the runner.

pub mod api;
pub mod download;
pub mod follow;
pub mod model;
pub mod repo;
pub mod report;
pub mod retry;
pub mod runner;
pub mod upload;
