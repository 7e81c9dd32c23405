//! The [`Store`](crate::Store) methods both backends answer the same way, written once.
//!
//! Most job methods are a read through [`Queries`](super::Queries) on the backend's reader pool,
//! or a forward to one of the backend's own helpers where what differs (the lock, the clock)
//! lives. [`shared_job_methods!`] writes those methods into a backend's `impl Store` block, so
//! the backend file holds only what is its own. The backend provides, as inherent methods:
//! `insert_job(owner, job)`, `cancel(scope, id)`, `delete(scope, id)`, `claim(options)`,
//! `update_file(lease, index, update)`, `save(lease, segments)` and
//! `end_job(lease, status, error)`.

/// Writes the shared [`Store`](crate::Store) methods for a backend whose database is `$db`, inside
/// its `impl Store` block.
macro_rules! shared_job_methods {
    ($db:ty) => {
        fn ping(&self) -> ::tradia_core::BoxFuture<'_, $crate::StoreResult<()>> {
            Box::pin($crate::sql::Queries::<$db>::ping($crate::sql::SqlBackend::reader(self)))
        }

        fn create_job(
            &self,
            job: $crate::NewJob,
        ) -> ::tradia_core::BoxFuture<'_, $crate::StoreResult<$crate::Job>> {
            Box::pin(self.insert_job(None, job))
        }

        fn get_job(
            &self,
            id: $crate::JobId,
        ) -> ::tradia_core::BoxFuture<'_, $crate::StoreResult<$crate::Job>> {
            Box::pin(async move {
                let mut conn = $crate::sql::SqlBackend::reader(self).acquire().await?;
                $crate::sql::Queries::<$db>::load_job(&mut conn, id).await
            })
        }

        fn list_jobs(
            &self,
            limit: u32,
            before: Option<$crate::JobId>,
        ) -> ::tradia_core::BoxFuture<'_, $crate::StoreResult<$crate::JobPage>> {
            Box::pin(async move {
                let mut conn = $crate::sql::SqlBackend::reader(self).acquire().await?;
                let scope = $crate::sql::JobScope::All;
                $crate::sql::Queries::<$db>::list_jobs(&mut conn, scope, limit, before).await
            })
        }

        fn cancel_job(
            &self,
            id: $crate::JobId,
        ) -> ::tradia_core::BoxFuture<'_, $crate::StoreResult<$crate::Job>> {
            Box::pin(self.cancel($crate::sql::JobScope::All, id))
        }

        fn delete_job(
            &self,
            id: $crate::JobId,
        ) -> ::tradia_core::BoxFuture<'_, $crate::StoreResult<Vec<$crate::BlobKey>>> {
            Box::pin(self.delete($crate::sql::JobScope::All, id))
        }

        fn create_job_for<'a>(
            &'a self,
            caller: &'a $crate::Caller,
            job: $crate::NewJob,
        ) -> ::tradia_core::BoxFuture<'a, $crate::StoreResult<$crate::Job>> {
            Box::pin(self.insert_job(Some(caller.user), job))
        }

        fn get_job_for<'a>(
            &'a self,
            caller: &'a $crate::Caller,
            id: $crate::JobId,
        ) -> ::tradia_core::BoxFuture<'a, $crate::StoreResult<$crate::Job>> {
            Box::pin(async move {
                let mut conn = $crate::sql::SqlBackend::reader(self).acquire().await?;
                $crate::sql::Queries::<$db>::load_job_in(&mut conn, caller.into(), id).await
            })
        }

        fn list_jobs_for<'a>(
            &'a self,
            caller: &'a $crate::Caller,
            limit: u32,
            before: Option<$crate::JobId>,
        ) -> ::tradia_core::BoxFuture<'a, $crate::StoreResult<$crate::JobPage>> {
            Box::pin(async move {
                let mut conn = $crate::sql::SqlBackend::reader(self).acquire().await?;
                let scope = caller.into();
                $crate::sql::Queries::<$db>::list_jobs(&mut conn, scope, limit, before).await
            })
        }

        fn cancel_job_for<'a>(
            &'a self,
            caller: &'a $crate::Caller,
            id: $crate::JobId,
        ) -> ::tradia_core::BoxFuture<'a, $crate::StoreResult<$crate::Job>> {
            Box::pin(self.cancel(caller.into(), id))
        }

        fn delete_job_for<'a>(
            &'a self,
            caller: &'a $crate::Caller,
            id: $crate::JobId,
        ) -> ::tradia_core::BoxFuture<'a, $crate::StoreResult<Vec<$crate::BlobKey>>> {
            Box::pin(self.delete(caller.into(), id))
        }

        fn jobs_in_progress(
            &self,
            user: $crate::UserId,
        ) -> ::tradia_core::BoxFuture<'_, $crate::StoreResult<$crate::InProgress>> {
            Box::pin(async move {
                let mut conn = $crate::sql::SqlBackend::reader(self).acquire().await?;
                $crate::sql::Queries::<$db>::in_progress(&mut conn, user).await
            })
        }

        fn claim_next_job<'a>(
            &'a self,
            options: &'a $crate::ClaimOptions,
        ) -> ::tradia_core::BoxFuture<'a, $crate::StoreResult<Option<$crate::Claimed>>> {
            Box::pin(self.claim(options))
        }

        fn set_file_extracted<'a>(
            &'a self,
            lease: &'a $crate::Lease,
            index: u32,
            extracted: $crate::FileExtracted,
        ) -> ::tradia_core::BoxFuture<'a, $crate::StoreResult<()>> {
            Box::pin(async move {
                let update = $crate::sql::FileUpdate::extracted(extracted)?;
                self.update_file(lease, index, update).await
            })
        }

        fn save_segment<'a>(
            &'a self,
            lease: &'a $crate::Lease,
            segment: $crate::StoredSegment,
        ) -> ::tradia_core::BoxFuture<'a, $crate::StoreResult<()>> {
            Box::pin(async move { self.save(lease, &[segment]).await })
        }

        fn save_segments<'a>(
            &'a self,
            lease: &'a $crate::Lease,
            segments: Vec<$crate::StoredSegment>,
        ) -> ::tradia_core::BoxFuture<'a, $crate::StoreResult<()>> {
            Box::pin(async move { self.save(lease, &segments).await })
        }

        fn saved_segments(
            &self,
            job: $crate::JobId,
            index: u32,
        ) -> ::tradia_core::BoxFuture<'_, $crate::StoreResult<Vec<$crate::StoredSegment>>> {
            Box::pin(async move {
                let mut conn = $crate::sql::SqlBackend::reader(self).acquire().await?;
                $crate::sql::Queries::<$db>::saved_segments(&mut conn, job, index).await
            })
        }

        fn set_file_output<'a>(
            &'a self,
            lease: &'a $crate::Lease,
            index: u32,
            output: $crate::BlobKey,
        ) -> ::tradia_core::BoxFuture<'a, $crate::StoreResult<()>> {
            Box::pin(self.update_file(lease, index, $crate::sql::FileUpdate::Output(output)))
        }

        fn set_file_failed<'a>(
            &'a self,
            lease: &'a $crate::Lease,
            index: u32,
            error: $crate::ErrorInfo,
        ) -> ::tradia_core::BoxFuture<'a, $crate::StoreResult<()>> {
            Box::pin(self.update_file(lease, index, $crate::sql::FileUpdate::Failed(error)))
        }

        fn finish_job<'a>(
            &'a self,
            lease: &'a $crate::Lease,
        ) -> ::tradia_core::BoxFuture<'a, $crate::StoreResult<$crate::Job>> {
            Box::pin(self.end_job(lease, $crate::JobStatus::Done, None))
        }

        fn fail_job<'a>(
            &'a self,
            lease: &'a $crate::Lease,
            error: $crate::ErrorInfo,
        ) -> ::tradia_core::BoxFuture<'a, $crate::StoreResult<$crate::Job>> {
            Box::pin(self.end_job(lease, $crate::JobStatus::Failed, Some(error)))
        }

        fn count_by_status(
            &self,
        ) -> ::tradia_core::BoxFuture<'_, $crate::StoreResult<$crate::StatusCounts>> {
            Box::pin(async move {
                let mut conn = $crate::sql::SqlBackend::reader(self).acquire().await?;
                $crate::sql::Queries::<$db>::count_by_status(&mut conn).await
            })
        }
    };
}
pub(crate) use shared_job_methods;
