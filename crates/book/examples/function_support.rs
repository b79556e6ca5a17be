//! Lists the function names read from stdin (one per line, optionally followed by a tab and a
//! count) that neither the engine nor this project implements: formulas using them show #NAME?.
//!
//! `cut -f1 names.txt | cargo run --release -p book --example function_support`

use std::io::BufRead;

fn main() {
    formualizer_eval::builtins::load_builtins();
    let ours = book::functions::names();
    for line in std::io::stdin().lock().lines().map_while(Result::ok) {
        let name = line.split('\t').next().unwrap_or("").trim().to_ascii_uppercase();
        if name.is_empty() {
            continue;
        }
        let known = ours.contains(&name.as_str()) || formualizer_eval::function_registry::get("", &name).is_some();
        if !known {
            println!("{line}");
        }
    }
}
