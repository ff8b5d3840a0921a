//! Waiting on the cluster through watches, not a timer: each watched set
//! (one named object, or the objects of a label selector) is a kube
//! `watcher` feeding a reflector store, and a pure `look` over the stores
//! is asked after every change whether the wait is over. A deadline bounds
//! the whole wait; transient API errors are retried (the watcher
//! re-lists or resumes) with `wait_retry`'s schedule until it passes.

use std::fmt::Debug;
use std::time::{Duration, Instant};

use futures::StreamExt;
use futures::stream::{BoxStream, SelectAll};
use kube::Api;
use kube::Resource;
use kube::runtime::reflector::{self, Store};
use kube::runtime::utils::Backoff;
use kube::runtime::watcher::{self, Event};
use kube::runtime::{WatchStreamExt, watcher as watch};
use serde::de::DeserializeOwned;

/// Server-side lifetime of one watch request. Shorter than the client's
/// read timeout (`client::CALL_TIMEOUT`), so a quiet watch is closed by
/// the server and resumed, never cut as a read timeout; a server that
/// stops answering still trips the read timeout and reads as an error.
const WATCH_SECS: u32 = 5;

/// What one feed reported: the objects changed (and whether that completed
/// a full listing), or an error the watcher will recover from on its own.
enum Seen {
    Changed { listed: bool },
    Failed(watcher::Error),
}

/// One watched set, tagged with what it watches for error messages.
pub struct Feed {
    resource: &'static str,
    stream: BoxStream<'static, Seen>,
}

