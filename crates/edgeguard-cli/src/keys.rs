//! `edgeguard keys`: create, list, revoke and rotate user API keys through a
//! project's `api-keys` function (docs/api-keys.md), as the user whose access
//! token is given. The function decides everything; this only sends the
//! request and prints the answer.

use edgeguard_core::auth::config::is_loopback_host;
use serde_json::{json, Map, Value};

/// Usage text of the subcommand.
pub const USAGE: &str = "\
usage: edgeguard keys create --name NAME --scopes a:b,c:d [--expires-in SECONDS] [--uses N]
                             [--refill AMOUNT/INTERVAL_S] [--rate-limit LIMIT/WINDOW_S]
       edgeguard keys list
       edgeguard keys revoke ID
       edgeguard keys rotate ID [--overlap SECONDS]
  common: --url PROJECT_URL (or SUPABASE_URL)  --token ACCESS_TOKEN (or EDGEGUARD_TOKEN)
          [--apikey PUBLISHABLE_KEY]  sent as `apikey` when the gateway wants one

Prints the function's JSON answer. `create` and `rotate` print the new key:
it is shown this once. Plain http only to a loopback host.
Exit status: 0 success, 1 refused by the function (its error on stderr), 2 usage or network.";

/// A parsed command line.
#[derive(Debug, Default, PartialEq, Eq)]
struct Options {
    verb: String,
    id: Option<String>,
    flags: std::collections::BTreeMap<String, String>,
}

const FLAGS: &[&str] = &[
    "--url",
    "--token",
    "--apikey",
    "--name",
    "--scopes",
    "--expires-in",
    "--uses",
    "--refill",
    "--rate-limit",
    "--overlap",
];

fn parse(args: &[String]) -> Result<Options, String> {
    let mut it = args.iter();
    let verb = it
        .next()
        .ok_or("missing create|list|revoke|rotate")?
        .clone();
    let mut o = Options {
        verb,
        ..Options::default()
    };
    while let Some(a) = it.next() {
        if FLAGS.contains(&a.as_str()) {
            let v = it.next().ok_or_else(|| format!("{a} needs a value"))?;
            o.flags
                .insert(a.trim_start_matches('-').to_owned(), v.clone());
        } else if !a.starts_with('-') && o.id.is_none() {
            o.id = Some(a.clone());
        } else {
            return Err(format!("unknown argument {a}"));
        }
    }
    Ok(o)
}

fn number(o: &Options, flag: &str) -> Result<Option<i64>, String> {
    o.flags
        .get(flag)
        .map(|v| {
            v.parse::<i64>()
                .map_err(|_| format!("--{flag} must be a whole number"))
        })
        .transpose()
}

fn pair(o: &Options, flag: &str, a: &str, b: &str) -> Result<Option<Value>, String> {
    let Some(v) = o.flags.get(flag) else {
        return Ok(None);
    };
    let (x, y) = v
        .split_once('/')
        .ok_or_else(|| format!("--{flag} must be N/SECONDS"))?;
    let parse = |s: &str| {
        s.parse::<i64>()
            .map_err(|_| format!("--{flag} must be N/SECONDS"))
    };
    Ok(Some(json!({ a: parse(x)?, b: parse(y)? })))
}

/// The request a command line stands for: method, path below the function, JSON body.
fn request(o: &Options) -> Result<(&'static str, String, Option<Value>), String> {
    let id = || {
        o.id.clone()
            .filter(|i| i.len() == 36 && i.bytes().all(|b| b.is_ascii_hexdigit() || b == b'-'))
            .ok_or_else(|| format!("keys {} needs the key's id (a uuid)", o.verb))
    };
    match o.verb.as_str() {
        "create" => {
            let name = o.flags.get("name").ok_or("keys create needs --name")?;
            let scopes: Vec<&str> = o
                .flags
                .get("scopes")
                .ok_or("keys create needs --scopes")?
                .split(',')
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .collect();
            let mut body = Map::new();
            body.insert("name".into(), json!(name));
            body.insert("scopes".into(), json!(scopes));
            if let Some(n) = number(o, "expires-in")? {
                body.insert("expires_in_s".into(), json!(n));
            }
            if let Some(n) = number(o, "uses")? {
                body.insert("uses".into(), json!(n));
            }
            if let Some(r) = pair(o, "refill", "amount", "interval_s")? {
                body.insert("refill".into(), r);
            }
            if let Some(r) = pair(o, "rate-limit", "limit", "window_s")? {
                body.insert("rate_limit".into(), r);
            }
            Ok(("POST", String::new(), Some(Value::Object(body))))
        }
        "list" => Ok(("GET", String::new(), None)),
        "revoke" => Ok(("DELETE", format!("/{}", id()?), None)),
        "rotate" => {
            let body = match number(o, "overlap")? {
                Some(n) => json!({ "overlap_s": n }),
                None => json!({}),
            };
            Ok(("POST", format!("/{}/rotate", id()?), Some(body)))
        }
        other => Err(format!("unknown keys command {other}")),
    }
}

/// The `api-keys` function's URL under a project URL; plain http only for loopback.
fn function_url(project: &str) -> Result<String, String> {
    let base = project.trim().trim_end_matches('/');
    let (scheme, rest) = base.split_once("://").ok_or("--url has no scheme")?;
    let authority = rest.split('/').next().unwrap_or("");
    if authority.contains('@') {
        return Err("--url must not carry credentials".into());
    }
    let host = match authority.strip_prefix('[') {
        Some(v6) => format!("[{}", v6.split(']').next().unwrap_or("")) + "]",
        None => authority.split(':').next().unwrap_or("").to_owned(),
    };
    match scheme {
        "https" => {}
        "http" if is_loopback_host(&host) => {}
        _ => return Err("--url must be https (plain http only for a loopback host)".into()),
    }
    Ok(format!("{base}/functions/v1/api-keys"))
}

