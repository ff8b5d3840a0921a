//! The `hal9-migration-lock` Lease: one operator at a time across machines.
//!
//! The local flock only keeps out a second hal9ctl on the same machine. In
//! the cluster, migrate, rollback and emergency scale/restore hold a
//! `coordination.k8s.io/v1` Lease for their whole run, renewed in the
//! background. A holder that dies or loses the API server stops renewing and
//! loses the Lease after its duration; an unexpired Lease is never taken.
//! Every write is conditional on the resourceVersion it was read at.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use k8s_openapi::api::coordination::v1::{Lease, LeaseSpec};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::MicroTime;
use k8s_openapi::jiff::{SignedDuration, Timestamp};
use kube::Api;
use kube::api::PostParams;

use super::client::{Kube, Op, api_error, is_conflict};
use crate::exit::Failure;
use crate::output::os_text::os_text;
use crate::output::shell_word::shell_word;

pub const NAME: &str = "hal9-migration-lock";
pub const USER_ANNOTATION: &str = "hal9.io/lock-user";
pub const HOST_ANNOTATION: &str = "hal9.io/lock-host";
pub const PID_ANNOTATION: &str = "hal9.io/lock-pid";
pub const COMMAND_ANNOTATION: &str = "hal9.io/lock-command";
pub const RELEASED_ANNOTATION: &str = "hal9.io/lock-released";

/// This process, as the Lease names it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LeaseHolder {
    pub user: String,
    pub host: String,
    pub pid: u32,
    pub command: String,
    /// Tells this process from an earlier one on the same host that got the
    /// same pid: that one's unexpired Lease is not ours to renew.
    pub nonce: String,
}

impl LeaseHolder {
    pub fn here() -> LeaseHolder {
        let mut b = [0u8; 4];
        let nonce = match getrandom::fill(&mut b) {
            Ok(()) => format!("{:08x}", u32::from_le_bytes(b)),
            // The start time is unique enough when there is no randomness.
            Err(_) => format!("{:x}", Timestamp::now().as_millisecond()),
        };
        LeaseHolder {
            user: crate::system::audit::current_user(),
            host: nix::unistd::gethostname()
                .map(|h| h.to_string_lossy().into_owned())
                .unwrap_or_else(|_| "unknown-host".into()),
            pid: std::process::id(),
            command: command_line(std::env::args_os()),
            nonce,
        }
    }

    /// `holderIdentity`: user@host, pid and nonce.
    pub fn identity(&self) -> String {
        format!("{}@{}:{}:{}", self.user, self.host, self.pid, self.nonce)
    }
}

/// argv as an operator would type it again: `hal9ctl` first, arguments
/// quoted where a shell would split them.
pub fn command_line(args: impl IntoIterator<Item = std::ffi::OsString>) -> String {
    let mut out = vec!["hal9ctl".to_string()];
    for a in args.into_iter().skip(1) {
        out.push(shell_word(&os_text(&a)).into_owned());
    }
    out.join(" ")
}

/// What a Lease in the cluster says, as plain data.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct LeaseSeen {
    pub holder: Option<String>,
    pub user: Option<String>,
    pub host: Option<String>,
    pub pid: Option<String>,
    pub command: Option<String>,
    pub acquired: Option<Timestamp>,
    pub renewed: Option<Timestamp>,
    pub duration_s: Option<i32>,
}

impl LeaseSeen {
    pub fn of(l: &Lease) -> LeaseSeen {
        let ann = |k: &str| {
            l.metadata
                .annotations
                .as_ref()
                .and_then(|a| a.get(k))
                .cloned()
        };
        let spec = l.spec.clone().unwrap_or_default();
        LeaseSeen {
            holder: spec.holder_identity.filter(|h| !h.is_empty()),
            user: ann(USER_ANNOTATION),
            host: ann(HOST_ANNOTATION),
            pid: ann(PID_ANNOTATION),
            command: ann(COMMAND_ANNOTATION),
            acquired: spec.acquire_time.map(|t| t.0),
            renewed: spec.renew_time.map(|t| t.0),
            duration_s: spec.lease_duration_seconds,
        }
    }

