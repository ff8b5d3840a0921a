//! The `command` processor: an external program gets the prompt on stdin and
//! answers on stdout, so any LLM CLI can be a neuron.

use std::process::Stdio;
use std::time::Duration;

use tokio::io::AsyncWriteExt;

/// Run once. Non-zero exit, a timeout, non-UTF-8 or empty output are failures.
pub async fn run(argv: &[String], input: &str, timeout: Duration) -> Result<String, String> {
    let (program, args) = argv.split_first().ok_or("no program")?;
    let mut child = tokio::process::Command::new(program)
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .map_err(|e| format!("cannot start {program}: {e}"))?;
    let mut stdin = child.stdin.take().ok_or("no stdin")?;
    let prompt = input.to_string();
    // Feed stdin concurrently: a program that answers before reading all of it must not deadlock us.
    let feeder = tokio::spawn(async move {
        let _ = stdin.write_all(prompt.as_bytes()).await;
        let _ = stdin.shutdown().await;
    });
    let waited = tokio::time::timeout(timeout, child.wait_with_output()).await;
    feeder.abort();
    let out = match waited {
        Err(_) => {
            return Err(format!(
                "{program} timed out after {}",
                humantime::format_duration(timeout)
            ));
        }
        Ok(Err(e)) => return Err(format!("{program}: {e}")),
        Ok(Ok(o)) => o,
    };
    if !out.status.success() {
        let why = String::from_utf8_lossy(&out.stderr)
            .lines()
            .next()
            .unwrap_or("")
            .trim()
            .to_string();
        let code = out
            .status
            .code()
            .map(|c| c.to_string())
            .unwrap_or_else(|| "a signal".into());
        return Err(if why.is_empty() {
            format!("{program} exited with {code}")
        } else {
            format!("{program} exited with {code}: {why}")
        });
    }
    let text = String::from_utf8(out.stdout)
        .map_err(|_| format!("{program} printed output that is not UTF-8"))?;
    let text = text.trim();
    if text.is_empty() {
        return Err(format!("{program} printed nothing"));
    }
    Ok(text.to_string())
}
