//! `config.toml` (Supabase Auth settings, `[functions.*]`), every function's
//! `policy.json`, and the secrets of the functions' env file.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use edgeguard_core::policy::{AuthMode, Policy};
use toml::{Table, Value};

use super::{allows, Report};

const CONFIG: &str = "supabase/config.toml";
const FUNCTIONS: &str = "supabase/functions";

/// The shortest `minimum_password_length` doctor accepts.
pub const MIN_PASSWORD_LENGTH: i64 = 12;
/// The shortest secret doctor accepts, in bytes (docs/doctor.md).
pub const MIN_SECRET_BYTES: usize = 32;

/// The function secrets (and `AUDIT_SIGNING_KEY`), checked for length and reuse.
const SECRET_NAMES: [&str; 11] = [
    "SECRET_KEY",
    "CSRF_SECRET",
    "JWT_SECRET",
    "STRIPE_WEBHOOK_SECRET",
    "SHOPIFY_WEBHOOK_SECRET",
    "GITHUB_WEBHOOK_SECRET",
    "STANDARD_WEBHOOK_SECRET",
    "AUTH_HOOK_SECRET",
    "SECURITY_WEBHOOK_SECRET",
    "AUDIT_SIGNING_KEY",
    "EDGEGUARD_AUDIT_SIGNING_KEY",
];

/// Secrets in the Standard Webhooks form `[v1,]whsec_<base64>`.
const STANDARD_NAMES: [&str; 3] = [
    "STANDARD_WEBHOOK_SECRET",
    "AUTH_HOOK_SECRET",
    "SECURITY_WEBHOOK_SECRET",
];

/// The 1-based line of `key = …` inside `[section]` of a TOML text, or 0.
fn line_of(text: &str, section: &str, key: &str) -> usize {
    let header = format!("[{section}]");
    let mut inside = false;
    for (n, line) in text.lines().enumerate() {
        let t = line.trim();
        if t.starts_with('[') {
            if inside {
                return 0;
            }
            inside = t == header;
            if inside && key.is_empty() {
                return n + 1;
            }
        } else if inside
            && t.strip_prefix(key)
                .is_some_and(|r| r.trim_start().starts_with('='))
        {
            return n + 1;
        }
    }
    0
}

fn table<'a>(t: &'a Table, path: &[&str]) -> Option<&'a Table> {
    let mut cur = t;
    for p in path {
        cur = cur.get(*p)?.as_table()?;
    }
    Some(cur)
}

fn boolean(t: Option<&Table>, key: &str) -> Option<bool> {
    t?.get(key).and_then(Value::as_bool)
}

/// Reads and parses `supabase/config.toml`; checks the Supabase Auth settings.
pub fn check_config(root: &Path, r: &mut Report) -> Option<Table> {
    let text = match std::fs::read_to_string(root.join(CONFIG)) {
        Ok(t) => t,
        Err(e) => {
            r.error("config.missing", CONFIG, 0, format!("cannot read it: {e}"));
            return None;
        }
    };
    r.read.push(CONFIG.to_owned());
    let config: Table = match text.parse() {
        Ok(c) => c,
        Err(e) => {
            let first = e.to_string().lines().next().unwrap_or_default().to_owned();
            r.error("config.invalid", CONFIG, 0, format!("not valid TOML: {first}"));
            return None;
        }
    };
    let auth = table(&config, &["auth"]);
    if boolean(auth, "enabled") == Some(false) {
        return Some(config);
    }
    let len = auth
        .and_then(|a| a.get("minimum_password_length"))
        .and_then(Value::as_integer)
        .unwrap_or(6);
    if len < MIN_PASSWORD_LENGTH {
        r.error(
            "auth.password_length",
            CONFIG,
            line_of(&text, "auth", "minimum_password_length"),
            format!("[auth] minimum_password_length = {len}; use at least {MIN_PASSWORD_LENGTH}"),
        );
    }
    let req = auth
        .and_then(|a| a.get("password_requirements"))
        .and_then(Value::as_str)
        .unwrap_or("");
    if !matches!(req, "lower_upper_letters_digits" | "lower_upper_letters_digits_symbols") {
        r.error(
            "auth.password_requirements",
            CONFIG,
            line_of(&text, "auth", "password_requirements"),
            format!("[auth] password_requirements = {req:?}; use \"lower_upper_letters_digits_symbols\""),
        );
    }
    let email = table(&config, &["auth", "email"]);
    if boolean(email, "secure_password_change") != Some(true) {
        r.error(
            "auth.secure_password_change",
            CONFIG,
            line_of(&text, "auth.email", "secure_password_change"),
            "[auth.email] secure_password_change is not true: a stolen session can change the password".into(),
        );
    }
    if boolean(email, "enabled") != Some(false) && boolean(email, "enable_confirmations") != Some(true) {
        r.error(
            "auth.email_confirmations",
            CONFIG,
            line_of(&text, "auth.email", "enable_confirmations"),
            "[auth.email] enable_confirmations is not true: anyone can sign up as any address".into(),
        );
    }
    let totp = table(&config, &["auth", "mfa", "totp"]);
    if boolean(totp, "enroll_enabled") != Some(true) || boolean(totp, "verify_enabled") != Some(true) {
        r.error(
            "auth.mfa_totp",
            CONFIG,
            line_of(&text, "auth.mfa.totp", ""),
            "[auth.mfa.totp] enroll_enabled and verify_enabled are not both true: no user can reach aal2".into(),
        );
    }
    Some(config)
}