    /// "alice@laptop (pid 4711: hal9ctl rollback …)", or the bare identity
    /// of a holder that is not hal9ctl.
    pub fn describe(&self) -> String {
        let holder = self.holder.clone().unwrap_or_else(|| "nobody".into());
        // The annotations describe the holder only if they are its own: a
        // holder that wrote holderIdentity alone left the last one's there.
        let own = |u: &str, h: &str| {
            let pid = self.pid.as_deref().unwrap_or("?");
            holder.starts_with(&format!("{u}@{h}:{pid}:"))
        };
        match (&self.user, &self.host) {
            (Some(u), Some(h)) if own(u, h) => {
                let pid = self.pid.as_deref().unwrap_or("?");
                match &self.command {
                    Some(c) => format!("{u}@{h} (pid {pid}: {c})"),
                    None => format!("{u}@{h} (pid {pid})"),
                }
            }
            _ => holder,
        }
    }
}

/// Who may write, decided from the Lease alone.
#[derive(Debug, Clone, PartialEq)]
pub enum Decision {
    /// No Lease, or one released by its last holder.
    Free,
    /// This process holds it.
    Ours,
    /// Someone else holds it and renewed it within its duration.
    Held {
        by: String,
        since: Option<Timestamp>,
        until: Timestamp,
    },
    /// Someone else held it but has not renewed it within its duration (or
    /// never recorded a time): dead or cut off.
    Expired {
        by: String,
        since: Option<Timestamp>,
        at: Option<Timestamp>,
    },
}

/// The pure rule. `fallback_s` is the duration of a Lease that records none.
pub fn decide(seen: Option<&LeaseSeen>, me: &str, now: Timestamp, fallback_s: i32) -> Decision {
    let Some(s) = seen else {
        return Decision::Free;
    };
    let Some(holder) = &s.holder else {
        return Decision::Free;
    };
    if holder == me {
        return Decision::Ours;
    }
    let by = s.describe();
    let since = s.acquired;
    // A live holder always writes renewTime; without any time, nothing says it is alive.
    let Some(last) = s.renewed.or(s.acquired) else {
        return Decision::Expired {
            by,
            since,
            at: None,
        };
    };
    let dur = SignedDuration::from_secs(i64::from(s.duration_s.unwrap_or(fallback_s).max(1)));
    let until = last.checked_add(dur).unwrap_or(Timestamp::MAX);
    if now < until {
        Decision::Held { by, since, until }
    } else {
        Decision::Expired {
            by,
            since,
            at: Some(until),
        }
    }
}

/// What acquiring does after the decision.
#[derive(Debug, Clone, PartialEq)]
pub enum Take {
    Create,
    /// Replace the Lease at the version read; `transition` counts a new holder.
    Replace {
        transition: bool,
    },
    Refuse(LeaseRefusal),
}

#[derive(Debug, Clone, PartialEq)]
pub enum LeaseRefusal {
    Held {
        by: String,
        since: Option<Timestamp>,
        until: Timestamp,
    },
    /// Expired, but taking over was not asked for.
    Expired {
        by: String,
        since: Option<Timestamp>,
        at: Option<Timestamp>,
    },
}

pub fn take(d: Decision, exists: bool, steal: bool) -> Take {
    match d {
        Decision::Free if !exists => Take::Create,
        Decision::Free => Take::Replace { transition: true },
        Decision::Ours => Take::Replace { transition: false },
        Decision::Held { by, since, until } => {
            Take::Refuse(LeaseRefusal::Held { by, since, until })
        }
        Decision::Expired { .. } if steal => Take::Replace { transition: true },
        Decision::Expired { by, since, at } => {
            Take::Refuse(LeaseRefusal::Expired { by, since, at })
        }
    }
}

fn secs(t: Timestamp) -> String {
    t.round(k8s_openapi::jiff::Unit::Second)
        .unwrap_or(t)
        .to_string()
}

/// The one line the second operator reads: who, since when, until when,
/// and the command that takes over once it has expired.
pub fn refusal_line(r: &LeaseRefusal, lease: &str, now: Timestamp, takeover: &str) -> String {
    let since =
        |s: &Option<Timestamp>| s.map(|t| format!(" since {}", secs(t))).unwrap_or_default();
    match r {
        LeaseRefusal::Held {
            by,
            since: s,
            until,
        } => {
            let left = until.duration_since(now).as_secs().max(1);
            format!(
                "refused: {lease} is held by {by}{}; it expires at {} ({left} s) unless renewed; once expired: {takeover}",
                since(s),
                secs(*until)
            )
        }
        LeaseRefusal::Expired { by, since: s, at } => {
            let when = match at {
                Some(t) => format!("expired at {}", secs(*t)),
                None => "records no renew time".into(),
            };
            format!(
                "refused: {lease} was held by {by}{} and {when}; nothing is renewing it, but it is taken over only on request: {takeover}",
                since(s)
            )
        }
    }
}

