//! Shared XML helpers (filled in with the Scenari filter).
