//! A static scan of `supabase/migrations/*.sql`: RLS on every table of
//! `public`/`private`, no `using (true)` / `with check (true)` policy unless
//! allow-listed, `set search_path` on every `security definer` function.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use super::{allows, Report};

const MIGRATIONS: &str = "supabase/migrations";

/// One SQL statement, with string literals, comments and dollar-quoted
/// bodies removed, lower-cased, whitespace collapsed.
pub struct Statement {
    /// The statement's outer text.
    pub text: String,
    /// 1-based line of its first character.
    pub first_line: usize,
    /// 1-based line of its terminating `;` (or the file's last line).
    pub last_line: usize,
}

/// Splits SQL into statements at top-level `;`.
pub fn statements(sql: &str) -> Vec<Statement> {
    let b = sql.as_bytes();
    let mut out = Vec::new();
    let mut text = String::new();
    let mut line = 1;
    let mut first = 0;
    let mut i = 0;
    let push = |text: &mut String, first: &mut usize, line: usize, c: char| {
        if c.is_whitespace() {
            if !text.is_empty() && !text.ends_with(' ') {
                text.push(' ');
            }
        } else {
            if *first == 0 {
                *first = line;
            }
            text.push(c.to_ascii_lowercase());
        }
    };
    while i < b.len() {
        let c = b[i];
        if c == b'\n' {
            line += 1;
        }
        if c == b'-' && b.get(i + 1) == Some(&b'-') {
            while i < b.len() && b[i] != b'\n' {
                i += 1;
            }
            continue;
        }
        if c == b'/' && b.get(i + 1) == Some(&b'*') {
            i += 2;
            while i < b.len() && !(b[i] == b'*' && b.get(i + 1) == Some(&b'/')) {
                if b[i] == b'\n' {
                    line += 1;
                }
                i += 1;
            }
            i += 2;
            push(&mut text, &mut first, line, ' ');
            continue;
        }
        if c == b'\'' {
            i += 1;
            while i < b.len() {
                if b[i] == b'\n' {
                    line += 1;
                }
                if b[i] == b'\'' {
                    if b.get(i + 1) == Some(&b'\'') {
                        i += 2;
                        continue;
                    }
                    break;
                }
                i += 1;
            }
            i += 1;
            push(&mut text, &mut first, line, '\'');
            push(&mut text, &mut first, line, '\'');
            continue;
        }
        if c == b'$' {
            // $tag$ … $tag$ (tag: letters, digits, underscores, possibly empty)
            let tag_end = b[i + 1..]
                .iter()
                .position(|&x| !(x.is_ascii_alphanumeric() || x == b'_'))
                .map(|p| i + 1 + p);
            if let Some(e) = tag_end.filter(|&e| b.get(e) == Some(&b'$')) {
                let tag = &b[i..=e];
                let body = e + 1;
                let close = b[body..]
                    .windows(tag.len())
                    .position(|w| w == tag)
                    .map_or(b.len(), |p| body + p);
                line += b[body..close].iter().filter(|&&x| x == b'\n').count();
                i = (close + tag.len()).min(b.len());
                push(&mut text, &mut first, line, '$');
                push(&mut text, &mut first, line, '$');
                continue;
            }
        }
        if c == b';' {
            if !text.trim().is_empty() {
                out.push(Statement {
                    text: text.trim().to_owned(),
                    first_line: first,
                    last_line: line,
                });
            }
            text.clear();
            first = 0;
            i += 1;
            continue;
        }
        // Quoted identifiers keep their content.
        if c != b'"' {
            let ch = sql[i..].chars().next().unwrap_or(' ');
            push(&mut text, &mut first, line, ch);
            i += ch.len_utf8();
            continue;
        }
        i += 1;
    }
    if !text.trim().is_empty() {
        out.push(Statement {
            text: text.trim().to_owned(),
            first_line: first,
            last_line: line,
        });
    }
    out
}

/// `schema.name` of a relation or function name token (`public` by default).
fn qualified(token: &str) -> String {
    let name = token.split('(').next().unwrap_or(token);
    if name.contains('.') {
        name.to_owned()
    } else {
        format!("public.{name}")
    }
}

/// The token after the leading words `words` (skipping optional ones).
fn name_after<'a>(tokens: &[&'a str], skip: &[&str]) -> Option<&'a str> {
    tokens.iter().copied().find(|t| !skip.contains(t))
}

/// Whether the statement is allow-listed for `check`: the marker on a
/// comment-only line directly above it or on one of its own lines.
fn allowed(lines: &[&str], s: &Statement, check: &str) -> bool {
    let above = s.first_line.checked_sub(2).and_then(|k| lines.get(k));
    if above.is_some_and(|l| l.trim_start().starts_with("--") && allows(l, check)) {
        return true;
    }
    (s.first_line..=s.last_line).any(|n| lines.get(n.saturating_sub(1)).is_some_and(|l| allows(l, check)))
}