/// `[lease]` settings as the engine uses them.
#[derive(Debug, Clone, Copy)]
pub struct Timing {
    pub duration: Duration,
    pub renew_every: Duration,
}

impl Timing {
    fn duration_s(&self) -> i32 {
        i32::try_from(self.duration.as_secs_f64().ceil() as i64)
            .unwrap_or(i32::MAX)
            .max(1)
    }
}

fn micro(t: Timestamp) -> MicroTime {
    MicroTime(t)
}

fn our_lease(me: &LeaseHolder, t: Timing, from: Option<&Lease>, transition: bool) -> Lease {
    let now = Timestamp::now();
    let mut l = from.cloned().unwrap_or_default();
    l.metadata.name = Some(NAME.into());
    let ann = l.metadata.annotations.get_or_insert_with(Default::default);
    ann.insert(USER_ANNOTATION.into(), me.user.clone());
    ann.insert(HOST_ANNOTATION.into(), me.host.clone());
    ann.insert(PID_ANNOTATION.into(), me.pid.to_string());
    ann.insert(COMMAND_ANNOTATION.into(), me.command.clone());
    ann.remove(RELEASED_ANNOTATION);
    let old = l.spec.take().unwrap_or_default();
    let ours = !transition && from.is_some();
    l.spec = Some(LeaseSpec {
        holder_identity: Some(me.identity()),
        lease_duration_seconds: Some(t.duration_s()),
        acquire_time: if ours {
            old.acquire_time
        } else {
            Some(micro(now))
        },
        renew_time: Some(micro(now)),
        lease_transitions: Some(old.lease_transitions.unwrap_or(0) + i32::from(transition)),
        ..Default::default()
    });
    l
}

/// Shared between the renewer and the writers it guards.
struct RenewalState {
    lost: Option<String>,
    /// When the last successful renewal was sent: the Lease is ours until
    /// this plus its duration, whatever the API server says later.
    renewed: Instant,
    lease: Lease,
}

/// A view of the held Lease that writers check before each write.
#[derive(Clone)]
pub struct LeaseWatch {
    state: Arc<Mutex<RenewalState>>,
    duration: Duration,
    describe: String,
}

impl LeaseWatch {
    fn lock(&self) -> std::sync::MutexGuard<'_, RenewalState> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Why this process may no longer write, if it may not.
    pub fn lost(&self) -> Option<String> {
        let s = self.lock();
        if let Some(why) = &s.lost {
            return Some(why.clone());
        }
        let since = s.renewed.elapsed();
        (since >= self.duration).then(|| {
            format!(
                "it was last renewed {} s ago, longer than its duration of {} s; another operator may hold it now",
                since.as_secs(),
                self.duration.as_secs()
            )
        })
    }

    /// Ok while the Lease is ours; the Failure stops the run before a write.
    pub fn check(&self) -> Result<(), Failure> {
        match self.lost() {
            None => Ok(()),
            Some(why) => Err(Failure::critical(format!(
                "stopped before the next write: this run lost {}: {why}; what was done is journaled",
                self.describe
            ))
            .with_next("hal9ctl rollback status --cluster   # see who holds it now, then resume with --resume")),
        }
    }
}

/// The Lease, held: renewed in the background until `release`.
pub struct Held {
    watch: LeaseWatch,
    renewer: tokio::task::JoinHandle<()>,
    api: Api<Lease>,
    me: String,
}

fn leases(kube: &Kube) -> Api<Lease> {
    Api::namespaced(kube.client.clone(), &kube.namespace)
}

pub fn describe(kube: &Kube) -> String {
    format!("lease {}/{NAME}", kube.namespace)
}

