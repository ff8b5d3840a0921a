//! Reads made while waiting on something already applied: an API error or
//! timeout is retried with backoff until the wait runs out, because giving
//! up early would turn a done action into a reported failure.

use std::future::Future;
use std::time::{Duration, Instant};

const FIRST: Duration = Duration::from_millis(250);
const CAP: Duration = Duration::from_secs(4);

/// The pause before retry number `attempt` (0-based): doubling from 250 ms,
/// capped at 4 s, and never past what is left of the wait. `None` when
/// nothing is left.
pub fn pause(attempt: u32, left: Duration) -> Option<Duration> {
    if left.is_zero() {
        return None;
    }
    let grown = FIRST.saturating_mul(2u32.saturating_pow(attempt.min(16)));
    Some(grown.min(CAP).min(left))
}

/// Errors worth another try: transport failures, timeouts, 429 and 5xx.
/// A 401/403/404/409/422 says the same thing the next time.
pub fn retryable(e: &kube::Error) -> bool {
    match e {
        kube::Error::Api(s) => s.code == 429 || s.code >= 500,
        _ => true,
    }
}

/// Run `call` until it succeeds, fails for good, or `deadline` passes; the
/// error returned is the last one seen.
pub async fn until<T, F, Fut>(deadline: Instant, mut call: F) -> Result<T, kube::Error>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, kube::Error>>,
{
    let mut attempt = 0;
    loop {
        match call().await {
            Ok(v) => return Ok(v),
            Err(e) if !retryable(&e) => return Err(e),
            Err(e) => {
                let left = deadline.saturating_duration_since(Instant::now());
                let Some(p) = pause(attempt, left) else {
                    return Err(e);
                };
                tracing::debug!("retrying in {p:?} after: {e}");
                tokio::time::sleep(p).await;
                attempt += 1;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_schedule_doubles_caps_and_never_overruns_the_wait() {
        let lots = Duration::from_secs(600);
        let got: Vec<u128> = (0..7)
            .map(|a| pause(a, lots).unwrap().as_millis())
            .collect();
        assert_eq!(got, vec![250, 500, 1000, 2000, 4000, 4000, 4000]);
        assert_eq!(pause(40, lots), Some(CAP), "no overflow on a long outage");
        assert_eq!(
            pause(3, Duration::from_millis(300)),
            Some(Duration::from_millis(300))
        );
        assert_eq!(pause(0, Duration::ZERO), None);
    }

    #[test]
    fn a_refusal_is_not_retried_but_an_overload_is() {
        let api = |code: u16| {
            kube::Error::Api(
                kube::core::Status::failure("x", "y")
                    .with_code(code)
                    .boxed(),
            )
        };
        assert!(!retryable(&api(403)));
        assert!(!retryable(&api(404)));
        assert!(retryable(&api(429)));
        assert!(retryable(&api(503)));
    }

    #[test]
    fn retries_until_success_and_gives_up_at_the_deadline() {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_time()
            .build()
            .unwrap();
        rt.block_on(async {
            let mut n = 0;
            let r: Result<i32, kube::Error> =
                until(Instant::now() + Duration::from_secs(5), || {
                    n += 1;
                    let fail = n < 3;
                    async move {
                        if fail {
                            Err(kube::Error::Api(
                                kube::core::Status::failure("down", "x")
                                    .with_code(503)
                                    .boxed(),
                            ))
                        } else {
                            Ok(7)
                        }
                    }
                })
                .await;
            assert_eq!(r.unwrap(), 7);
            assert_eq!(n, 3);

            let t0 = Instant::now();
            let r: Result<i32, kube::Error> =
                until(Instant::now() + Duration::from_millis(600), || async {
                    Err(kube::Error::Api(
                        kube::core::Status::failure("down", "x")
                            .with_code(503)
                            .boxed(),
                    ))
                })
                .await;
            assert!(r.is_err());
            assert!(t0.elapsed() < Duration::from_secs(2));
        });
    }
}
