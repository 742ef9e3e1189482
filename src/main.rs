fn main() -> std::process::ExitCode {
    standards::cli::main()
}