/// Take the Lease or refuse: create it, or replace one that is free, ours,
/// or (with `steal`) expired, at the resourceVersion read.
pub async fn acquire(
    kube: &Kube,
    me: &LeaseHolder,
    t: Timing,
    steal: bool,
    takeover: &str,
) -> Result<Held, Failure> {
    let api = leases(kube);
    let what = describe(kube);
    for _ in 0..4 {
        let current = api
            .get_opt(NAME)
            .await
            .map_err(|e| api_error(kube, Op::named("get", "leases", NAME), e))?;
        let seen = current.as_ref().map(LeaseSeen::of);
        let now = Timestamp::now();
        let d = decide(seen.as_ref(), &me.identity(), now, t.duration_s());
        let sent = Instant::now();
        let written = match take(d, current.is_some(), steal) {
            Take::Refuse(r) => {
                return Err(Failure::critical(refusal_line(&r, &what, now, takeover)));
            }
            Take::Create => {
                let l = our_lease(me, t, None, false);
                match api.create(&PostParams::default(), &l).await {
                    Ok(l) => l,
                    Err(e) if is_conflict(&e) => continue,
                    Err(e) => return Err(api_error(kube, Op::new("create", "leases"), e)),
                }
            }
            Take::Replace { transition } => {
                let l = our_lease(me, t, current.as_ref(), transition);
                match api.replace(NAME, &PostParams::default(), &l).await {
                    Ok(l) => l,
                    Err(e) if is_conflict(&e) => continue,
                    Err(e) => return Err(api_error(kube, Op::named("update", "leases", NAME), e)),
                }
            }
        };
        let watch = LeaseWatch {
            state: Arc::new(Mutex::new(RenewalState {
                lost: None,
                renewed: sent,
                lease: written,
            })),
            duration: t.duration,
            describe: what.clone(),
        };
        let renewer = tokio::spawn(renew(api.clone(), watch.clone(), me.identity(), t));
        return Ok(Held {
            watch,
            renewer,
            api,
            me: me.identity(),
        });
    }
    Err(Failure::critical(format!(
        "{what} kept changing while it was being taken (409 four times); nothing was changed"
    ))
    .with_next("hal9ctl rollback status --cluster   # another operator is starting"))
}

/// Renew every `renew_every` at the version last written; a conflict is
/// re-read, and a Lease that names someone else now is lost for good.
async fn renew(api: Api<Lease>, w: LeaseWatch, me: String, t: Timing) {
    loop {
        tokio::time::sleep(t.renew_every).await;
        let mut l = w.lock().lease.clone();
        if let Some(s) = l.spec.as_mut() {
            s.renew_time = Some(micro(Timestamp::now()));
        }
        let sent = Instant::now();
        match api.replace(NAME, &PostParams::default(), &l).await {
            Ok(new) => {
                let mut s = w.lock();
                s.renewed = sent;
                s.lease = new;
            }
            Err(e) if is_conflict(&e) => match api.get_opt(NAME).await {
                Ok(Some(there)) if LeaseSeen::of(&there).holder.as_deref() == Some(me.as_str()) => {
                    // Someone touched it (an annotation) but it is still ours.
                    w.lock().lease = there;
                }
                Ok(there) => {
                    let by = there
                        .as_ref()
                        .map(|l| LeaseSeen::of(l).describe())
                        .unwrap_or_else(|| "nobody (it was deleted)".into());
                    w.lock().lost = Some(format!("it is held by {by} now"));
                    tracing::error!("{}: lost to {by}", w.describe);
                    return;
                }
                Err(e) => tracing::warn!("{}: re-reading after a conflict: {e}", w.describe),
            },
            Err(e) => tracing::warn!("{}: renewal failed: {e}", w.describe),
        }
        if let Some(why) = w.lost() {
            tracing::error!("{}: {why}", w.describe);
            return;
        }
    }
}

/// "lease ns/hal9-migration-lock is held by … until …" while someone holds
/// it; `None` when it is free, expired or cannot be read.
pub async fn holder_now(kube: &Kube) -> Option<String> {
    let l = leases(kube).get_opt(NAME).await.ok()??;
    match decide(Some(&LeaseSeen::of(&l)), "", Timestamp::now(), 15) {
        Decision::Held { by, until, .. } => Some(format!(
            "{} is held by {by} until {}",
            describe(kube),
            secs(until)
        )),
        _ => None,
    }
}

/// How the end of a run left the Lease.
#[derive(Debug, Clone, PartialEq)]
pub enum Released {
    Released,
    /// It was lost during the run, so it was not ours to release.
    Lost(String),
    /// The release did not land; it expires by itself.
    Expires(String),
}

impl Held {
    pub fn watch(&self) -> LeaseWatch {
        self.watch.clone()
    }

