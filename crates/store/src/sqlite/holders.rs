//! Leases of dead workers: a worker id starts with `host:pid` (see [`crate::process`]), so a
//! lease held by a process of this host that no longer exists (killed, crashed) is ended at
//! once, and its job is claimed by the next poll instead of waiting for the lease to run out.

use super::{SqliteStore, now_ms};
use crate::store::StoreResult;

impl SqliteStore {
    /// Ends the unexpired leases whose holder is known dead; they become claimable now.
    pub(super) async fn expire_dead_leases(&self) -> StoreResult<()> {
        let owners: Vec<String> = sqlx::query_scalar(
            "SELECT DISTINCT lease_owner FROM jobs WHERE status = 'running' \
             AND lease_owner IS NOT NULL AND lease_expires_at > $1",
        )
        .bind(now_ms())
        .fetch_all(&self.pool)
        .await?;
        for owner in owners.iter().filter(|o| crate::process::holder_is_dead(o)) {
            let now = now_ms();
            let ended = sqlx::query(
                "UPDATE jobs SET lease_expires_at = $2 WHERE status = 'running' \
                 AND lease_owner = $1 AND lease_expires_at > $2",
            )
            .bind(owner)
            .bind(now)
            .execute(&self.writer)
            .await?;
            tracing::info!(worker = %owner, jobs = ended.rows_affected(), "lease holder is gone; its jobs are taken over now");
        }
        Ok(())
    }
}
