//! Optimistic writes: each write carries the resourceVersion it was planned
//! from, and a 409 Conflict means the object changed since it was read. The
//! caller re-reads, re-plans and writes again, a bounded number of times.

use std::future::Future;
use std::time::Duration;

use super::client::is_conflict;
use crate::exit::Failure;

/// Await one conditional write. `Ok(Some)`: written. `Ok(None)`: a 409 and
/// `retry` allows another attempt, so re-read and try again (after a short
/// jittered pause). Any other error, or a 409 on the last attempt, is the
/// failure `fail` makes of it.
pub async fn unless_stale<T>(
    write: impl Future<Output = Result<T, kube::Error>>,
    retry: bool,
    fail: impl FnOnce(kube::Error) -> Failure,
) -> Result<Option<T>, Failure> {
    match write.await {
        Ok(v) => Ok(Some(v)),
        Err(e) if retry && is_conflict(&e) => {
            // Mid-rollout the controller bumps the resourceVersion with every
            // status write: without a pause, two racing writers (or a writer
            // and the controller) meet again on every attempt.
            let jitter = u64::from(std::process::id() % 97);
            tokio::time::sleep(Duration::from_millis(60 + jitter)).await;
            Ok(None)
        }
        Err(e) => Err(fail(e)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn api(code: u16) -> kube::Error {
        kube::Error::Api(
            kube::core::Status::failure("changed", "Conflict")
                .with_code(code)
                .boxed(),
        )
    }

    fn fail(e: kube::Error) -> Failure {
        Failure::critical(e.to_string())
    }

    #[tokio::test]
    async fn a_conflict_is_another_try_until_the_last_one() {
        let r = unless_stale(async { Err::<(), _>(api(409)) }, true, fail).await;
        assert!(matches!(r, Ok(None)));
        let r = unless_stale(async { Err::<(), _>(api(409)) }, false, fail).await;
        assert!(r.is_err(), "the last 409 is reported, not retried");
        let r = unless_stale(async { Err::<(), _>(api(422)) }, true, fail).await;
        assert!(r.is_err(), "only a 409 means re-read");
        let r = unless_stale(async { Ok::<_, kube::Error>(7) }, true, fail).await;
        assert!(matches!(r, Ok(Some(7))));
    }
}
