//! The crash harness: a mixed write load from several client threads against the real server on a
//! real data directory, SIGKILLed at a random moment, restarted on the same directory and checked.
//! Every acknowledged write must be there, through the API and in the downloaded file; a write in
//! flight at the kill may be there or not, but never in part.
//!
//! `cargo test --release -p workbookd --test crash` runs 10 rounds (CI). The long form:
//! `WORKBOOKD_CRASH_ROUNDS=100 cargo test --release -p workbookd --test crash -- --nocapture`
//! (`WORKBOOKD_CRASH_SEED` picks other kill moments and operations).

mod support;

use std::collections::{BTreeMap, BTreeSet};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::{json, Value};
use support::{call_at, user, Response, Server};

const BOOKS: usize = 3;
const WORKERS: usize = 4;
/// Rows of Sheet1 each worker writes to; worker `t` owns columns 3t+1..3t+3 (A1:L20 in all).
const ROWS: usize = 20;
/// A worker keeps at most this many sheets of its own per book, deleting the oldest first.
const SHEETS_PER_WORKER: usize = 3;

/// A tiny deterministic generator (xorshift64*), so a seed repeats the choices of a run.
struct Rng(u64);

impl Rng {
    fn new(seed: u64) -> Rng {
        Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

/// The one write a worker had sent but not seen acknowledged when the server died.
#[derive(Debug, Clone)]
enum Pending {
    Cells { book: usize, row: usize, value: f64 },
    Row { book: usize, seq: u64 },
    SheetAdd { book: usize, name: String },
    SheetDelete { book: usize, name: String },
    Upload { seq: u64 },
}

/// What one worker's acknowledged writes say its part of the data is.
#[derive(Debug, Clone, Default)]
struct Model {
    /// Sheet1 cell triples: (book, row) → the value in all three cells.
    cells: BTreeMap<(usize, usize), f64>,
    /// Table rows added, by their sequence numbers, per book.
    rows: BTreeMap<usize, Vec<u64>>,
    /// Sheets added and not deleted, oldest first, per book.
    sheets: BTreeMap<usize, Vec<String>>,
    /// The sequence number written into the worker's uploaded file (0: none yet).
    upload: u64,
}

#[derive(Debug, Default, Clone, Copy)]
struct Tally {
    cells: u64,
    session_cells: u64,
    rows: u64,
    sheets: u64,
    uploads: u64,
    in_flight: u64,
    in_flight_applied: u64,
}

impl Tally {
    fn add(&mut self, o: &Tally) {
        self.cells += o.cells;
        self.session_cells += o.session_cells;
        self.rows += o.rows;
        self.sheets += o.sheets;
        self.uploads += o.uploads;
        self.in_flight += o.in_flight;
        self.in_flight_applied += o.in_flight_applied;
    }
    fn acknowledged(&self) -> u64 {
        self.cells + self.session_cells + self.rows + self.sheets + self.uploads
    }
}

struct Worker {
    id: usize,
    rng: Rng,
    model: Model,
    seq: u64,
    /// The worker's persistent session per book (lost with the process; made again on 404).
    sessions: BTreeMap<usize, String>,
    pending: Option<Pending>,
    tally: Tally,
}

fn column(n: usize) -> String {
    let mut n = n + 1;
    let mut s = String::new();
    while n > 0 {
        s.insert(0, (b'A' + ((n - 1) % 26) as u8) as char);
        n = (n - 1) / 26;
    }
    s
}

fn workbook(items: &[String], book: usize) -> String {
    format!("/v1.0/me/drive/items/{}/workbook", items[book])
}

fn upload_bytes(seq: u64) -> Vec<u8> {
    let mut wb = support::new_xlsx();
    let ws = wb.add_worksheet();
    ws.write_number(0, 0, seq as f64).unwrap();
    ws.write_number(0, 1, (seq * 2) as f64).unwrap();
    wb.save_to_buffer().unwrap()
}

impl Worker {
    /// Sends one write. `Err` when the connection broke: the server is gone.
    fn step(&mut self, addr: &str, token: &str, items: &[String]) -> std::io::Result<()> {
        self.seq += 1;
        let seq = self.seq;
        let book = self.rng.below(BOOKS as u64) as usize;
        let wb = workbook(items, book);
        let auth = [("Authorization", token), ("Content-Type", "application/json")];
        let roll = self.rng.below(100);
        let (pending, response): (Pending, Response) = if roll < 55 {
            // Three cells in one PATCH, sessionless or in a persistent session.
            let row = self.rng.below(ROWS as u64) as usize;
            let value = (self.id * 1_000_000) as f64 + seq as f64;
            let first = 3 * self.id;
            let address = format!("{}{}:{}{}", column(first), row + 1, column(first + 2), row + 1);
            let path = format!("{wb}/worksheets/Sheet1/range(address='{address}')");
            let body = json!({"values": [[value, value, value]]}).to_string();
            let pending = Pending::Cells { book, row, value };
            if roll < 30 {
                self.pending = Some(pending.clone());
                (pending, call_at(addr, "PATCH", &path, &auth, body.as_bytes())?)
            } else {
                let session = self.session(addr, token, items, book)?;
                let mut headers = auth.to_vec();
                headers.push(("workbook-session-id", &session));
                self.pending = Some(pending.clone());
                let r = call_at(addr, "PATCH", &path, &headers, body.as_bytes())?;
                if r.status == 404 {
                    // The session died with the last process: a new one next time.
                    self.pending = None;
                    self.sessions.remove(&book);
                    return Ok(());
                }
                (pending, r)
            }
        } else if roll < 80 {
            let pending = Pending::Row { book, seq };
            let body = json!({"values": [[self.id, seq, self.id as u64 * 1000 + seq]]}).to_string();
            self.pending = Some(pending.clone());
            (pending, call_at(addr, "POST", &format!("{wb}/tables/Log/rows/add"), &auth, body.as_bytes())?)
        } else if roll < 88 {
            let mine = self.model.sheets.get(&book).cloned().unwrap_or_default();
            if mine.len() >= SHEETS_PER_WORKER {
                let name = mine[0].clone();
                let pending = Pending::SheetDelete { book, name: name.clone() };
                self.pending = Some(pending.clone());
                (pending, call_at(addr, "DELETE", &format!("{wb}/worksheets/{name}"), &auth, b"")?)
            } else {
                let name = format!("w{}s{seq}", self.id);
                let pending = Pending::SheetAdd { book, name: name.clone() };
                let body = json!({ "name": name }).to_string();
                self.pending = Some(pending.clone());
                (pending, call_at(addr, "POST", &format!("{wb}/worksheets/add"), &auth, body.as_bytes())?)
            }
        } else {
            let pending = Pending::Upload { seq };
            let bytes = upload_bytes(seq);
            let path = format!("/v1.0/me/drive/root:/up-{}.xlsx:/content", self.id);
            self.pending = Some(pending.clone());
            let headers = [("Authorization", token), ("Content-Type", "application/octet-stream")];
            (pending, call_at(addr, "PUT", &path, &headers, &bytes)?)
        };
        assert!(
            (200..300).contains(&response.status),
            "worker {} {pending:?}: {} {}",
            self.id,
            response.status,
            response.text()
        );
        self.pending = None;
        self.acknowledge(pending, roll);
        Ok(())
    }

    fn acknowledge(&mut self, done: Pending, roll: u64) {
        match done {
            Pending::Cells { book, row, value } => {
                self.model.cells.insert((book, row), value);
                if roll < 30 {
                    self.tally.cells += 1;
                } else {
                    self.tally.session_cells += 1;
                }
            }
            Pending::Row { book, seq } => {
                self.model.rows.entry(book).or_default().push(seq);
                self.tally.rows += 1;
            }
            Pending::SheetAdd { book, name } => {
                self.model.sheets.entry(book).or_default().push(name);
                self.tally.sheets += 1;
            }
            Pending::SheetDelete { book, name } => {
                self.model.sheets.entry(book).or_default().retain(|n| *n != name);
                self.tally.sheets += 1;
            }
            Pending::Upload { seq } => {
                self.model.upload = seq;
                self.tally.uploads += 1;
            }
        }
    }

    fn session(&mut self, addr: &str, token: &str, items: &[String], book: usize) -> std::io::Result<String> {
        if let Some(s) = self.sessions.get(&book) {
            return Ok(s.clone());
        }
        let r = call_at(
            addr,
            "POST",
            &format!("{}/createSession", workbook(items, book)),
            &[("Authorization", token), ("Content-Type", "application/json")],
            br#"{"persistChanges":true}"#,
        )?;
        assert_eq!(r.status, 201, "createSession: {}", r.text());
        let id = r.json()["id"].as_str().unwrap().to_string();
        self.sessions.insert(book, id.clone());
        Ok(id)
    }
}

/// Everything the restarted server shows of one book: Sheet1's A1:L20, the table's rows and the
/// sheet names, read through the API.
struct Seen {
    grid: Vec<Vec<f64>>,
    rows: Vec<[u64; 3]>,
    sheets: Vec<String>,
}

fn number(v: &Value) -> f64 {
    match v {
        Value::Number(n) => n.as_f64().unwrap(),
        Value::String(s) if s.is_empty() => 0.0,
        other => panic!("not a number: {other}"),
    }
}

fn get(addr: &str, token: &str, path: &str) -> Value {
    let r = call_at(addr, "GET", path, &[("Authorization", token)], b"").expect("the restarted server answers");
    assert_eq!(r.status, 200, "GET {path}: {}", r.text());
    r.json()
}

fn seen_through_api(addr: &str, token: &str, wb: &str) -> Seen {
    let grid = get(addr, token, &format!("{wb}/worksheets/Sheet1/range(address='A1:L{ROWS}')"))["values"]
        .as_array()
        .unwrap()
        .iter()
        .map(|row| row.as_array().unwrap().iter().map(number).collect())
        .collect();
    let mut rows = Vec::new();
    let mut next = Some(format!("{wb}/tables/Log/rows"));
    while let Some(path) = next.take() {
        let page = get(addr, token, &path);
        for r in page["value"].as_array().unwrap() {
            let v = &r["values"][0];
            let cells: Vec<f64> = v.as_array().unwrap().iter().map(number).collect();
            rows.push([cells[0] as u64, cells[1] as u64, cells[2] as u64]);
        }
        next = page["@odata.nextLink"].as_str().map(|l| l.split_once(addr).map_or(l, |(_, p)| p).to_string());
    }
    let sheets = get(addr, token, &format!("{wb}/worksheets"))["value"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["name"].as_str().unwrap().to_string())
        .collect();
    Seen { grid, rows, sheets }
}

/// The same book read from its downloaded file by calamine.
fn seen_in_file(bytes: &[u8]) -> Seen {
    use calamine::Reader;
    let mut x = calamine::Xlsx::new(std::io::Cursor::new(bytes.to_vec())).expect("the download is an xlsx");
    let sheets = x.sheet_names().to_vec();
    let value = |d: Option<&calamine::Data>| match d {
        Some(calamine::Data::Float(f)) => *f,
        Some(calamine::Data::Int(i)) => *i as f64,
        None | Some(calamine::Data::Empty) => 0.0,
        Some(other) => panic!("not a number: {other:?}"),
    };
    let s1 = x.worksheet_range("Sheet1").expect("Sheet1");
    let grid = (0..ROWS as u32).map(|r| (0..12u32).map(|c| value(s1.get_value((r, c)))).collect()).collect();
    let t = x.worksheet_range("T").expect("the table's sheet");
    let rows = (1..t.end().map_or(0, |(r, _)| r + 1))
        .map(|r| [0u32, 1, 2].map(|c| value(t.get_value((r, c))) as u64))
        .collect();
    Seen { grid, rows, sheets }
}

/// Checks one worker's part of what the restarted server shows against its model and its write
/// in flight, and returns the model as found (the write in flight counted in when it landed).
fn check_worker(w: &Worker, views: &[Seen], uploaded: u64) -> (Model, bool) {
    let m = &w.model;
    let mut found = Model { upload: uploaded, ..Model::default() };
    let mut applied = false;
    let pending = w.pending.as_ref();
    for (book, seen) in views.iter().enumerate() {
        for row in 0..ROWS {
            let triple = &seen.grid[row][3 * w.id..3 * w.id + 3];
            assert!(
                triple.iter().all(|v| *v == triple[0]),
                "worker {} book {book} row {row}: half a PATCH {triple:?}",
                w.id
            );
            let acked = m.cells.get(&(book, row)).copied().unwrap_or(0.0);
            if triple[0] != acked {
                let landed = matches!(pending, Some(Pending::Cells { book: b, row: r, value }) if *b == book && *r == row && *value == triple[0]);
                assert!(landed, "worker {} book {book} row {row}: {} where {acked} was acknowledged", w.id, triple[0]);
                applied = true;
            }
            if triple[0] != 0.0 {
                found.cells.insert((book, row), triple[0]);
            }
        }
        let mine: Vec<u64> = seen.rows.iter().filter(|r| r[0] == w.id as u64 && r[1] != 0).map(|r| r[1]).collect();
        for r in seen.rows.iter().filter(|r| r[0] == w.id as u64 && r[1] != 0) {
            assert_eq!(r[2], w.id as u64 * 1000 + r[1], "worker {} book {book}: half a row {r:?}", w.id);
        }
        let acked = m.rows.get(&book).cloned().unwrap_or_default();
        if mine != acked {
            let mut with = acked.clone();
            if let Some(Pending::Row { book: b, seq }) = pending {
                if *b == book {
                    with.push(*seq);
                }
            }
            assert_eq!(mine, with, "worker {} book {book}: table rows", w.id);
            applied = true;
        }
        found.rows.insert(book, mine);
        let prefix = format!("w{}s", w.id);
        let names: BTreeSet<String> = seen.sheets.iter().filter(|s| s.starts_with(&prefix)).cloned().collect();
        let acked_sheets = m.sheets.get(&book).cloned().unwrap_or_default();
        let acked_set: BTreeSet<String> = acked_sheets.iter().cloned().collect();
        let mut order = acked_sheets.clone();
        if names != acked_set {
            match pending {
                Some(Pending::SheetAdd { book: b, name }) if *b == book => {
                    let mut with = acked_set.clone();
                    with.insert(name.clone());
                    assert_eq!(names, with, "worker {} book {book}: sheets", w.id);
                    order.push(name.clone());
                }
                Some(Pending::SheetDelete { book: b, name }) if *b == book => {
                    let mut without = acked_set.clone();
                    without.remove(name);
                    assert_eq!(names, without, "worker {} book {book}: sheets", w.id);
                    order.retain(|n| n != name);
                }
                _ => panic!("worker {} book {book}: sheets {names:?} where {acked_set:?} were acknowledged", w.id),
            }
            applied = true;
        }
        found.sheets.insert(book, order);
    }
    if uploaded != m.upload {
        assert!(
            matches!(pending, Some(Pending::Upload { seq }) if *seq == uploaded),
            "worker {}: uploaded file holds {uploaded} where {} was acknowledged",
            w.id,
            m.upload
        );
        applied = true;
    }
    (found, applied)
}

/// The sequence number inside a worker's uploaded file, read from the restarted server (0: none).
fn uploaded_seq(server: &Server, token: &str, worker: usize) -> u64 {
    let r = server.call("GET", &format!("/v1.0/me/drive/root:/up-{worker}.xlsx:"), &[("Authorization", token)], b"");
    if r.status == 404 {
        return 0;
    }
    assert_eq!(r.status, 200, "{}", r.text());
    let id = r.json()["id"].as_str().unwrap().to_string();
    let bytes = server.download(token, &id);
    let a1 = support::cell(&bytes, "Sheet1", 0, 0);
    let b1 = support::cell(&bytes, "Sheet1", 0, 1);
    let (calamine::Data::Float(a), calamine::Data::Float(b)) = (a1, b1) else { panic!("a damaged upload") };
    assert_eq!(b, a * 2.0, "an upload mixed from two versions");
    a as u64
}

fn seed_book() -> Vec<u8> {
    let mut wb = support::new_xlsx();
    wb.add_worksheet().set_name("Sheet1").unwrap();
    let t = wb.add_worksheet().set_name("T").unwrap();
    for (c, h) in ["Thread", "Seq", "Check"].iter().enumerate() {
        t.write_string(0, c as u16, *h).unwrap();
    }
    wb.save_to_buffer().unwrap()
}

fn env_u64(name: &str, default: u64) -> u64 {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

#[test]
fn acknowledged_writes_survive_sigkill_at_random_moments() {
    let rounds = env_u64("WORKBOOKD_CRASH_ROUNDS", 10);
    let seed = env_u64("WORKBOOKD_CRASH_SEED", 20_261_129);
    let dir = tempfile::tempdir().unwrap();
    let token = user("alice");
    // A low checkpoint threshold, so that kills also land in checkpoints and journal rollovers.
    let flags = ["--checkpoint-records", "25"];
    let mut server = Server::on_disk(dir.path(), &flags);
    let items: Vec<String> =
        (0..BOOKS).map(|b| server.upload(&token, &format!("book{b}.xlsx"), &seed_book())).collect();
    for item in &items {
        let r = server.as_user(
            &token,
            "POST",
            &format!("/v1.0/me/drive/items/{item}/workbook/worksheets/T/tables/add"),
            None,
            r#"{"address":"A1:C1","hasHeaders":true}"#,
        );
        assert_eq!(r.status, 201, "{}", r.text());
        let name = r.json()["name"].as_str().unwrap().to_string();
        let r = server.as_user(
            &token,
            "PATCH",
            &format!("/v1.0/me/drive/items/{item}/workbook/tables/{name}"),
            None,
            r#"{"name":"Log"}"#,
        );
        assert_eq!(r.status, 200, "{}", r.text());
    }
    let mut rng = Rng::new(seed);
    let mut workers: Vec<Worker> = (0..WORKERS)
        .map(|id| Worker {
            id,
            rng: Rng::new(seed ^ (id as u64 + 1) << 32),
            model: Model::default(),
            seq: 0,
            sessions: BTreeMap::new(),
            pending: None,
            tally: Tally::default(),
        })
        .collect();
    let mut restarts = Vec::new();
    for round in 0..rounds {
        let stop = Arc::new(AtomicBool::new(false));
        let items = Arc::new(items.clone());
        let handles: Vec<_> = workers
            .drain(..)
            .map(|mut w| {
                let (addr, token, items, stop) = (server.addr.clone(), token.clone(), items.clone(), stop.clone());
                std::thread::spawn(move || {
                    w.pending = None;
                    while !stop.load(Ordering::Relaxed) {
                        if w.step(&addr, &token, &items).is_err() {
                            break;
                        }
                    }
                    w
                })
            })
            .collect();
        std::thread::sleep(Duration::from_millis(200 + rng.below(800)));
        server.kill();
        stop.store(true, Ordering::Relaxed);
        workers = handles.into_iter().map(|h| h.join().expect("a worker failed")).collect();

        let started = Instant::now();
        server = Server::on_disk(dir.path(), &flags);
        let ready = started.elapsed();
        let views: Vec<Seen> =
            (0..BOOKS).map(|b| seen_through_api(&server.addr, &token, &workbook(&items, b))).collect();
        restarts.push((ready, started.elapsed()));
        for w in &mut workers {
            let uploaded = uploaded_seq(&server, &token, w.id);
            let (found, applied) = check_worker(w, &views, uploaded);
            if w.pending.is_some() {
                w.tally.in_flight += 1;
                w.tally.in_flight_applied += u64::from(applied);
            }
            w.model = found;
        }
        // The downloaded files say the same as the API.
        for (b, item) in items.iter().enumerate() {
            let file = seen_in_file(&server.download(&token, item));
            assert_eq!(file.grid, views[b].grid, "round {round} book {b}: Sheet1 in the file");
            let api_rows: Vec<[u64; 3]> = views[b].rows.iter().filter(|r| r[1] != 0).copied().collect();
            let file_rows: Vec<[u64; 3]> = file.rows.iter().filter(|r| r[1] != 0).copied().collect();
            assert_eq!(file_rows, api_rows, "round {round} book {b}: the table in the file");
            assert_eq!(file.sheets, views[b].sheets, "round {round} book {b}: sheets in the file");
        }
    }
    let mut total = Tally::default();
    for w in &workers {
        total.add(&w.tally);
    }
    let slowest = restarts.iter().map(|r| r.1).max().unwrap_or_default();
    println!(
        "crash harness: seed {seed}, {rounds} rounds, {} acknowledged writes ({} sessionless PATCH, {} session PATCH, \
         {} table rows, {} sheet adds/deletes, {} uploads), all present; {} writes in flight at a kill, {} of them \
         applied whole, none in part; restart to ready max {:?}, to first reads of {BOOKS} books max {slowest:?}",
        total.acknowledged(),
        total.cells,
        total.session_cells,
        total.rows,
        total.sheets,
        total.uploads,
        total.in_flight,
        total.in_flight_applied,
        restarts.iter().map(|r| r.0).max().unwrap_or_default(),
    );
    assert!(total.acknowledged() > rounds * 10, "the load hardly ran: {total:?}");
}

/// Journal records of an item not yet compacted into its file, as `/_workbookd/state` shows them.
fn pending_records(server: &Server, item: &str) -> u64 {
    let state = server.call("GET", "/_workbookd/state", &[], b"").json();
    let items = state["drives"][0]["items"].as_array().unwrap().clone();
    items.iter().find(|i| i["id"] == item).expect("the item is listed")["pendingJournalRecords"].as_u64().unwrap()
}

/// Restart with 1,000 journal records not yet checkpointed: every one is replayed, and the time to
/// the first read is printed beside the same restart with the journal compacted into the file.
#[test]
fn a_thousand_pending_records_are_replayed_after_a_kill() {
    const RECORDS: usize = 1000;
    let dir = tempfile::tempdir().unwrap();
    let token = user("alice");
    let flags = ["--checkpoint-records", "100000"];
    let server = Server::on_disk(dir.path(), &flags);
    let item = server.upload(&token, "pending.xlsx", &seed_book());
    let wb = format!("/v1.0/me/drive/items/{item}/workbook");
    for i in 0..RECORDS {
        let path = format!("{wb}/worksheets/Sheet1/range(address='{}{}')", column(i % 10), i / 10 + 1);
        let r = server.as_user(&token, "PATCH", &path, None, &format!(r#"{{"values":[[{i}]]}}"#));
        assert_eq!(r.status, 200, "{}", r.text());
    }
    assert_eq!(pending_records(&server, &item), RECORDS as u64);
    server.kill();

    let read_all = |server: &Server| -> Duration {
        let started = Instant::now();
        let v = get(&server.addr, &token, &format!("{wb}/worksheets/Sheet1/range(address='A1:J100')"));
        let took = started.elapsed();
        let values = v["values"].as_array().unwrap();
        for i in 0..RECORDS {
            assert_eq!(number(&values[i / 10][i % 10]), i as f64, "record {i}");
        }
        took
    };
    let started = Instant::now();
    let server = Server::on_disk(dir.path(), &flags);
    let replayed_ready = started.elapsed();
    assert_eq!(pending_records(&server, &item), RECORDS as u64, "the journal is still there before the first use");
    let replayed = read_all(&server);
    // A download compacts the journal into the file.
    server.download(&token, &item);
    assert_eq!(pending_records(&server, &item), 0);
    server.kill();

    let started = Instant::now();
    let server = Server::on_disk(dir.path(), &flags);
    let compacted_ready = started.elapsed();
    let compacted = read_all(&server);
    println!(
        "restart with {RECORDS} pending journal records: ready in {replayed_ready:?}, first read (load + replay) \
         {replayed:?}; after compaction: ready in {compacted_ready:?}, first read {compacted:?}"
    );
}

/// Closing the last persistent session on a file compacts its journal into the file.
#[test]
fn closing_the_last_persistent_session_compacts_the_journal() {
    let dir = tempfile::tempdir().unwrap();
    let token = user("alice");
    let server = Server::on_disk(dir.path(), &[]);
    let item = server.upload(&token, "close.xlsx", &seed_book());
    let wb = format!("/v1.0/me/drive/items/{item}/workbook");
    let first = server.session(&token, &item, true);
    let second = server.session(&token, &item, true);
    for (i, s) in [&first, &second].into_iter().enumerate() {
        let path = format!("{wb}/worksheets/Sheet1/range(address='A{}')", i + 1);
        let r = server.as_user(&token, "PATCH", &path, Some(s), r#"{"values":[[5]]}"#);
        assert_eq!(r.status, 200, "{}", r.text());
    }
    let close = |s: &str| {
        let r = server.as_user(&token, "POST", &format!("{wb}/closeSession"), Some(s), "");
        assert_eq!(r.status, 204, "{}", r.text());
    };
    close(&first);
    std::thread::sleep(Duration::from_millis(300));
    assert_eq!(pending_records(&server, &item), 2, "another session is still open: nothing to compact yet");
    close(&second);
    let deadline = Instant::now() + Duration::from_secs(10);
    while pending_records(&server, &item) != 0 {
        assert!(Instant::now() < deadline, "the journal was not compacted after the last close");
        std::thread::sleep(Duration::from_millis(20));
    }
    server.kill();
    let server = Server::on_disk(dir.path(), &[]);
    let v = get(&server.addr, &token, &format!("{wb}/worksheets/Sheet1/range(address='A1:A2')"));
    assert_eq!(v["values"], json!([[5], [5]]));
}

/// A range PATCH of values and `rowHidden` is one journal record: a crash keeps both or neither.
#[test]
fn a_patch_of_values_and_hiding_is_one_journal_record() {
    let dir = tempfile::tempdir().unwrap();
    let token = user("alice");
    let server = Server::on_disk(dir.path(), &[]);
    let item = server.upload(&token, "one.xlsx", &seed_book());
    let path = format!("/v1.0/me/drive/items/{item}/workbook/worksheets/Sheet1/range(address='A2:B2')");
    let r = server.as_user(&token, "PATCH", &path, None, r#"{"values":[[1,2]],"rowHidden":true}"#);
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(pending_records(&server, &item), 1);
    server.kill();
    let server = Server::on_disk(dir.path(), &[]);
    let r = server.as_user(&token, "GET", &path, None, "");
    assert_eq!((r.json()["values"].clone(), r.json()["rowHidden"].clone()), (json!([[1, 2]]), json!(true)));
}
