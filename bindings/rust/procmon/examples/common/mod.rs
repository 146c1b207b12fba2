//! What every example does as a Unix tool: `--help`, a usage line and
//! status 2 for an unknown flag or a bad argument, and a quiet end with
//! status 0 when its reader goes away (`ps | head`: the write fails with
//! EPIPE, as Rust ignores SIGPIPE), like the `procmon` command.
use std::error::Error;
use std::ffi::OsString;
use std::io::{self, Write};
use std::process::ExitCode;

/// What the example's body may fail with: procmon's errors, a write's.
pub type Failure = Box<dyn Error>;

/// Runs `body` with the operands (the arguments that are not options) and
/// stdout. `usage` is the synopsis after the program's name; `help` the
/// lines below it in `--help`; `max` the most operands allowed.
pub fn run<F>(usage: &str, help: &str, max: usize, body: F) -> ExitCode
where
    F: FnOnce(Vec<OsString>, &mut dyn Write) -> Result<(), Failure>,
{
    let mut args = std::env::args_os();
    let argv0 = args.next().unwrap_or_default();
    let program = std::path::Path::new(&argv0).file_name().unwrap_or(&argv0).to_string_lossy().into_owned();
    let mut operands = Vec::new();
    let mut options_end = false;
    for arg in args {
        let text = arg.to_string_lossy();
        if options_end || !text.starts_with('-') || text == "-" {
            operands.push(arg);
        } else if text == "--" {
            options_end = true;
        } else if text == "-h" || text == "--help" {
            let _ = writeln!(io::stdout(), "usage: {} {}\n{}", program, usage, help); // EPIPE too is quiet
            return ExitCode::SUCCESS;
        } else {
            return usage_error(&program, usage, &format!("unknown option {}", text));
        }
    }
    if operands.len() > max {
        return usage_error(&program, usage, "too many arguments");
    }
    let stdout = io::stdout();
    let mut out = stdout.lock();
    match body(operands, &mut out).and_then(|()| out.flush().map_err(Failure::from)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) if e.downcast_ref::<io::Error>().map(|e| e.kind()) == Some(io::ErrorKind::BrokenPipe) => ExitCode::SUCCESS,
        Err(e) if e.downcast_ref::<Usage>().is_some() => usage_error(&program, usage, &e.to_string()),
        Err(e) => {
            eprintln!("{}: {}", program, e);
            ExitCode::FAILURE
        }
    }
}

fn usage_error(program: &str, usage: &str, why: &str) -> ExitCode {
    eprintln!("{}: {}\nusage: {} {} (--help for more)", program, why, program, usage);
    ExitCode::from(2)
}

/// A bad operand: `run` prints it with the usage line and exits with 2.
#[derive(Debug)]
pub struct Usage(pub String);

impl std::fmt::Display for Usage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl Error for Usage {}

/// Operand `i` parsed as a number; None when absent.
#[allow(dead_code)] // not every example takes a number
pub fn number<T: std::str::FromStr>(operands: &[OsString], i: usize, what: &str) -> Result<Option<T>, Failure> {
    match operands.get(i) {
        None => Ok(None),
        Some(s) => match s.to_str().and_then(|s| s.parse().ok()) {
            Some(n) => Ok(Some(n)),
            None => Err(Usage(format!("{} must be a number, not {:?}", what, s)).into()),
        },
    }
}
