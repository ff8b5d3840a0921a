//! Pure decisions of `hal9ctl restart --cluster`, made before anything is written.

use crate::cluster::Target;
use crate::exit::Failure;

/// A paused Deployment takes the new restartedAt into its spec but never
/// rolls it out, so the restart would wait for nothing: refuse, with the
/// command that resumes it. `None` when the restart may go ahead.
pub fn paused_refusal(paused: bool, t: &Target) -> Option<Failure> {
    paused.then(|| {
        Failure::critical(format!(
            "refused: deployment {}/{} is paused, so a restart would never roll out",
            t.namespace, t.deployment
        ))
        .with_next(format!(
            "kubectl rollout resume deployment/{} -n {}   # then restart again",
            t.deployment, t.namespace
        ))
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::exit::Exit;

    fn target() -> Target {
        Target::shipped()
    }

    #[test]
    fn a_paused_deployment_is_refused_with_the_resume_command() {
        let f = paused_refusal(true, &target()).unwrap();
        assert_eq!(f.exit, Exit::Critical);
        assert!(
            f.message.contains("hal9/hal9-server is paused"),
            "{}",
            f.message
        );
        assert_eq!(
            f.next.as_deref(),
            Some("kubectl rollout resume deployment/hal9-server -n hal9   # then restart again")
        );
        assert!(paused_refusal(false, &target()).is_none());
    }
}
