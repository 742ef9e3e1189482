//! Reading a spreadsheet workbook in a child process, with a memory limit
//! and a time limit.
//!
//! The workbook reader (calamine) is not safe against hostile files: a
//! damaged OpenDocument file can make it loop for ever and a damaged XLSX
//! can make it allocate terabytes, which aborts the process (see
//! docs/hardening.md). Neither can be caught inside one process, so the
//! `standards` program reads each workbook by running itself as
//! `standards read-workbook`: the child gets the file on its standard
//! input, limits its own address space and CPU time, and writes the sheet
//! as JSON on its standard output. The parent kills it when the time is up.
//! A child that dies is a workbook that does not open, never a lost worker.

use std::io::{Read, Write};
use std::path::PathBuf;
use std::process::{Command, ExitCode, Stdio};
use std::sync::{Condvar, Mutex, OnceLock};
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};

use super::Problem;
use super::spreadsheet;

/// The hidden subcommand that reads one workbook.
pub const SUBCOMMAND: &str = "read-workbook";

/// How a child reader is run.
#[derive(Debug, Clone)]
pub struct Reader {
    /// The `standards` program (it runs itself).
    pub program: PathBuf,
    /// The most address space the child may use.
    pub memory_bytes: u64,
    /// The most wall-clock (and CPU) time the child may take.
    pub time: Duration,
    /// How many children may read at once; others wait their turn.
    pub at_once: usize,
}

impl Reader {
    /// The limits the server runs with: 2 GiB and 30 s, two at once. A
    /// workbook of a million rows reads in under 8 s in a release build.
    pub fn new(program: impl Into<PathBuf>) -> Reader {
        Reader { program: program.into(), memory_bytes: 2 << 30, time: Duration::from_secs(30), at_once: 2 }
    }
}

static READER: OnceLock<Reader> = OnceLock::new();
static RUNNING: (Mutex<usize>, Condvar) = (Mutex::new(0), Condvar::new());

/// Makes every workbook read in a child process run by `reader`. The first
/// call wins; later calls are ignored (returns whether this one was used).
pub fn use_reader(reader: Reader) -> bool {
    READER.set(reader).is_ok()
}

/// The child reader in use, if one was set.
pub fn reader() -> Option<&'static Reader> {
    READER.get()
}

#[derive(Serialize, Deserialize)]
enum Outcome {
    Sheet { text: String, sheet: String, offset: usize },
    Problem { expected: String },
}

/// Reads `bytes` in a child process as [`spreadsheet::to_csv`] does.
pub fn read(reader: &Reader, bytes: &[u8]) -> Result<(String, String, usize), Problem> {
    let _turn = Turn::take(reader.at_once);
    let started = Instant::now();
    let result = run_child(reader, bytes);
    tracing::debug!(
        elapsed_ms = started.elapsed().as_millis() as u64,
        ok = result.is_ok(),
        "workbook read in a child process"
    );
    result
}

fn run_child(reader: &Reader, bytes: &[u8]) -> Result<(String, String, usize), Problem> {
    let unreadable = |why: &str| Problem::whole_file(format!("a spreadsheet workbook that can be read ({why})"));
    let mut child = Command::new(&reader.program)
        .arg(SUBCOMMAND)
        .arg(reader.memory_bytes.to_string())
        .arg(reader.time.as_secs().max(1).to_string())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| {
            tracing::error!(program = %reader.program.display(), error = %e, "cannot start the workbook reader");
            unreadable("the workbook reader could not be started; try again, or upload the sheet as CSV")
        })?;
    let (Some(mut stdin), Some(mut stdout), Some(mut stderr)) =
        (child.stdin.take(), child.stdout.take(), child.stderr.take())
    else {
        let _ = child.kill();
        let _ = child.wait();
        return Err(unreadable("the workbook reader could not be started"));
    };
    let input = bytes.to_vec();
    // The child may stop reading early (it died); a broken pipe is expected.
    let writer = std::thread::spawn(move || {
        let _ = stdin.write_all(&input);
    });
    let out_reader = std::thread::spawn(move || {
        let mut out = Vec::new();
        let _ = stdout.read_to_end(&mut out);
        out
    });
    let err_reader = std::thread::spawn(move || {
        let mut err = Vec::new();
        let _ = stderr.read_to_end(&mut err);
        err
    });
    let deadline = Instant::now() + reader.time;
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break Some(status),
            Ok(None) if Instant::now() >= deadline => {
                let _ = child.kill();
                let _ = child.wait();
                break None;
            }
            Ok(None) => std::thread::sleep(Duration::from_millis(5)),
            Err(_) => {
                let _ = child.kill();
                let _ = child.wait();
                break None;
            }
        }
    };
    let _ = writer.join();
    let out = out_reader.join().unwrap_or_default();
    let err = err_reader.join().unwrap_or_default();
    let seconds = reader.time.as_secs();
    let Some(status) = status else {
        tracing::warn!(seconds, "workbook reader stopped: it ran out of time");
        return Err(unreadable(&format!(
            "reading stopped after {seconds} s: the file is damaged or too large; save it again from the spreadsheet program, or upload the sheet as CSV"
        )));
    };
    if !status.success() {
        let message = String::from_utf8_lossy(&err[..err.len().min(2000)]).into_owned();
        tracing::warn!(%status, stderr = %message.trim(), "workbook reader failed");
        let why = if ran_out_of_time(&status) {
            format!(
                "reading stopped after {seconds} s: the file is damaged or too large; save it again from the spreadsheet program, or upload the sheet as CSV"
            )
        } else {
            let mib = reader.memory_bytes >> 20;
            format!(
                "reading it needed more than {mib} MiB of memory, or the reader stopped: the file is damaged or too large; save it again from the spreadsheet program, or upload the sheet as CSV"
            )
        };
        return Err(unreadable(&why));
    }
    match serde_json::from_slice::<Outcome>(&out) {
        Ok(Outcome::Sheet { text, sheet, offset }) => Ok((text, sheet, offset)),
        Ok(Outcome::Problem { expected }) => Err(Problem::whole_file(expected)),
        Err(e) => {
            tracing::error!(error = %e, "workbook reader wrote something unreadable");
            Err(unreadable("the workbook reader's answer could not be read"))
        }
    }
}

