//! Writes the man pages into the directory given as the first argument
//! (scripts/gen-man.sh runs it with man/).

fn main() -> anyhow::Result<()> {
    use anyhow::Context;
    let dir = std::env::args_os()
        .nth(1)
        .map(std::path::PathBuf::from)
        .context("usage: gen-man DIR")?;
    std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
    // Pages of removed subcommands must not linger.
    for entry in std::fs::read_dir(&dir)? {
        let path = entry?.path();
        if path.extension().is_some_and(|e| e == "1") {
            std::fs::remove_file(&path).with_context(|| format!("removing {}", path.display()))?;
        }
    }
    for page in hal9ctl::manpages::render_all()? {
        let path = dir.join(&page.file_name);
        std::fs::write(&path, &page.roff).with_context(|| format!("writing {}", path.display()))?;
    }
    Ok(())
}
