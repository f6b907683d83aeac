//! `edgeguard doctor`: finds every planted weakness in a generated project
//! (by check id, exit 1) and passes on this repository's own tree (exit 0).

use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::Command;

fn doctor(args: &[&str]) -> (i32, String, String) {
    let o = Command::new(env!("CARGO_BIN_EXE_edgeguard"))
        .arg("doctor")
        .args(args)
        .output()
        .unwrap();
    (
        o.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&o.stdout).into_owned(),
        String::from_utf8_lossy(&o.stderr).into_owned(),
    )
}

fn temp_project(tag: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("edgeguard-doctor-{tag}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn write(root: &Path, rel: &str, text: &str) {
    let p = root.join(rel);
    std::fs::create_dir_all(p.parent().unwrap()).unwrap();
    std::fs::write(p, text).unwrap();
}

const WEAK_CONFIG: &str = r#"project_id = "fixture"
[auth]
enabled = true
minimum_password_length = 6
password_requirements = ""
[auth.email]
enable_confirmations = false
secure_password_change = false
[auth.mfa.totp]
enroll_enabled = false
verify_enabled = false
[functions.open]
verify_jwt = false
[functions.broken]
verify_jwt = true
"#;

const STRONG_AUTH: &str = r#"project_id = "fixture"
[auth]
minimum_password_length = 12
password_requirements = "lower_upper_letters_digits_symbols"
[auth.email]
enable_confirmations = true
secure_password_change = true
[auth.mfa.totp]
enroll_enabled = true
verify_enabled = true
[functions.ok]
verify_jwt = false
"#;

const MIGRATION: &str = "create table public.notes (id uuid primary key, body text);
create table public.safe (id uuid primary key);
alter table public.safe enable row level security;
create policy safe_all on public.safe for select to authenticated using (true);
-- doctor: allow sql.permissive_policy public reference data
create policy safe_ref on public.safe for select to anon using ( true );
create policy safe_ins on public.safe for insert to authenticated with check (true);
create function public.whoami() returns uuid language sql security definer as $$ select auth.uid() $$;
create function private.ok() returns int language sql security definer set search_path = '' as $$ select 1 $$;
create temp table scratch (x int);
";

/// Every kind of weakness, one file each; the planted secrets are built at
/// run time so this test file holds none.
fn weak_project(tag: &str) -> PathBuf {
    let root = temp_project(tag);
    write(&root, "supabase/config.toml", WEAK_CONFIG);
    write(&root, "supabase/functions/open/index.ts", "export default { fetch: () => new Response('hi') };\n");
    write(&root, "supabase/functions/open/policy.json", r#"{"auth":["none"],"routes":[{"method":"GET","path":"/open"}]}"#);
    write(&root, "supabase/functions/broken/index.ts", "export default {};\n");
    write(&root, "supabase/functions/broken/policy.json", r#"{"auth":["root"],"routes":[]}"#);
    write(&root, "supabase/functions/nopolicy/index.ts", "export default {};\n");
    write(
        &root,
        "supabase/functions/_shared/cors.ts",
        "export const h = { \"Access-Control-Allow-Origin\": \"*\" };\n",
    );
    let short = "too-short-secret";
    let shared = "x".repeat(40);
    write(
        &root,
        "supabase/functions/.env",
        &format!(
            "SECRET_KEY={short}\nCSRF_SECRET={shared}\nSTRIPE_WEBHOOK_SECRET=\"{shared}\"\nCORS_ORIGINS=https://app.example.com, *\n"
        ),
    );
    write(&root, "supabase/migrations/20240101000000_init.sql", MIGRATION);
    let key = format!("sb_{}_{}", "secret", "N4kP8rT2vX6zB9cF3hJ5mQ7w");
    let jwt = format!("{}.{}.{}", "eyJhbGciOiJIUzI1NiJ9", "eyJyb2xlIjoic2VydmljZV9yb2xlIn0", "c2lnbmF0dXJl");
    write(
        &root,
        "src/client.ts",
        &format!("const key = \"{key}\";\nconst token = \"{jwt}\";\nconst pk = \"sb_publishable_{}\";\n", "Xk2mP9qLr4T7vW1z"),
    );
    write(&root, "src/tests/fake.ts", &format!("const k = \"{key}\"; // a test fixture\n"));
    write(&root, "src/allowed.ts", &format!("// doctor: allow source.hardcoded_secret documented example\nconst k = \"{key}\";\n"));
    write(&root, "node_modules/pkg/index.js", &format!("const k = \"{key}\";\n"));
    root
}

fn findings(stdout: &str) -> Vec<(String, String, u64)> {
    let v: Value = serde_json::from_str(stdout).unwrap_or_else(|e| panic!("{e}: {stdout}"));
    v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["check"].as_str().unwrap().to_owned(),
                f["file"].as_str().unwrap().to_owned(),
                f["line"].as_u64().unwrap(),
            )
        })
        .collect()
}

