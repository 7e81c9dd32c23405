//! Quotas and usage: characters translated per day and per month, documents in progress,
//! upload size — the service's defaults, overridden per user by an administrator.
//!
//! Over a limit the answer is `429 quota_exceeded` with `Retry-After` (the seconds until the
//! limit resets: the next UTC midnight, or the first day of the next month) and a message naming
//! the limit, so a script can wait and a person knows why.

use serde::Serialize;
use time::{Date, Duration as TimeDuration, Month, OffsetDateTime, Time};
use tradia_store::{User, UserId};
use utoipa::ToSchema;

use crate::error::{ApiError, ErrorCode};
use crate::state::AppState;

/// A user's effective limits (`null`: unlimited).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
pub struct Quotas {
    /// Characters translated per day (UTC).
    pub chars_per_day: Option<u64>,
    /// Characters translated per calendar month (UTC).
    pub chars_per_month: Option<u64>,
    /// Document jobs queued or running at once.
    pub jobs_in_progress: Option<u64>,
    /// Largest upload, in bytes.
    pub upload_bytes: Option<u64>,
}

/// What a user has used.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
pub struct Usage {
    /// Characters translated today (UTC).
    pub chars_today: u64,
    /// Characters translated this month (UTC).
    pub chars_month: u64,
    /// Document jobs queued or running.
    pub jobs_in_progress: u64,
}

/// The limits that apply to `user`.
pub fn quotas_of(state: &AppState, user: &User) -> Quotas {
    let defaults = state.settings.access.quotas;
    let own = user.quotas;
    Quotas {
        chars_per_day: own.chars_per_day.or(defaults.chars_per_day),
        chars_per_month: own.chars_per_month.or(defaults.chars_per_month),
        jobs_in_progress: own.documents_in_progress.or(defaults.jobs_in_progress),
        upload_bytes: own.upload_bytes.or(defaults.upload_bytes),
    }
}

/// The first day of the month of `day`.
pub fn month_start(day: Date) -> Date {
    day.replace_day(1).unwrap_or(day)
}

/// The first day of the next month.
fn next_month_start(day: Date) -> Date {
    let (year, month) = match day.month() {
        Month::December => (day.year() + 1, Month::January),
        m => (day.year(), m.next()),
    };
    Date::from_calendar_date(year, month, 1).unwrap_or(day)
}

fn storage(e: impl std::fmt::Display) -> ApiError {
    ApiError::internal("cannot read the usage", e)
}

/// What `user` has used now.
pub async fn usage_of(state: &AppState, user: UserId) -> Result<Usage, ApiError> {
    let store = state.jobs.store();
    let today = OffsetDateTime::now_utc().date();
    let chars_today = store.usage_between(user, today, today).await.map_err(storage)?;
    let chars_month =
        store.usage_between(user, month_start(today), today).await.map_err(storage)?;
    let jobs_in_progress = store.jobs_in_progress(user).await.map_err(storage)?.jobs;
    Ok(Usage { chars_today, chars_month, jobs_in_progress })
}

fn until(now: OffsetDateTime, day: Date) -> std::time::Duration {
    let reset = day.with_time(Time::MIDNIGHT).assume_utc();
    std::time::Duration::try_from(reset - now).unwrap_or(std::time::Duration::from_secs(1))
}

/// Refuses `chars` more characters when they would pass the day's or the month's limit.
pub async fn check_chars(state: &AppState, user: &User, chars: u64) -> Result<(), ApiError> {
    let quotas = quotas_of(state, user);
    if quotas.chars_per_day.is_none() && quotas.chars_per_month.is_none() {
        return Ok(());
    }
    let usage = usage_of(state, user.id).await?;
    let now = OffsetDateTime::now_utc();
    if let Some(limit) = quotas.chars_per_day
        && usage.chars_today.saturating_add(chars) > limit
    {
        let tomorrow = now.date() + TimeDuration::days(1);
        return Err(ApiError::new(
            ErrorCode::QuotaExceeded,
            format!(
                "daily quota of {limit} characters reached ({} used today, {chars} asked); it resets at {tomorrow} 00:00 UTC",
                usage.chars_today
            ),
        )
        .with_retry_after(until(now, tomorrow)));
    }
    if let Some(limit) = quotas.chars_per_month
        && usage.chars_month.saturating_add(chars) > limit
    {
        let next = next_month_start(now.date());
        return Err(ApiError::new(
            ErrorCode::QuotaExceeded,
            format!(
                "monthly quota of {limit} characters reached ({} used this month, {chars} asked); it resets on {next} 00:00 UTC",
                usage.chars_month
            ),
        )
        .with_retry_after(until(now, next)));
    }
    Ok(())
}

/// Refuses a new document job when the user already has as many in progress as allowed.
pub async fn check_jobs_in_progress(state: &AppState, user: &User) -> Result<(), ApiError> {
    let Some(limit) = quotas_of(state, user).jobs_in_progress else { return Ok(()) };
    let running = state.jobs.store().jobs_in_progress(user.id).await.map_err(storage)?.jobs;
    if running >= limit {
        return Err(ApiError::new(
            ErrorCode::QuotaExceeded,
            format!(
                "quota of {limit} documents in progress reached; it frees up as your jobs finish"
            ),
        )
        .with_retry_after(std::time::Duration::from_secs(30)));
    }
    Ok(())
}

/// Counts `chars` translated by `user` today.
pub async fn add_usage(state: &AppState, user: UserId, chars: u64) {
    if chars == 0 {
        return;
    }
    let today = OffsetDateTime::now_utc().date();
    if let Err(e) = state.jobs.store().add_usage(user, today, chars).await {
        tracing::error!(error = %e, user.id = %user, "cannot record usage");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn date(y: i32, m: u8, d: u8) -> Date {
        Date::from_calendar_date(y, Month::try_from(m).unwrap(), d).unwrap()
    }

    #[test]
    fn months_roll_over() {
        assert_eq!(next_month_start(date(2026, 12, 31)), date(2027, 1, 1));
        assert_eq!(next_month_start(date(2026, 2, 10)), date(2026, 3, 1));
        assert_eq!(month_start(date(2026, 2, 10)), date(2026, 2, 1));
    }
}
