use std::io::Write;

use clap::CommandFactory;
use clap_complete::Shell;

use crate::cli::args::Cli;

/// The completion script for `shell`, as `hal9ctl completions SHELL` prints it.
pub fn generate(shell: Shell) -> Vec<u8> {
    let mut buf = Vec::new();
    clap_complete::generate(shell, &mut Cli::command(), "hal9ctl", &mut buf);
    buf
}

/// The checked-in file name under `completions/` for each shell.
pub fn file_name(shell: Shell) -> &'static str {
    match shell {
        Shell::Bash => "hal9ctl.bash",
        Shell::Zsh => "_hal9ctl",
        Shell::Fish => "hal9ctl.fish",
        Shell::PowerShell => "_hal9ctl.ps1",
        Shell::Elvish => "hal9ctl.elv",
        _ => "hal9ctl.unknown",
    }
}

pub fn run(shell: Shell) -> std::io::Result<()> {
    std::io::stdout().lock().write_all(&generate(shell))
}
