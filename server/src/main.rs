//! The `sentinel` binary: parses the command line and hands over to [`sentinel::cli`].

fn main() -> std::process::ExitCode {
    sentinel::cli::main()
}
