//! The `command` processor: an external program gets the prompt on stdin
//! and answers on stdout, which lets an operator plug in any LLM CLI.

use std::process::{ExitStatus, Stdio};
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWriteExt};
use tokio::process::Command;

/// Answers larger than this are refused: a program printing without end
/// must not exhaust memory.
const MAX_OUTPUT: usize = 1024 * 1024;
/// How much of stderr goes into the error message.
const MAX_STDERR: usize = 4096;

/// Why a call failed. `summary` is what public routes show (`/health`, the
/// signal trace); `stderr` may hold anything the program printed, secrets
/// included, so it goes to the server log only.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CommandFailure {
    pub summary: String,
    pub stderr: String,
}

impl CommandFailure {
    fn new(summary: impl Into<String>) -> CommandFailure {
        CommandFailure {
            summary: summary.into(),
            stderr: String::new(),
        }
    }
}

/// How a program is run: its timeout and what it may inherit.
#[derive(Debug, Clone, Copy)]
pub struct Call<'a> {
    pub timeout: Duration,
    /// Names of the server's environment variables the program gets; no others.
    pub env: &'a [String],
}

/// A started program and its process group. Dropping it before the program
/// was reaped (a timeout, or the request was cancelled) kills the whole
/// group, so a shell's children go too, not only the shell.
struct Running {
    child: tokio::process::Child,
    reaped: bool,
}

impl Drop for Running {
    fn drop(&mut self) {
        if !self.reaped {
            kill_group(self.child.id());
        }
    }
}

/// Run `argv` with `input` on stdin; the trimmed stdout is the answer.
/// Exiting non-zero, taking longer than `timeout`, or printing nothing,
/// too much or something that is not UTF-8 are errors.
pub async fn run(argv: &[String], input: &str, call: Call<'_>) -> Result<String, CommandFailure> {
    let Some((program, args)) = argv.split_first() else {
        return Err(CommandFailure::new("no program to run"));
    };
    let mut cmd = Command::new(program);
    cmd.args(args).env_clear();
    for name in call.env {
        if let Some(value) = std::env::var_os(name) {
            cmd.env(name, value);
        }
    }
    let child = cmd
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .process_group(0)
        .spawn()
        .map_err(|e| CommandFailure::new(format!("cannot start {program:?}: {e}")))?;
    let mut running = Running {
        child,
        reaped: false,
    };
    let stdin = running.child.stdin.take();
    let stdout = running.child.stdout.take();
    let stderr = running.child.stderr.take();

    let work = async {
        let write = async {
            if let Some(mut stdin) = stdin {
                // A program that does not read its input closes the pipe
                // early; that is its business, not an error.
                let _ = stdin.write_all(input.as_bytes()).await;
            }
        };
        let ((), out, err) = tokio::join!(
            write,
            read_capped(stdout, MAX_OUTPUT),
            read_capped(stderr, MAX_STDERR)
        );
        (out, err, running.child.wait().await)
    };
    let Ok((out, err, status)) = tokio::time::timeout(call.timeout, work).await else {
        // `running` drops here, unreaped: the group is killed.
        return Err(CommandFailure::new(format!(
            "timed out after {}",
            humantime::format_duration(call.timeout)
        )));
    };
    running.reaped = status.is_ok();
    let status =
        status.map_err(|e| CommandFailure::new(format!("waiting for {program:?}: {e}")))?;
    judge(status, out, err)
}

/// Turn what the program did into its answer or a failure.
fn judge(status: ExitStatus, out: Captured, err: Captured) -> Result<String, CommandFailure> {
    if !status.success() {
        let how = match status.code() {
            Some(code) => format!("exited with status {code}"),
            None => format!("was killed ({status})"),
        };
        return Err(CommandFailure {
            summary: how,
            stderr: String::from_utf8_lossy(&err.bytes).trim().to_string(),
        });
    }
    if out.truncated {
        return Err(CommandFailure::new(format!(
            "printed more than {} KiB",
            MAX_OUTPUT / 1024
        )));
    }
    let text = String::from_utf8(out.bytes)
        .map_err(|_| CommandFailure::new("printed output that is not UTF-8"))?;
    let text = text.trim();
    if text.is_empty() {
        return Err(CommandFailure::new("printed no output"));
    }
    Ok(text.to_string())
}

