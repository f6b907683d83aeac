//! Hard-coded keys and tokens in the project's files, found with the core's
//! own log redactor patterns (JWTs and prefixed keys).

use std::path::Path;
use std::process::Command;

use edgeguard_core::redact::{find, Found, Kind, RedactOptions};

use super::{allows, allows_with, project, Report};

/// Key prefixes reported (publishable keys are public by design).
const KEY_PREFIXES: [&str; 9] = [
    "sb_secret_",
    "egk_",
    "whsec_",
    "sk_live_",
    "sk_test_",
    "rk_live_",
    "rk_test_",
    "ghp_",
    "github_pat_",
];

/// Path prefixes never scanned: dependencies, build output, local state,
/// the generated wasm module.
const SKIP_PREFIXES: [&str; 5] = [
    "node_modules/",
    "target/",
    ".local/",
    ".git/",
    "supabase/functions/_shared/wasm/",
];

/// Larger files are not scanned (no source file is this big).
const MAX_BYTES: u64 = 2 << 20;

/// Whether a (relative, `/`-separated) path is left out of the scan.
pub fn skipped(path: &str) -> bool {
    let name = path.rsplit('/').next().unwrap_or(path);
    SKIP_PREFIXES.iter().any(|p| path.starts_with(p))
        || path.contains("/node_modules/")
        || path.starts_with("fixtures/")
        || path.contains("/fixtures/")
        || name.ends_with(".lock")
        || name == "package-lock.json"
        || name.starts_with(".env")
}

/// The files to scan: `git ls-files` in a git checkout, else a walk.
fn list_files(root: &Path) -> Vec<String> {
    let git = Command::new("git")
        .arg("-C")
        .arg(root)
        .args(["ls-files", "-z", "--cached", "--others", "--exclude-standard"])
        .output();
    if let Ok(out) = git {
        if out.status.success() {
            return out
                .stdout
                .split(|&b| b == 0)
                .filter(|p| !p.is_empty())
                .filter_map(|p| String::from_utf8(p.to_vec()).ok())
                .collect();
        }
    }
    let mut files = Vec::new();
    walk(root, "", &mut files);
    files
}

fn walk(root: &Path, rel: &str, out: &mut Vec<String>) {
    let Ok(entries) = std::fs::read_dir(root.join(rel)) else { return };
    for e in entries.filter_map(Result::ok) {
        let Ok(name) = e.file_name().into_string() else { continue };
        let path = if rel.is_empty() { name } else { format!("{rel}/{name}") };
        let Ok(kind) = e.file_type() else { continue };
        if kind.is_dir() {
            if !skipped(&format!("{path}/")) {
                walk(root, &path, out);
            }
        } else if kind.is_file() {
            out.push(path);
        }
    }
}

/// Test code: fake keys and tokens are its fixtures (docs/doctor.md), so the
/// secret scan leaves it out: any `tests/` directory and `*.test.*` files.
pub fn is_test_code(path: &str) -> bool {
    let name = path.rsplit('/').next().unwrap_or(path);
    path.starts_with("tests/") || path.contains("/tests/") || name.contains(".test.")
}

/// Whether the file opts out as a whole: `doctor: allow-file <check> <reason>`
/// in its first 5 lines.
fn file_allows(text: &str, check: &str) -> bool {
    text.lines().take(5).any(|l| allows_with(l, "doctor: allow-file ", check))
}

/// The JWT and key spans of a line, also inside credential values (the
/// redactor reports `token = "eyJ…"` as one credential value).
fn secret_spans(line: &str) -> Vec<Found> {
    let mut out = Vec::new();
    for f in find(line, &RedactOptions::default()) {
        match f.kind {
            Kind::Jwt | Kind::Key => out.push(f),
            Kind::Credential => {
                let inner = line.get(f.start..f.end).unwrap_or_default();
                out.extend(find(inner, &RedactOptions::default()).map(|g| Found {
                    start: f.start + g.start,
                    end: f.start + g.end,
                    kind: g.kind,
                }));
            }
            _ => {}
        }
    }
    out
}

/// Scans every tracked file for JWTs and prefixed keys
/// (`source.hardcoded_secret`), and function code for `*` CORS.
pub fn check_tracked_files(root: &Path, r: &mut Report) {
    let mut files = list_files(root);
    files.sort();
    let mut scanned = 0;
    for path in files.iter().filter(|p| !skipped(p)) {
        let full = root.join(path);
        if std::fs::metadata(&full).map_or(true, |m| !m.is_file() || m.len() > MAX_BYTES) {
            continue;
        }
        let Ok(text) = std::fs::read_to_string(&full) else { continue };
        scanned += 1;
        if path.starts_with("supabase/functions/") && path.ends_with(".ts") && !path.ends_with(".test.ts") {
            project::check_cors_source(path, &text, r);
        }
        if is_test_code(path) || file_allows(&text, "source.hardcoded_secret") {
            continue;
        }
        let lines: Vec<&str> = text.lines().collect();
        for (n, line) in lines.iter().enumerate() {
            for f in secret_spans(line) {
                let what = match f.kind {
                    Kind::Jwt => "a JWT".to_owned(),
                    Kind::Key => {
                        let token = line.get(f.start..f.end).unwrap_or_default();
                        if token.starts_with("sb_publishable_") {
                            continue; // publishable keys are public by design
                        }
                        let prefix = KEY_PREFIXES.iter().find(|p| token.starts_with(*p)).unwrap_or(&"");
                        format!("a key starting `{prefix}`")
                    }
                    _ => continue,
                };
                let above = n.checked_sub(1).map_or("", |k| lines[k]);
                if allows(line, "source.hardcoded_secret") || allows(above, "source.hardcoded_secret") {
                    continue;
                }
                r.error(
                    "source.hardcoded_secret",
                    path,
                    n + 1,
                    format!("{what} is written in the file; load it from the environment"),
                );
            }
        }
    }
    r.read.push(format!("{scanned} tracked files"));
}
