//! The `edgeguard` command.

mod sign_webhook;

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let code = match args.first().map(String::as_str) {
        Some("sign-webhook") => sign_webhook::main(args.get(1..).unwrap_or_default()),
        _ => {
            eprintln!("usage: edgeguard <command> [args]\n\ncommands:\n  sign-webhook   sign a webhook body and print the headers");
            2
        }
    };
    std::process::exit(code);
}
