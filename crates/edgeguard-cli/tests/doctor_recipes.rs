//! `edgeguard doctor` on a project made the way the recipes' READMEs say:
//! this repository's `supabase/` with each recipe of `examples/` copied in
//! (functions, migrations, a `[functions.<name>]` entry). It must pass: the
//! recipes' policies parse in the core, their tables have RLS, their definer
//! functions pin `search_path`, and they hold no secret.

use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::Command;

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..").canonicalize().unwrap()
}

/// Copies `from` into `to` recursively, leaving out the generated wasm and a
/// developer's local `.env` (the recipes' code is checked, not local secrets).
fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            if entry.file_name() != "wasm" {
                copy_dir(&entry.path(), &target);
            }
        } else if entry.file_name() != ".env" {
            std::fs::copy(entry.path(), &target).unwrap();
        }
    }
}

/// The recipes with functions: (recipe folder, function names).
fn recipes() -> Vec<(PathBuf, Vec<String>)> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(repo().join("examples")).unwrap() {
        let dir = entry.unwrap().path();
        let functions = dir.join("functions");
        if !functions.is_dir() {
            continue;
        }
        let mut names: Vec<String> = std::fs::read_dir(&functions)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        out.push((dir, names));
    }
    out.sort();
    out
}

#[test]
fn the_repository_with_every_recipe_copied_in_passes() {
    let root = std::env::temp_dir().join(format!("edgeguard-doctor-recipes-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&root);
    copy_dir(&repo().join("supabase"), &root.join("supabase"));
    let mut config = std::fs::read_to_string(root.join("supabase/config.toml")).unwrap();
    let recipes = recipes();
    assert!(recipes.len() >= 2, "examples/ holds the recipes");
    let mut expected = Vec::new();
    for (dir, names) in &recipes {
        copy_dir(&dir.join("functions"), &root.join("supabase/functions"));
        copy_dir(&dir.join("migrations"), &root.join("supabase/migrations"));
        for name in names {
            config.push_str(&format!("\n[functions.{name}]\nenabled = true\nverify_jwt = false\n"));
            expected.push(format!("supabase/functions/{name}/policy.json"));
        }
    }
    std::fs::write(root.join("supabase/config.toml"), config).unwrap();

    let o = Command::new(env!("CARGO_BIN_EXE_edgeguard"))
        .args(["doctor", "--root", root.to_str().unwrap(), "--json"])
        .output()
        .unwrap();
    let out = String::from_utf8_lossy(&o.stdout).into_owned();
    assert_eq!(o.status.code(), Some(0), "{out}\n{}", String::from_utf8_lossy(&o.stderr));
    let report: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(report["ok"], Value::Bool(true));
    let read: Vec<&str> = report["read"].as_array().unwrap().iter().filter_map(|v| v.as_str()).collect();
    for file in &expected {
        assert!(read.contains(&file.as_str()), "doctor read {file}: {read:?}");
    }
    assert!(
        read.iter().any(|f| f.ends_with("_sales_assistant.sql")) && read.iter().any(|f| f.ends_with("_marketplace_orders.sql")),
        "the recipes' migrations were scanned: {read:?}"
    );
    let _ = std::fs::remove_dir_all(&root);
}
