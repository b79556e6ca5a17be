//! `docs/graph-compatibility.md` says, for every operation, whether it is served or answers 501.
//! This test holds it to what the resolver does. After building an operation, regenerate the
//! state column with `WORKBOOKD_BLESS=1 cargo test -p graph --test compatibility_doc`.

use graph::{resolve, Operation};

const DOC: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../docs/graph-compatibility.md");

/// A request path for a table row's path column, or `None` for control-plane rows.
fn request_path(path: &str) -> Option<String> {
    // The query (`?$top=5`) is not part of the path the resolver sees.
    let path = path.split('?').next().unwrap_or(path);
    let mut path = path.replace("{}", "K");
    // A worksheet's cell is addressed with its arguments in the path.
    if path.ends_with("/worksheets/K/cell") {
        path.push_str("(row=0,column=0)");
    }
    // Table rows are keyed by their index.
    path = path.replace("/rows/K", "/rows/0");
    if let Some(rest) = path.strip_prefix("{drive}") {
        return Some(format!("/v1.0/me/drive{rest}"));
    }
    if let Some(rest) = path.strip_prefix("{item}") {
        return Some(format!("/v1.0/me/drive/items/01X{rest}"));
    }
    if path.starts_with("/_workbookd") {
        return None;
    }
    Some(format!("/v1.0/me/drive/items/01X/workbook{path}"))
}

fn state(method: &str, path: &str) -> &'static str {
    match resolve(method, path) {
        Ok(r) => match r.operation {
            Operation::NotImplemented { .. } => "501",
            _ => "served",
        },
        // A documented shape the Graph service itself does not route, answered as it does.
        Err(e) if e.code == graph::error::Code::ApiNotFound => "refused",
        Err(e) => panic!("{method} {path} does not resolve: {e}"),
    }
}

#[test]
fn the_compatibility_table_matches_the_resolver() {
    let text = std::fs::read_to_string(DOC).expect("docs/graph-compatibility.md");
    let mut out = String::new();
    let mut wrong = Vec::new();
    let (mut served, mut todo) = (0, 0);
    for line in text.lines() {
        let cells: Vec<&str> = line.split(" | ").collect();
        let row = line.starts_with("| ")
            && cells.len() == 4
            && (line.ends_with("| 501 |") || line.ends_with("| served |") || line.ends_with("| refused |"));
        let path = cells.get(2).map(|p| p.trim_matches('`')).and_then(request_path);
        match (row, path) {
            (true, Some(path)) => {
                let written = cells[3].trim_end_matches(" |");
                let actual = state(cells[1], &path);
                if actual == "served" {
                    served += 1;
                } else {
                    todo += 1;
                }
                if written != actual {
                    wrong.push(format!("{}: says {written}, is {actual}", cells[0].trim_start_matches("| ")));
                }
                out.push_str(&format!("{} | {} | {} | {actual} |\n", cells[0], cells[1], cells[2]));
            }
            _ => {
                out.push_str(line);
                out.push('\n');
            }
        }
    }
    if std::env::var_os("WORKBOOKD_BLESS").is_some() {
        std::fs::write(DOC, out).unwrap();
        return;
    }
    assert!(wrong.is_empty(), "the table is out of date (bless it):\n{}", wrong.join("\n"));
    // Every documented operation is listed, served or not; served only goes up.
    assert!(served >= 90 && served + todo >= 169, "served {served}, 501 {todo}");
}