/// `create [global|local] [temp|temporary|unlogged] table …`.
fn is_create_table(rest: &[&str]) -> bool {
    rest.iter()
        .position(|t| *t == "table")
        .is_some_and(|t| rest[..t].iter().all(|w| matches!(*w, "global" | "local" | "temp" | "temporary" | "unlogged")))
}

/// Scans every migration in file-name order.
pub fn check_migrations(root: &Path, r: &mut Report) {
    let Ok(entries) = std::fs::read_dir(root.join(MIGRATIONS)) else {
        r.warn("sql.none", MIGRATIONS, 0, "no migrations directory".into());
        return;
    };
    let mut files: Vec<String> = entries
        .filter_map(Result::ok)
        .filter_map(|e| e.file_name().into_string().ok())
        .filter(|n| n.ends_with(".sql"))
        .collect();
    files.sort();
    // table -> (file, line) of its `create table`
    let mut tables: BTreeMap<String, (String, usize)> = BTreeMap::new();
    let mut rls: BTreeSet<String> = BTreeSet::new();
    let mut definers: BTreeMap<String, (String, usize)> = BTreeMap::new();
    for name in &files {
        let path = format!("{MIGRATIONS}/{name}");
        let Ok(sql) = std::fs::read_to_string(root.join(&path)) else { continue };
        r.read.push(path.clone());
        let lines: Vec<&str> = sql.lines().collect();
        for s in statements(&sql) {
            let tokens: Vec<&str> = s.text.split(' ').collect();
            match tokens.as_slice() {
                ["create", rest @ ..] if is_create_table(rest) => {
                    let t = rest.iter().position(|t| *t == "table").unwrap_or(0);
                    if rest[..t].iter().any(|w| matches!(*w, "temp" | "temporary")) {
                        continue;
                    }
                    let Some(table) = name_after(&rest[t + 1..], &["if", "not", "exists"]) else { continue };
                    let table = qualified(table);
                    if table.starts_with("public.") || table.starts_with("private.") {
                        tables.insert(table, (path.clone(), s.first_line));
                    }
                }
                ["alter", "table", rest @ ..] if s.text.contains(" enable row level security") => {
                    if let Some(table) = name_after(rest, &["if", "exists", "only"]) {
                        rls.insert(qualified(table));
                    }
                }
                ["drop", "table", rest @ ..] => {
                    for t in rest.iter().filter(|t| !matches!(**t, "if" | "exists" | "cascade" | "restrict")) {
                        tables.remove(&qualified(t.trim_end_matches(',')));
                    }
                }
                ["create", "policy", policy, "on", table, ..] => {
                    let compact: String = s.text.chars().filter(|c| !c.is_whitespace()).collect();
                    let permissive = compact.contains("using(true)") || compact.contains("withcheck(true)");
                    if permissive && !allowed(&lines, &s, "sql.permissive_policy") {
                        r.error(
                            "sql.permissive_policy",
                            &path,
                            s.first_line,
                            format!(
                                "policy {policy} on {} lets every row through (`true`); \
                                 write the condition, or allow-list it with a reason",
                                qualified(table)
                            ),
                        );
                    }
                }
                ["create", rest @ ..] if rest.iter().take(3).any(|t| matches!(*t, "function" | "procedure")) => {
                    let f = rest.iter().position(|t| matches!(*t, "function" | "procedure")).unwrap_or(0);
                    let Some(func) = rest.get(f + 1) else { continue };
                    let func = qualified(func);
                    if s.text.contains("security definer") && !s.text.contains("search_path") {
                        definers.insert(func, (path.clone(), s.first_line));
                    } else {
                        definers.remove(&func);
                    }
                }
                ["alter", "function" | "procedure", func, ..] if s.text.contains("set search_path") => {
                    definers.remove(&qualified(func));
                }
                _ => {}
            }
        }
    }
    for (table, (file, line)) in &tables {
        if !rls.contains(table) {
            r.error(
                "sql.rls_missing",
                file,
                *line,
                format!("table {table} never gets `enable row level security`"),
            );
        }
    }
    for (func, (file, line)) in &definers {
        r.error(
            "sql.definer_search_path",
            file,
            *line,
            format!("security definer function {func} has no `set search_path` (use `set search_path = ''`)"),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::statements;

    #[test]
    fn statements_drop_comments_strings_and_bodies() {
        let sql = "-- a; comment\ncreate table public.t (a text default 'x;y');\n\ncreate function f() returns int language sql as $fn$ select 1; $fn$;\n/* c; */ alter table \"public\".t enable row level security;";
        let s = statements(sql);
        assert_eq!(s.len(), 3, "{:?}", s.iter().map(|s| &s.text).collect::<Vec<_>>());
        assert_eq!(s[0].text, "create table public.t (a text default '')");
        assert_eq!(s[0].first_line, 2);
        assert_eq!(s[1].text, "create function f() returns int language sql as $$");
        assert_eq!(s[1].first_line, 4);
        assert_eq!(s[2].text, "alter table public.t enable row level security");
    }
}
