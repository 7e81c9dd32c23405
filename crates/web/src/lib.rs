//! Placeholder, filled by the web interface issue.