    /// Stop renewing and hand the Lease back: holder cleared at the version
    /// last written, so the next operator need not wait for it to expire.
    pub async fn release(self) -> Released {
        self.renewer.abort();
        if let Some(why) = self.watch.lost() {
            return Released::Lost(why);
        }
        let mut l = self.watch.lock().lease.clone();
        for _ in 0..3 {
            if LeaseSeen::of(&l).holder.as_deref() != Some(self.me.as_str()) {
                return Released::Lost(format!(
                    "it is held by {} now",
                    LeaseSeen::of(&l).describe()
                ));
            }
            let now = Timestamp::now();
            if let Some(s) = l.spec.as_mut() {
                s.holder_identity = None;
                s.renew_time = Some(micro(now));
            }
            l.metadata
                .annotations
                .get_or_insert_with(Default::default)
                .insert(RELEASED_ANNOTATION.into(), secs(now));
            match self.api.replace(NAME, &PostParams::default(), &l).await {
                Ok(_) => return Released::Released,
                Err(e) if is_conflict(&e) => match self.api.get_opt(NAME).await {
                    Ok(Some(there)) => l = there,
                    Ok(None) => return Released::Released,
                    Err(e) => return Released::Expires(e.to_string()),
                },
                Err(e) => return Released::Expires(e.to_string()),
            }
        }
        Released::Expires("it kept changing (409 three times)".into())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> Timestamp {
        s.parse().unwrap()
    }

    fn seen(holder: &str, renewed: Option<&str>, dur: Option<i32>) -> LeaseSeen {
        LeaseSeen {
            holder: Some(holder.into()),
            user: Some("alice".into()),
            host: Some("laptop".into()),
            pid: Some("4711".into()),
            command: Some("hal9ctl rollback --cluster".into()),
            acquired: Some(at("2026-12-01T10:00:00Z")),
            renewed: renewed.map(at),
            duration_s: dur,
        }
    }

    const ME: &str = "bob@desk:99:0000abcd";

    #[test]
    fn no_lease_or_a_released_one_is_free() {
        let now = at("2026-12-01T10:00:05Z");
        assert_eq!(decide(None, ME, now, 15), Decision::Free);
        let released = LeaseSeen {
            holder: None,
            ..seen("x", Some("2026-12-01T10:00:00Z"), Some(15))
        };
        assert_eq!(decide(Some(&released), ME, now, 15), Decision::Free);
        assert_eq!(take(Decision::Free, false, false), Take::Create);
        assert_eq!(
            take(Decision::Free, true, false),
            Take::Replace { transition: true }
        );
    }

    #[test]
    fn our_own_identity_is_ours_even_when_expired() {
        let s = seen(ME, Some("2026-12-01T09:00:00Z"), Some(15));
        assert_eq!(
            decide(Some(&s), ME, at("2026-12-01T10:00:00Z"), 15),
            Decision::Ours
        );
    }

    #[test]
    fn a_renewed_lease_is_held_until_renew_time_plus_duration() {
        let s = seen(
            "alice@laptop:4711:1",
            Some("2026-12-01T10:00:10Z"),
            Some(15),
        );
        let d = decide(Some(&s), ME, at("2026-12-01T10:00:24Z"), 99);
        assert_eq!(
            d,
            Decision::Held {
                by: "alice@laptop (pid 4711: hal9ctl rollback --cluster)".into(),
                since: Some(at("2026-12-01T10:00:00Z")),
                until: at("2026-12-01T10:00:25Z"),
            }
        );
        // Never stolen while held, whatever the flag says.
        assert!(matches!(
            take(d, true, true),
            Take::Refuse(LeaseRefusal::Held { .. })
        ));
    }

    #[test]
    fn at_its_end_the_lease_is_expired_and_taken_only_with_steal() {
        let s = seen(
            "alice@laptop:4711:1",
            Some("2026-12-01T10:00:10Z"),
            Some(15),
        );
        let d = decide(Some(&s), ME, at("2026-12-01T10:00:25Z"), 99);
        assert!(
            matches!(&d, Decision::Expired { at: Some(t), .. } if *t == super::tests::at("2026-12-01T10:00:25Z")),
            "{d:?}"
        );
        assert!(matches!(
            take(d.clone(), true, false),
            Take::Refuse(LeaseRefusal::Expired { .. })
        ));
        assert_eq!(take(d, true, true), Take::Replace { transition: true });
    }

    #[test]
    fn a_lease_without_times_is_expired_and_one_without_duration_uses_the_fallback() {
        let mut s = seen("alice@laptop:4711:1", None, None);
        s.acquired = None;
        assert!(matches!(
            decide(Some(&s), ME, at("2026-12-01T10:00:00Z"), 15),
            Decision::Expired { at: None, .. }
        ));
        let s = seen("other-tool", Some("2026-12-01T10:00:00Z"), None);
        assert!(matches!(
            decide(Some(&s), ME, at("2026-12-01T10:00:14Z"), 15),
            Decision::Held { .. }
        ));
        // A holder that is not hal9ctl is named by its identity.
        let mut s = s;
        s.user = None;
        assert_eq!(s.describe(), "other-tool");
    }

    #[test]
    fn annotations_left_by_an_earlier_holder_do_not_name_a_new_one() {
        let s = seen(
            "mallory@elsewhere:1:feed",
            Some("2026-12-01T10:00:00Z"),
            Some(15),
        );
        assert_eq!(s.describe(), "mallory@elsewhere:1:feed");
        let s = seen(
            "alice@laptop:4711:99",
            Some("2026-12-01T10:00:00Z"),
            Some(15),
        );
        assert_eq!(
            s.describe(),
            "alice@laptop (pid 4711: hal9ctl rollback --cluster)"
        );
    }

    #[test]
    fn a_hostile_duration_does_not_overflow() {
        let s = seen("x", Some("2026-12-01T10:00:00Z"), Some(i32::MAX));
        assert!(matches!(
            decide(Some(&s), ME, at("2026-12-01T10:00:00Z"), 15),
            Decision::Held { .. }
        ));
        let s = seen("x", Some("2026-12-01T10:00:00Z"), Some(-5));
        assert!(matches!(
            decide(Some(&s), ME, at("2026-12-01T10:00:01Z"), 15),
            Decision::Expired { .. }
        ));
    }

    #[test]
    fn the_refusal_is_one_line_with_holder_since_expiry_and_takeover() {
        let r = LeaseRefusal::Held {
            by: "alice@laptop (pid 4711: hal9ctl rollback --cluster)".into(),
            since: Some(at("2026-12-01T10:00:00Z")),
            until: at("2026-12-01T10:00:25Z"),
        };
        let line = refusal_line(
            &r,
            "lease hal9/hal9-migration-lock",
            at("2026-12-01T10:00:20Z"),
            "hal9ctl migrate --cluster --steal-expired-lock",
        );
        assert!(!line.contains('\n'), "{line}");
        assert!(line.contains("held by alice@laptop (pid 4711"), "{line}");
        assert!(line.contains("since 2026-12-01T10:00:00Z"), "{line}");
        assert!(
            line.contains("expires at 2026-12-01T10:00:25Z (5 s)"),
            "{line}"
        );
        assert!(
            line.ends_with("hal9ctl migrate --cluster --steal-expired-lock"),
            "{line}"
        );
    }

    #[test]
    fn the_command_line_is_quoted_where_a_shell_would_split_it() {
        let args = [
            "/usr/bin/hal9ctl",
            "rollback",
            "--components",
            "a b",
            "it's",
        ]
        .map(std::ffi::OsString::from);
        assert_eq!(
            command_line(args),
            r"hal9ctl rollback --components 'a b' 'it'\''s'"
        );
    }

    #[test]
    fn a_new_holder_gets_fresh_times_and_a_transition_a_renewal_keeps_acquire_time() {
        let me = LeaseHolder {
            user: "bob".into(),
            host: "desk".into(),
            pid: 99,
            command: "hal9ctl migrate --cluster".into(),
            nonce: "0000abcd".into(),
        };
        let t = Timing {
            duration: Duration::from_millis(2500),
            renew_every: Duration::from_secs(1),
        };
        let old = Lease {
            metadata: kube::api::ObjectMeta {
                resource_version: Some("42".into()),
                ..Default::default()
            },
            spec: Some(LeaseSpec {
                holder_identity: Some("alice@laptop:4711:1".into()),
                acquire_time: Some(micro(at("2026-12-01T10:00:00Z"))),
                lease_transitions: Some(2),
                ..Default::default()
            }),
        };
        let l = our_lease(&me, t, Some(&old), true);
        let spec = l.spec.clone().unwrap();
        assert_eq!(spec.holder_identity.as_deref(), Some(ME));
        assert_eq!(spec.lease_duration_seconds, Some(3), "rounded up");
        assert_eq!(spec.lease_transitions, Some(3));
        assert_ne!(spec.acquire_time, Some(micro(at("2026-12-01T10:00:00Z"))));
        assert_eq!(
            l.metadata.resource_version.as_deref(),
            Some("42"),
            "conditional"
        );
        let ann = l.metadata.annotations.clone().unwrap();
        assert_eq!(ann[COMMAND_ANNOTATION], "hal9ctl migrate --cluster");
        let renewed = our_lease(&me, t, Some(&l), false);
        assert_eq!(renewed.spec.unwrap().acquire_time, spec.acquire_time);
    }
}