/// Every function directory: its `policy.json` validates, it has a
/// `[functions.NAME]` entry, and it is not public by accident.
pub fn check_functions(root: &Path, config: Option<&Table>, r: &mut Report) {
    let Ok(entries) = std::fs::read_dir(root.join(FUNCTIONS)) else {
        r.warn("function.none", FUNCTIONS, 0, "no functions directory".into());
        return;
    };
    let mut names: Vec<String> = entries
        .filter_map(Result::ok)
        .filter(|e| e.path().join("index.ts").is_file())
        .filter_map(|e| e.file_name().into_string().ok())
        .filter(|n| !n.starts_with('_') && !n.starts_with('.'))
        .collect();
    names.sort();
    for name in names {
        let dir = format!("{FUNCTIONS}/{name}");
        let policy_path = format!("{dir}/policy.json");
        let policy = match std::fs::read_to_string(root.join(&policy_path)) {
            Err(_) => {
                r.error("function.no_policy", &policy_path, 0, format!("function {name} has no policy.json"));
                None
            }
            Ok(text) => {
                r.read.push(policy_path.clone());
                match Policy::from_json(&text) {
                    Ok(p) => Some(p),
                    Err(e) => {
                        r.error("policy.invalid", &policy_path, 0, e.0);
                        None
                    }
                }
            }
        };
        let entry = config.and_then(|c| table(c, &["functions", &name]));
        if config.is_some() && entry.is_none() {
            r.error(
                "function.not_in_config",
                CONFIG,
                0,
                format!("no [functions.{name}] entry (verify_jwt must be chosen per function)"),
            );
        }
        let verify_jwt = boolean(entry, "verify_jwt").unwrap_or(true);
        let public = policy
            .as_ref()
            .is_some_and(|p| p.routes.iter().all(|route| route.auth.iter().all(|m| *m == AuthMode::None)));
        if !verify_jwt && public {
            let index = format!("{dir}/index.ts");
            let text = std::fs::read_to_string(root.join(&index)).unwrap_or_default();
            if !allows(&text, "function.public") {
                r.error(
                    "function.public",
                    &policy_path,
                    0,
                    format!(
                        "function {name} has verify_jwt = false and no route needs a credential; \
                         require auth, or add `// doctor: allow function.public <reason>` to {index}"
                    ),
                );
            }
        }
    }
}

/// One `NAME=value` of an env file.
struct EnvValue {
    value: String,
    file: String,
    line: usize,
}

fn parse_env(text: &str, file: &str, out: &mut BTreeMap<String, EnvValue>) {
    for (n, line) in text.lines().enumerate() {
        let t = line.trim();
        if t.is_empty() || t.starts_with('#') {
            continue;
        }
        let t = t.strip_prefix("export ").unwrap_or(t);
        let Some((k, v)) = t.split_once('=') else { continue };
        let v = v.trim();
        let v = ['"', '\'']
            .iter()
            .find_map(|q| v.strip_prefix(*q).and_then(|s| s.strip_suffix(*q)))
            .unwrap_or(v);
        out.insert(
            k.trim().to_owned(),
            EnvValue {
                value: v.to_owned(),
                file: file.to_owned(),
                line: n + 1,
            },
        );
    }
}

