fn main() -> std::process::ExitCode {
    hal9ctl::cli::main(std::env::args_os())
}