#[derive(Debug, Default)]
struct Captured {
    bytes: Vec<u8>,
    truncated: bool,
}

/// Keep the first `cap` bytes and drain the rest, so the program never
/// blocks on a full pipe.
async fn read_capped<R: AsyncRead + Unpin>(reader: Option<R>, cap: usize) -> Captured {
    let mut captured = Captured::default();
    let Some(mut reader) = reader else {
        return captured;
    };
    let mut buf = [0u8; 8192];
    loop {
        match reader.read(&mut buf).await {
            Ok(0) | Err(_) => break,
            Ok(n) => {
                let room = cap.saturating_sub(captured.bytes.len());
                captured.bytes.extend_from_slice(&buf[..n.min(room)]);
                captured.truncated |= n > room;
            }
        }
    }
    captured
}

fn kill_group(pid: Option<u32>) {
    use nix::sys::signal::{Signal, killpg};
    use nix::unistd::Pid;
    // The group was created for this child (process_group(0)), and the
    // child is not reaped yet, so its pid (the group's id) cannot have been
    // reused: this reaches only what we started. The child itself is also
    // killed on drop.
    if let Some(pid) = pid.and_then(|p| i32::try_from(p).ok()) {
        let _ = killpg(Pid::from_raw(pid), Signal::SIGKILL);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn argv(args: &[&str]) -> Vec<String> {
        args.iter().map(|s| s.to_string()).collect()
    }

    fn run_sync(args: &[&str], input: &str, timeout: Duration) -> Result<String, String> {
        run_full(args, input, timeout).map_err(|f| f.summary)
    }

    fn run_full(args: &[&str], input: &str, timeout: Duration) -> Result<String, CommandFailure> {
        let env = ["PATH".to_string()];
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap()
            .block_on(run(&argv(args), input, Call { timeout, env: &env }))
    }

    const T: Duration = Duration::from_secs(10);

    #[test]
    fn the_prompt_goes_in_and_the_trimmed_reply_comes_out() {
        assert_eq!(run_sync(&["cat"], "  hello\n", T).unwrap(), "hello");
        assert_eq!(
            run_sync(&["tr", "a-z", "A-Z"], "shout", T).unwrap(),
            "SHOUT"
        );
    }

    #[test]
    fn a_non_zero_exit_is_summarised_and_stderr_kept_apart() {
        let err = run_full(&["sh", "-c", "echo boom >&2; exit 3"], "x", T).unwrap_err();
        assert_eq!(err.summary, "exited with status 3");
        assert_eq!(err.stderr, "boom");
    }

    #[test]
    fn garbage_and_silence_are_errors() {
        let err = run_sync(&["printf", "\\377\\376"], "x", T).unwrap_err();
        assert!(err.contains("not UTF-8"), "{err}");
        let err = run_sync(&["true"], "x", T).unwrap_err();
        assert_eq!(err, "printed no output");
    }

    #[test]
    fn a_program_that_hangs_is_killed_with_its_children() {
        let dir = tempfile::tempdir().unwrap();
        let pidfile = dir.path().join("child.pid");
        let script = format!("sleep 30 & echo $! > {}; wait", pidfile.display());
        let err = run_sync(&["sh", "-c", &script], "x", Duration::from_millis(300)).unwrap_err();
        assert_eq!(err, "timed out after 300ms");
        let pid = std::fs::read_to_string(&pidfile)
            .unwrap()
            .trim()
            .to_string();
        // The background `sleep` was in the killed group; wait for it to be
        // gone (or a zombie awaiting its new parent) rather than guess a delay.
        let stat = format!("/proc/{pid}/stat");
        let gone = (0..200).any(|_| {
            let alive = std::fs::read_to_string(&stat)
                .map(|s| {
                    !s.rsplit(')')
                        .next()
                        .unwrap_or("")
                        .trim_start()
                        .starts_with('Z')
                })
                .unwrap_or(false);
            if alive {
                std::thread::sleep(Duration::from_millis(50));
            }
            !alive
        });
        assert!(gone, "the child {pid} of the timed-out command survived");
    }

    #[test]
    fn a_missing_program_is_an_error() {
        let err = run_sync(&["/nonexistent/llm-cli"], "x", T).unwrap_err();
        assert!(
            err.starts_with("cannot start \"/nonexistent/llm-cli\""),
            "{err}"
        );
    }
}
