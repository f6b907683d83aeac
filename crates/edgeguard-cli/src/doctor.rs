//! `edgeguard doctor`: reads a project and reports what weakens its security
//! (docs/doctor.md lists every check id).
//!
//! ```text
//! edgeguard doctor [--root DIR] [--env-file FILE]... [--json]
//! ```
//!
//! Exit status: 0 when no check fails (warnings allowed), 1 when one fails,
//! 2 when the command itself cannot run (bad arguments, no project).

mod project;
mod source;
mod sql;

use serde_json::json;
use std::path::{Path, PathBuf};

/// How bad a finding is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Severity {
    /// Makes `doctor` exit 1.
    Error,
    /// Reported only.
    Warning,
}

/// One thing `doctor` found.
#[derive(Clone, Debug)]
pub struct Finding {
    /// Stable check id, e.g. `sql.rls_missing`.
    pub check: &'static str,
    /// Error or warning.
    pub severity: Severity,
    /// Path relative to the project root (empty for project-wide findings).
    pub file: String,
    /// 1-based line, 0 when not about one line.
    pub line: usize,
    /// What is wrong; never contains a secret value.
    pub message: String,
}

/// Where findings are collected.
#[derive(Default)]
pub struct Report {
    /// Every finding, in check order.
    pub findings: Vec<Finding>,
    /// What was read, for the summary.
    pub read: Vec<String>,
}

impl Report {
    /// Records a failing finding.
    pub fn error(&mut self, check: &'static str, file: &str, line: usize, message: String) {
        self.push(check, Severity::Error, file, line, message);
    }

    /// Records a warning.
    pub fn warn(&mut self, check: &'static str, file: &str, line: usize, message: String) {
        self.push(check, Severity::Warning, file, line, message);
    }

    fn push(&mut self, check: &'static str, severity: Severity, file: &str, line: usize, message: String) {
        self.findings.push(Finding {
            check,
            severity,
            file: file.to_owned(),
            line,
            message,
        });
    }

    fn errors(&self) -> usize {
        self.findings
            .iter()
            .filter(|f| f.severity == Severity::Error)
            .count()
    }
}

/// The marker that allow-lists one finding: `doctor: allow <check-id> <reason>`
/// (a reason is required). Returns whether `text` holds it for `check`.
pub fn allows(text: &str, check: &str) -> bool {
    allows_with(text, "doctor: allow ", check)
}

/// Whether `text` holds `<marker><check> <reason>`.
pub fn allows_with(text: &str, marker: &str, check: &str) -> bool {
    let mut rest = text;
    while let Some(p) = rest.find(marker) {
        let after = &rest[p + marker.len()..];
        let mut words = after.split_whitespace();
        if words.next() == Some(check) && words.next().is_some() {
            return true;
        }
        rest = after;
    }
    false
}

struct Options {
    root: PathBuf,
    env_files: Vec<PathBuf>,
    json: bool,
}

const USAGE: &str = "usage: edgeguard doctor [--root DIR] [--env-file FILE]... [--json]
  checks config.toml, every policy.json, supabase/functions/.env (or the --env-file files),
  the migrations and the tracked files; exit 1 when a check fails (docs/doctor.md)";

fn parse_args(args: &[String]) -> Result<Options, String> {
    let mut o = Options {
        root: PathBuf::from("."),
        env_files: Vec::new(),
        json: false,
    };
    let mut it = args.iter();
    while let Some(a) = it.next() {
        let (name, inline) = match a.split_once('=') {
            Some((n, v)) => (n, Some(v.to_owned())),
            None => (a.as_str(), None),
        };
        let mut value = || {
            inline
                .clone()
                .or_else(|| it.next().cloned())
                .ok_or_else(|| format!("{name} needs a value"))
        };
        match name {
            "--root" => o.root = PathBuf::from(value()?),
            "--env-file" => o.env_files.push(PathBuf::from(value()?)),
            "--json" if inline.is_none() => o.json = true,
            "-h" | "--help" => return Err(USAGE.to_owned()),
            _ => return Err(format!("unknown argument {a:?}\n{USAGE}")),
        }
    }
    Ok(o)
}

/// Runs every check on the project at `root`.
pub fn check(root: &Path, env_files: &[PathBuf]) -> Report {
    let mut report = Report::default();
    let config = project::check_config(root, &mut report);
    project::check_functions(root, config.as_ref(), &mut report);
    project::check_env(root, env_files, &mut report);
    sql::check_migrations(root, &mut report);
    source::check_tracked_files(root, &mut report);
    report
}

fn print_human(root: &Path, r: &Report) {
    println!("edgeguard doctor: {}", root.display());
    for f in &r.findings {
        let sev = match f.severity {
            Severity::Error => "error",
            Severity::Warning => "warn ",
        };
        let at = match (f.file.is_empty(), f.line) {
            (true, _) => String::new(),
            (false, 0) => format!("{}: ", f.file),
            (false, n) => format!("{}:{n}: ", f.file),
        };
        println!("  {sev} {:<28} {at}{}", f.check, f.message);
    }
    let warnings = r.findings.len() - r.errors();
    println!("read: {}", r.read.join(", "));
    println!("{} error(s), {warnings} warning(s)", r.errors());
}

fn print_json(r: &Report) {
    let findings: Vec<_> = r
        .findings
        .iter()
        .map(|f| {
            json!({
                "check": f.check,
                "severity": match f.severity { Severity::Error => "error", Severity::Warning => "warning" },
                "file": f.file,
                "line": f.line,
                "message": f.message,
            })
        })
        .collect();
    let v = json!({
        "ok": r.errors() == 0,
        "errors": r.errors(),
        "warnings": r.findings.len() - r.errors(),
        "read": r.read,
        "findings": findings,
    });
    println!("{v}");
}

/// `edgeguard doctor ARGS`: returns the exit status.
pub fn main(args: &[String]) -> i32 {
    let o = match parse_args(args) {
        Ok(o) => o,
        Err(e) => {
            eprintln!("edgeguard doctor: {e}");
            return 2;
        }
    };
    if !o.root.join("supabase").is_dir() {
        eprintln!(
            "edgeguard doctor: {} has no supabase/ directory (give --root)",
            o.root.display()
        );
        return 2;
    }
    let report = check(&o.root, &o.env_files);
    if o.json {
        print_json(&report);
    } else {
        print_human(&o.root, &report);
    }
    i32::from(report.errors() > 0)
}

#[cfg(test)]
mod tests {
    use super::allows;

    #[test]
    fn allow_marker_needs_the_check_and_a_reason() {
        assert!(allows("-- doctor: allow sql.permissive_policy reference data", "sql.permissive_policy"));
        assert!(!allows("-- doctor: allow sql.permissive_policy", "sql.permissive_policy"));
        assert!(!allows("-- doctor: allow sql.rls_missing because", "sql.permissive_policy"));
        assert!(!allows("no marker", "sql.permissive_policy"));
    }
}