/// The secrets held by one env value (rotation lists split) and their
/// length in bytes (base64-decoded for Standard Webhooks `whsec_` secrets).
fn secret_items(name: &str, value: &str) -> Vec<(String, usize)> {
    if STANDARD_NAMES.contains(&name) {
        value
            .split(|c: char| c == ',' || c == '|' || c.is_ascii_whitespace())
            .filter(|t| !t.is_empty() && *t != "v1")
            .map(|t| {
                let len = match t.strip_prefix("whsec_") {
                    Some(b64) => b64.trim_end_matches('=').len() * 3 / 4,
                    None => t.len(),
                };
                (t.to_owned(), len)
            })
            .collect()
    } else {
        value
            .split(',')
            .map(|t| t.trim_matches(|c| c == ' ' || c == '\t'))
            .filter(|t| !t.is_empty())
            .map(|t| (t.to_owned(), t.len()))
            .collect()
    }
}

/// The env file(s): secrets long enough and not shared between names; no `*` CORS.
pub fn check_env(root: &Path, env_files: &[PathBuf], r: &mut Report) {
    let default = root.join(FUNCTIONS).join(".env");
    let files: Vec<(PathBuf, String)> = if env_files.is_empty() {
        if !default.is_file() {
            r.read.push(format!("{FUNCTIONS}/.env (absent: secret checks skipped)"));
            return;
        }
        vec![(default, format!("{FUNCTIONS}/.env"))]
    } else {
        env_files
            .iter()
            .map(|p| (p.clone(), p.display().to_string()))
            .collect()
    };
    let mut env = BTreeMap::new();
    for (path, shown) in &files {
        match std::fs::read_to_string(path) {
            Ok(text) => {
                r.read.push(shown.clone());
                parse_env(&text, shown, &mut env);
            }
            Err(e) => r.error("env.unreadable", shown, 0, format!("cannot read it: {e}")),
        }
    }
    let mut owners: BTreeMap<String, &str> = BTreeMap::new();
    for name in SECRET_NAMES {
        let Some(v) = env.get(name) else { continue };
        for (item, len) in secret_items(name, &v.value) {
            if len < MIN_SECRET_BYTES {
                r.error(
                    "secret.too_short",
                    &v.file,
                    v.line,
                    format!("{name} holds a secret of {len} bytes; use at least {MIN_SECRET_BYTES} random bytes"),
                );
            }
            match owners.get(item.as_str()) {
                Some(other) if *other != name => r.error(
                    "secret.reused",
                    &v.file,
                    v.line,
                    format!("{name} holds the same secret as {other}; use one secret per purpose"),
                ),
                _ => {
                    owners.insert(item, name);
                }
            }
        }
    }
    if let Some(v) = env.get("CORS_ORIGINS") {
        if v.value.split(',').any(|o| o.trim() == "*") {
            r.error(
                "cors.wildcard",
                &v.file,
                v.line,
                "CORS_ORIGINS allows any origin (`*`); list the app origins".into(),
            );
        }
    }
}

/// Hard-coded `Access-Control-Allow-Origin: *` in function code.
pub fn check_cors_source(path: &str, text: &str, r: &mut Report) {
    let lines: Vec<&str> = text.lines().collect();
    for (n, line) in lines.iter().enumerate() {
        let lower = line.to_ascii_lowercase();
        let wildcard = lower.contains("access-control-allow-origin")
            && (lower.contains("\"*\"") || lower.contains("'*'") || lower.contains("`*`"));
        let above = n.checked_sub(1).map_or("", |k| lines[k]);
        if wildcard && !allows(line, "cors.wildcard") && !allows(above, "cors.wildcard") {
            r.error(
                "cors.wildcard",
                path,
                n + 1,
                "hard-coded Access-Control-Allow-Origin: *; let CORS_ORIGINS decide".into(),
            );
        }
    }
}