/// Watch the object `name` of `api`.
pub fn named<K>(api: Api<K>, resource: &'static str, name: &str) -> (Store<K>, Feed)
where
    K: Resource<DynamicType = ()> + Clone + DeserializeOwned + Debug + Send + Sync + 'static,
{
    feed(
        api,
        resource,
        watcher::Config::default().fields(&format!("metadata.name={name}")),
    )
}

/// Watch the objects of `api` that match the label selector `labels`.
pub fn labelled<K>(api: Api<K>, resource: &'static str, labels: &str) -> (Store<K>, Feed)
where
    K: Resource<DynamicType = ()> + Clone + DeserializeOwned + Debug + Send + Sync + 'static,
{
    feed(api, resource, watcher::Config::default().labels(labels))
}

fn feed<K>(api: Api<K>, resource: &'static str, cfg: watcher::Config) -> (Store<K>, Feed)
where
    K: Resource<DynamicType = ()> + Clone + DeserializeOwned + Debug + Send + Sync + 'static,
{
    let (store, writer) = reflector::store();
    let stream = watch(api, cfg.timeout(WATCH_SECS))
        .backoff(RetrySchedule::default())
        .reflect(writer)
        .filter_map(|r| {
            futures::future::ready(match r {
                // Sent before the list call, so it says nothing about
                // whether the API server answers.
                Ok(Event::Init) => None,
                Ok(e) => Some(Seen::Changed {
                    listed: matches!(e, Event::InitDone),
                }),
                Err(e) => Some(Seen::Failed(e)),
            })
        })
        .boxed();
    (store, Feed { resource, stream })
}

/// `wait_retry::pause`'s schedule as a watcher backoff, so a watch and a
/// retried read back off alike; the deadline, not the schedule, ends a wait.
#[derive(Default)]
struct RetrySchedule {
    attempt: u32,
}

impl Iterator for RetrySchedule {
    type Item = Duration;

    fn next(&mut self) -> Option<Duration> {
        let p = super::wait_retry::pause(self.attempt, Duration::MAX);
        self.attempt = self.attempt.saturating_add(1);
        p
    }
}

impl Backoff for RetrySchedule {
    fn reset(&mut self) {
        self.attempt = 0;
    }
}

/// A judgement over the stores: the wait is over, or still on, each with
/// what the caller reports.
#[derive(Debug, Clone, PartialEq)]
pub enum Look<T> {
    Done(T),
    Waiting(T),
}

/// A watch error, with what was being watched.
#[derive(Debug)]
pub struct WatchFailed {
    /// "list" or "watch": the call that failed.
    pub verb: &'static str,
    pub resource: &'static str,
    pub error: kube::Error,
}

impl WatchFailed {
    fn of(resource: &'static str, e: watcher::Error) -> WatchFailed {
        let (verb, error) = match e {
            watcher::Error::InitialListFailed(e) => ("list", e),
            watcher::Error::WatchStartFailed(e) | watcher::Error::WatchFailed(e) => ("watch", e),
            watcher::Error::WatchError(s) => ("watch", kube::Error::Api(s)),
            watcher::Error::NoResourceVersion => (
                "watch",
                kube::Error::Api(
                    kube::core::Status::failure(
                        "the API server sent no resourceVersion, so the watch cannot resume",
                        "NoResourceVersion",
                    )
                    .with_code(422)
                    .boxed(),
                ),
            ),
        };
        WatchFailed {
            verb,
            resource,
            error,
        }
    }

    /// Turn it into the operator's message, as `client::api_error` words it.
    pub fn failure(self, kube: &super::Kube) -> crate::exit::Failure {
        super::api_error(kube, super::Op::new(self.verb, self.resource), self.error)
    }
}

/// How a wait ended.
#[derive(Debug)]
pub enum Ended<T> {
    /// `look` said done.
    Done(T),
    /// The deadline passed while the watches answered: `last` is the last
    /// judgement (`None`: no feed had listed yet).
    OutOfTime(Option<T>),
    /// The wait cannot be judged: a feed failed for good (a refusal), or
    /// was failing when the deadline passed.
    Failed(WatchFailed),
}

/// Which feeds have listed once, and which failed with no success since:
/// the pure bookkeeping of `until`.
#[derive(Debug)]
struct Health {
    listed: Vec<bool>,
    failing: Vec<Option<WatchFailed>>,
}

impl Health {
    fn new(n: usize) -> Health {
        Health {
            listed: vec![false; n],
            failing: (0..n).map(|_| None).collect(),
        }
    }

    /// Record feed `i`'s news; a refusal (the same answer next time) is
    /// handed back to end the wait at once.
    fn saw(&mut self, i: usize, resource: &'static str, seen: Seen) -> Result<(), WatchFailed> {
        match seen {
            Seen::Changed { listed } => {
                if let Some(l) = self.listed.get_mut(i) {
                    *l |= listed;
                }
                if let Some(f) = self.failing.get_mut(i) {
                    *f = None;
                }
                Ok(())
            }
            Seen::Failed(e) => {
                let w = WatchFailed::of(resource, e);
                if !super::wait_retry::retryable(&w.error) {
                    return Err(w);
                }
                tracing::debug!("watch of {resource} failed, retrying: {}", w.error);
                if let Some(f) = self.failing.get_mut(i) {
                    *f = Some(w);
                }
                Ok(())
            }
        }
    }

    fn all_listed(&self) -> bool {
        self.listed.iter().all(|l| *l)
    }

    /// At the deadline: a feed still failing means the state is not known
    /// to be current, so its error is the answer, not the stale judgement.
    fn at_deadline<T>(&mut self, last: Option<T>) -> Ended<T> {
        match self.failing.iter_mut().find_map(Option::take) {
            Some(w) => Ended::Failed(w),
            None => Ended::OutOfTime(last),
        }
    }
}

/// Drive `feeds` until `look` says done or `deadline` passes. `look` runs
/// after every change once every feed has listed; its `Waiting` values are
/// what `OutOfTime` carries.
pub async fn until<T>(
    deadline: Instant,
    feeds: Vec<Feed>,
    mut look: impl FnMut() -> Look<T>,
) -> Ended<T> {
    let mut health = Health::new(feeds.len());
    let mut merged: SelectAll<BoxStream<'static, (usize, &'static str, Seen)>> = feeds
        .into_iter()
        .enumerate()
        .map(|(i, f)| {
            let resource = f.resource;
            f.stream.map(move |s| (i, resource, s)).boxed()
        })
        .collect();
    let mut last = None;
    let stop = tokio::time::sleep_until(deadline.into());
    tokio::pin!(stop);
    loop {
        tokio::select! {
            _ = &mut stop => return health.at_deadline(last),
            next = merged.next() => {
                // A watcher never ends on its own; if one did, only the
                // deadline is left to wait for.
                let Some((i, resource, seen)) = next else {
                    (&mut stop).await;
                    return health.at_deadline(last);
                };
                if let Err(refused) = health.saw(i, resource, seen) {
                    return Ended::Failed(refused);
                }
                if !health.all_listed() {
                    continue;
                }
                match look() {
                    Look::Done(t) => return Ended::Done(t),
                    Look::Waiting(t) => last = Some(t),
                }
            }
        }
    }
}

/// The objects of a store, owned (the judgements take plain slices).
pub fn objects<K: Resource<DynamicType = ()> + Clone>(store: &Store<K>) -> Vec<K> {
    store.state().iter().map(|o| K::clone(o)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn api(code: u16) -> watcher::Error {
        watcher::Error::WatchStartFailed(kube::Error::Api(
            kube::core::Status::failure("x", "y")
                .with_code(code)
                .boxed(),
        ))
    }

    #[test]
    fn a_refusal_ends_the_wait_at_once_and_an_outage_does_not() {
        let mut h = Health::new(2);
        assert!(h.saw(0, "pods", Seen::Failed(api(503))).is_ok());
        let refused = h.saw(1, "pods", Seen::Failed(api(403))).unwrap_err();
        assert_eq!(
            (refused.verb, refused.resource),
            ("watch", "pods"),
            "named for `kubectl auth can-i watch pods`"
        );
    }

    #[test]
    fn a_list_that_fails_is_named_as_a_list() {
        let e = watcher::Error::InitialListFailed(kube::Error::Api(
            kube::core::Status::failure("x", "y").with_code(403).boxed(),
        ));
        let w = WatchFailed::of("deployments", e);
        assert_eq!((w.verb, w.resource), ("list", "deployments"));
    }

    #[test]
    fn judged_only_once_every_feed_has_listed() {
        let mut h = Health::new(2);
        h.saw(0, "deployments", Seen::Changed { listed: true })
            .unwrap();
        h.saw(1, "pods", Seen::Changed { listed: false }).unwrap();
        assert!(!h.all_listed(), "the pods' initial list is not complete");
        h.saw(1, "pods", Seen::Changed { listed: true }).unwrap();
        assert!(h.all_listed());
        // A later change that is no InitDone keeps the feed listed.
        h.saw(1, "pods", Seen::Changed { listed: false }).unwrap();
        assert!(h.all_listed());
    }

    #[test]
    fn at_the_deadline_a_feed_still_failing_is_the_answer_and_a_recovered_one_is_not() {
        let mut h = Health::new(2);
        h.saw(0, "deployments", Seen::Failed(api(503))).unwrap();
        assert!(matches!(
            h.at_deadline(Some(1)),
            Ended::Failed(WatchFailed {
                resource: "deployments",
                ..
            })
        ));

        let mut h = Health::new(2);
        h.saw(0, "deployments", Seen::Failed(api(503))).unwrap();
        h.saw(0, "deployments", Seen::Changed { listed: true })
            .unwrap();
        assert!(matches!(h.at_deadline(Some(1)), Ended::OutOfTime(Some(1))));
        assert!(matches!(
            Health::new(1).at_deadline::<i32>(None),
            Ended::OutOfTime(None)
        ));
    }

    #[test]
    fn the_watch_backoff_is_the_retry_schedule_and_restarts_after_a_success() {
        let mut b = RetrySchedule::default();
        let got: Vec<u128> = b.by_ref().take(3).map(|d| d.as_millis()).collect();
        assert_eq!(got, vec![250, 500, 1000]);
        b.reset();
        assert_eq!(b.next(), Some(Duration::from_millis(250)));
    }

    #[test]
    fn a_deadline_with_no_answer_at_all_ends_the_wait_on_time() {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_time()
            .build()
            .unwrap();
        rt.block_on(async {
            let silent = Feed {
                resource: "pods",
                stream: futures::stream::pending().boxed(),
            };
            let t0 = Instant::now();
            let ended = until(
                Instant::now() + Duration::from_millis(200),
                vec![silent],
                || Look::Done(1),
            )
            .await;
            assert!(matches!(ended, Ended::OutOfTime(None)), "{ended:?}");
            assert!(t0.elapsed() < Duration::from_secs(2));
        });
    }

    #[test]
    fn a_change_is_judged_and_done_ends_the_wait() {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_time()
            .build()
            .unwrap();
        rt.block_on(async {
            let changes = Feed {
                resource: "pods",
                stream: futures::stream::iter([
                    Seen::Changed { listed: true },
                    Seen::Changed { listed: false },
                    Seen::Changed { listed: false },
                ])
                .chain(futures::stream::pending())
                .boxed(),
            };
            let mut n = 0;
            let ended = until(
                Instant::now() + Duration::from_secs(5),
                vec![changes],
                || {
                    n += 1;
                    if n == 2 {
                        Look::Done(n)
                    } else {
                        Look::Waiting(n)
                    }
                },
            )
            .await;
            assert!(matches!(ended, Ended::Done(2)), "{ended:?}");
        });
    }
}