#[test]
fn finds_every_planted_weakness_and_fails() {
    let root = weak_project("weak-json");
    let (code, out, err) = doctor(&["--root", root.to_str().unwrap(), "--json"]);
    assert_eq!(code, 1, "{out}\n{err}");
    let f = findings(&out);
    let has = |check: &str, file: &str, line: u64| f.iter().any(|(c, p, l)| c == check && p.ends_with(file) && *l == line);
    let count = |check: &str| f.iter().filter(|(c, _, _)| c == check).count();
    for (check, file, line) in [
        ("auth.password_length", "config.toml", 4),
        ("auth.password_requirements", "config.toml", 5),
        ("auth.email_confirmations", "config.toml", 7),
        ("auth.secure_password_change", "config.toml", 8),
        ("auth.mfa_totp", "config.toml", 9),
        ("function.public", "open/policy.json", 0),
        ("policy.invalid", "broken/policy.json", 0),
        ("function.no_policy", "nopolicy/policy.json", 0),
        ("function.not_in_config", "config.toml", 0),
        ("secret.too_short", ".env", 1),
        ("secret.reused", ".env", 3),
        ("cors.wildcard", ".env", 4),
        ("cors.wildcard", "_shared/cors.ts", 1),
        ("sql.rls_missing", "_init.sql", 1),
        ("sql.permissive_policy", "_init.sql", 4),
        ("sql.permissive_policy", "_init.sql", 7),
        ("sql.definer_search_path", "_init.sql", 8),
        ("source.hardcoded_secret", "src/client.ts", 1),
        ("source.hardcoded_secret", "src/client.ts", 2),
    ] {
        assert!(has(check, file, line), "missing {check} at {file}:{line} in {f:?}");
    }
    // Exactly these: allow-listed, publishable, test-code and node_modules lines are not reported.
    assert_eq!(count("source.hardcoded_secret"), 2, "{f:?}");
    assert_eq!(count("sql.permissive_policy"), 2, "{f:?}");
    assert_eq!(count("sql.rls_missing"), 1, "{f:?}");
    assert_eq!(count("secret.too_short"), 1, "{f:?}");
    // No secret value is ever printed.
    assert!(!out.contains("too-short-secret") && !out.contains(&"x".repeat(40)) && !out.contains("N4kP8rT2"), "{out}");
    let _ = std::fs::remove_dir_all(&root);
}

#[test]
fn human_output_names_checks_and_counts() {
    let root = weak_project("weak-human");
    let (code, out, _) = doctor(&["--root", root.to_str().unwrap()]);
    assert_eq!(code, 1);
    assert!(out.contains("error sql.rls_missing"), "{out}");
    assert!(out.lines().last().unwrap().ends_with("error(s), 0 warning(s)"), "{out}");
    let _ = std::fs::remove_dir_all(&root);
}

#[test]
fn a_hardened_project_passes() {
    let root = temp_project("strong");
    write(&root, "supabase/config.toml", STRONG_AUTH);
    write(&root, "supabase/functions/ok/index.ts", "// doctor: allow function.public liveness probe\nexport default {};\n");
    write(&root, "supabase/functions/ok/policy.json", r#"{"auth":["none"],"routes":[{"method":"GET","path":"/ok"}]}"#);
    let env = format!("SECRET_KEY={}\nCSRF_SECRET={}\nAUTH_HOOK_SECRET=v1,whsec_{}\n", "a".repeat(32), "b".repeat(48), "Y".repeat(44));
    write(&root, "supabase/functions/.env", &env);
    write(&root, "supabase/migrations/1_init.sql", "create table public.t (id int);\nalter table public.t enable row level security;\n");
    let (code, out, err) = doctor(&["--root", root.to_str().unwrap(), "--json"]);
    assert_eq!(code, 0, "{out}\n{err}");
    assert_eq!(findings(&out), vec![]);
    // The same project with a 31-byte whsec_ secret fails on exactly that.
    write(&root, "supabase/functions/.env", &env.replace(&"Y".repeat(44), &"Y".repeat(41)));
    let (code, out, _) = doctor(&["--root", root.to_str().unwrap(), "--json"]);
    assert_eq!(code, 1);
    assert_eq!(findings(&out), vec![("secret.too_short".to_owned(), "supabase/functions/.env".to_owned(), 3)]);
    let _ = std::fs::remove_dir_all(&root);
}

/// The repository itself: run from its root, with a generated env file of
/// strong, distinct secrets (a clean clone has no supabase/functions/.env; a
/// developer's own one must not decide this test).
#[test]
fn our_own_tree_passes() {
    let repo = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let env_dir = temp_project("own-env");
    let env_file = env_dir.join("env");
    let secrets: String = ["SECRET_KEY", "CSRF_SECRET", "JWT_SECRET", "STRIPE_WEBHOOK_SECRET", "GITHUB_WEBHOOK_SECRET"]
        .iter()
        .enumerate()
        .map(|(i, n)| format!("{n}={}\n", format!("{i}-distinct-value-").repeat(4)))
        .collect();
    std::fs::write(&env_file, format!("{secrets}CORS_ORIGINS=http://localhost:3000\n")).unwrap();
    let (code, out, err) = doctor(&["--root", repo.to_str().unwrap(), "--env-file", env_file.to_str().unwrap(), "--json"]);
    assert_eq!(code, 0, "{out}\n{err}");
    let v: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["ok"], true);
    assert!(v["read"].as_array().unwrap().iter().any(|r| r == "supabase/config.toml"), "{out}");
    let _ = std::fs::remove_dir_all(&env_dir);
}

#[test]
fn bad_arguments_exit_2() {
    assert_eq!(doctor(&["--nope"]).0, 2);
    let empty = temp_project("empty");
    assert_eq!(doctor(&["--root", empty.to_str().unwrap()]).0, 2);
    let _ = std::fs::remove_dir_all(&empty);
}