/// Runs `edgeguard keys …`; the exit status.
pub fn main(args: &[String]) -> i32 {
    if args.first().is_some_and(|a| a == "-h" || a == "--help") {
        println!("{USAGE}");
        return 0;
    }
    let run = || -> Result<(u16, String), (i32, String)> {
        let usage = |e: String| (2, format!("{e}\n{USAGE}"));
        let o = parse(args).map_err(usage)?;
        let (method, path, body) = request(&o).map_err(usage)?;
        let env = |k: &str| std::env::var(k).ok().filter(|v| !v.is_empty());
        let project = o
            .flags
            .get("url")
            .cloned()
            .or_else(|| env("SUPABASE_URL"))
            .ok_or_else(|| usage("give --url PROJECT_URL (or SUPABASE_URL)".into()))?;
        let token = o
            .flags
            .get("token")
            .cloned()
            .or_else(|| env("EDGEGUARD_TOKEN"))
            .ok_or_else(|| usage("give --token ACCESS_TOKEN (or EDGEGUARD_TOKEN)".into()))?;
        let url = format!("{}{path}", function_url(&project).map_err(usage)?);
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .timeout_global(Some(std::time::Duration::from_secs(30)))
            .build()
            .into();
        let auth = format!("Bearer {token}");
        let apikey = o.flags.get("apikey").cloned();
        let net = |e: ureq::Error| (2, format!("request failed: {e}"));
        let mut res = match (method, body) {
            ("GET", _) => {
                let mut r = agent.get(&url).header("authorization", &auth);
                if let Some(k) = &apikey {
                    r = r.header("apikey", k);
                }
                r.call().map_err(net)?
            }
            ("DELETE", _) => {
                let mut r = agent.delete(&url).header("authorization", &auth);
                if let Some(k) = &apikey {
                    r = r.header("apikey", k);
                }
                r.call().map_err(net)?
            }
            (_, body) => {
                let mut r = agent
                    .post(&url)
                    .header("authorization", &auth)
                    .header("content-type", "application/json");
                if let Some(k) = &apikey {
                    r = r.header("apikey", k);
                }
                r.send(body.unwrap_or(Value::Null).to_string())
                    .map_err(net)?
            }
        };
        let status = res.status().as_u16();
        let text = res.body_mut().read_to_string().map_err(net)?;
        Ok((status, text))
    };
    match run() {
        Ok((status, text)) if (200..300).contains(&status) => {
            if status == 204 {
                println!("{{\"ok\":true}}");
            } else {
                println!("{text}");
            }
            0
        }
        Ok((status, text)) => {
            eprintln!("edgeguard keys: HTTP {status}: {text}");
            1
        }
        Err((code, e)) => {
            eprintln!("edgeguard keys: {e}");
            code
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(s: &str) -> Vec<String> {
        s.split_whitespace().map(str::to_owned).collect()
    }

    #[test]
    fn command_lines_become_the_function_requests() {
        let o = parse(&args("create --name ci --scopes services:read,orders:write --uses 5 --refill 5/60 --rate-limit 10/1 --expires-in 3600")).unwrap();
        let (m, p, b) = request(&o).unwrap();
        assert_eq!((m, p.as_str()), ("POST", ""));
        assert_eq!(
            b.unwrap(),
            json!({"name":"ci","scopes":["services:read","orders:write"],"uses":5,"expires_in_s":3600,
                   "refill":{"amount":5,"interval_s":60},"rate_limit":{"limit":10,"window_s":1}})
        );
        let id = "aaaaaaaa-0000-4000-8000-00000000a001";
        let (m, p, _) = request(&parse(&args(&format!("revoke {id}"))).unwrap()).unwrap();
        assert_eq!((m, p), ("DELETE", format!("/{id}")));
        let (m, p, b) =
            request(&parse(&args(&format!("rotate {id} --overlap 60"))).unwrap()).unwrap();
        assert_eq!(
            (m, p, b),
            (
                "POST",
                format!("/{id}/rotate"),
                Some(json!({"overlap_s":60}))
            )
        );
        assert_eq!(request(&parse(&args("list")).unwrap()).unwrap().0, "GET");
        for bad in [
            "create --scopes a:b",
            "create --name x",
            "revoke",
            "revoke ../x",
            "rotate 1 --overlap x",
            "nope",
            "create --name x --scopes a:b --refill 5",
        ] {
            assert!(
                parse(&args(bad)).and_then(|o| request(&o)).is_err(),
                "{bad}"
            );
        }
        assert!(parse(&args("list --bogus 1")).is_err());
    }

    #[test]
    fn only_https_or_loopback_http() {
        assert_eq!(
            function_url("https://ref.supabase.co/").unwrap(),
            "https://ref.supabase.co/functions/v1/api-keys"
        );
        assert!(function_url("http://127.0.0.1:54321").is_ok());
        assert!(function_url("http://[::1]:54321").is_ok());
        assert!(function_url("http://ref.supabase.co").is_err());
        assert!(function_url("http://127.evil.com").is_err());
        assert!(function_url("https://user:pw@ref.supabase.co").is_err());
        assert!(function_url("ref.supabase.co").is_err());
    }
}
