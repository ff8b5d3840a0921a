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

/// Run `argv` with `input` on stdin; the trimmed stdout is the answer.
/// Exiting non-zero, taking longer than `timeout`, or printing nothing,
/// too much or something that is not UTF-8 are errors. On timeout the
/// program's whole process group is killed, so a shell's children go too.
pub async fn run(argv: &[String], input: &str, timeout: Duration) -> Result<String, String> {
    let Some((program, args)) = argv.split_first() else {
        return Err("no program to run".to_string());
    };
    let mut child = Command::new(program)
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .process_group(0)
        .spawn()
        .map_err(|e| format!("cannot start {program:?}: {e}"))?;
    let pid = child.id();
    let stdin = child.stdin.take();
    let stdout = child.stdout.take();
    let stderr = child.stderr.take();

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
        (out, err, child.wait().await)
    };
    let (out, err, status) = match tokio::time::timeout(timeout, work).await {
        Ok(done) => done,
        Err(_) => {
            kill_group(pid);
            return Err(format!(
                "timed out after {}",
                humantime::format_duration(timeout)
            ));
        }
    };
    let status = status.map_err(|e| format!("waiting for {program:?}: {e}"))?;
    judge(status, out, err)
}

/// Turn what the program did into its answer or an error message.
fn judge(status: ExitStatus, out: Captured, err: Captured) -> Result<String, String> {
    if !status.success() {
        let stderr = String::from_utf8_lossy(&err.bytes);
        let stderr = stderr.trim();
        let how = match status.code() {
            Some(code) => format!("exited with status {code}"),
            None => format!("was killed ({status})"),
        };
        return Err(if stderr.is_empty() {
            how
        } else {
            format!("{how}: {stderr}")
        });
    }
    if out.truncated {
        return Err(format!("printed more than {} KiB", MAX_OUTPUT / 1024));
    }
    let text = String::from_utf8(out.bytes).map_err(|_| "printed output that is not UTF-8")?;
    let text = text.trim();
    if text.is_empty() {
        return Err("printed no output".to_string());
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
    // The group was created for this child (process_group(0)), and Linux
    // does not reuse a pid while a group of that id exists, so this reaches
    // only what we started. The child itself is also killed on drop.
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
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap()
            .block_on(run(&argv(args), input, timeout))
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
    fn a_non_zero_exit_is_an_error_with_stderr() {
        let err = run_sync(&["sh", "-c", "echo boom >&2; exit 3"], "x", T).unwrap_err();
        assert_eq!(err, "exited with status 3: boom");
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