#[cfg(unix)]
fn ran_out_of_time(status: &std::process::ExitStatus) -> bool {
    use std::os::unix::process::ExitStatusExt;
    matches!(status.signal(), Some(libc::SIGKILL) | Some(libc::SIGXCPU))
}

#[cfg(not(unix))]
fn ran_out_of_time(_status: &std::process::ExitStatus) -> bool {
    false
}

/// A place among the children reading at once, given back on drop.
struct Turn;

impl Turn {
    fn take(at_once: usize) -> Turn {
        let (count, freed) = &RUNNING;
        let mut running = count.lock().unwrap_or_else(|e| e.into_inner());
        while *running >= at_once.max(1) {
            running = freed.wait(running).unwrap_or_else(|e| e.into_inner());
        }
        *running += 1;
        Turn
    }
}

impl Drop for Turn {
    fn drop(&mut self) {
        let (count, freed) = &RUNNING;
        let mut running = count.lock().unwrap_or_else(|e| e.into_inner());
        *running = running.saturating_sub(1);
        freed.notify_one();
    }
}

/// The child's side: `standards read-workbook MEMORY_BYTES SECONDS` reads
/// a workbook from standard input and writes the outcome as JSON.
pub fn child_main(args: &[String]) -> ExitCode {
    let number = |i: usize| args.get(i).and_then(|a| a.parse::<u64>().ok());
    let (Some(memory), Some(seconds)) = (number(0), number(1)) else {
        eprintln!("usage: standards {SUBCOMMAND} MEMORY_BYTES SECONDS < workbook");
        return ExitCode::from(2);
    };
    if let Err(e) = limit_self(memory, seconds) {
        eprintln!("error: cannot set the reader's limits: {e}");
        return ExitCode::from(2);
    }
    let mut bytes = Vec::new();
    if let Err(e) = std::io::stdin().read_to_end(&mut bytes) {
        eprintln!("error: cannot read the workbook from standard input: {e}");
        return ExitCode::from(2);
    }
    let outcome = match spreadsheet::read_in_process(&bytes) {
        Ok((text, sheet, offset)) => Outcome::Sheet { text, sheet, offset },
        Err(p) => Outcome::Problem { expected: p.expected },
    };
    let mut out = std::io::stdout().lock();
    match serde_json::to_writer(&mut out, &outcome).and_then(|()| out.flush().map_err(serde_json::Error::io)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: cannot write the sheet: {e}");
            ExitCode::FAILURE
        }
    }
}

#[cfg(unix)]
fn limit_self(memory: u64, seconds: u64) -> std::io::Result<()> {
    let limit = |value: u64| libc::rlimit { rlim_cur: value as libc::rlim_t, rlim_max: value as libc::rlim_t };
    let checked = |code: i32| if code == 0 { Ok(()) } else { Err(std::io::Error::last_os_error()) };
    // SAFETY: setrlimit reads the struct it is given and changes only this
    // process's limits.
    checked(unsafe { libc::setrlimit(libc::RLIMIT_AS, &limit(memory)) })?;
    // A second past the parent's wall clock, in case the parent is gone.
    checked(unsafe { libc::setrlimit(libc::RLIMIT_CPU, &limit(seconds + 1)) })
}

#[cfg(not(unix))]
fn limit_self(_memory: u64, _seconds: u64) -> std::io::Result<()> {
    Ok(())
}
