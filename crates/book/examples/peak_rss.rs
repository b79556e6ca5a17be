//! Peak resident memory (Linux VmHWM) of a process that opens the 1M-value benchmark book.
//!
//! ```text
//! cargo run --release -p book --example peak_rss -- generate /tmp/million.xlsx
//! cargo run --release -p book --example peak_rss -- book /tmp/million.xlsx
//! cargo run --release -p book --example peak_rss -- calamine /tmp/million.xlsx
//! ```

#[path = "../benches/support/mod.rs"]
mod support;

fn vm_hwm_mib() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let kib: u64 = status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0);
    kib / 1024
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let (which, path) = match (args.get(1), args.get(2)) {
        (Some(w), Some(p)) => (w.as_str(), p.as_str()),
        _ => {
            eprintln!("usage: peak_rss generate|book|calamine FILE");
            std::process::exit(2);
        }
    };
    if which == "generate" {
        std::fs::write(path, support::million_book()).unwrap();
        return;
    }
    let bytes = std::fs::read(path).unwrap();
    let before = vm_hwm_mib();
    match which {
        "calamine" => {
            use calamine::{Reader, Xlsx};
            let mut x: Xlsx<_> = Xlsx::new(std::io::Cursor::new(bytes.as_slice())).unwrap();
            let r = x.worksheet_range("Data").unwrap();
            println!("calamine cells: {}", r.cells().count());
        }
        _ => {
            let wb = book::Workbook::open(bytes.clone()).unwrap();
            println!("book sheets: {}", wb.sheet_names().len());
        }
    }
    println!(
        "{which}: file {} KiB, peak RSS {before} MiB before opening, {} MiB after",
        bytes.len() / 1024,
        vm_hwm_mib()
    );
}
