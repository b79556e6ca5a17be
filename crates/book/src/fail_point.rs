//! Named places where a test can make the document core panic part-way through an edit, to
//! prove that a panic changes nothing a client can see. Nothing is armed unless a test calls
//! [`arm`] or the server is started with `WORKBOOKD_FAIL_POINTS`; unarmed, a check is one relaxed
//! atomic load.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Mutex;

/// Between an edit's change to the cells and the recalculation that follows it: where a panic of
/// the calculation engine would leave a half-applied workbook.
pub const BEFORE_RECALC: &str = "edit.before-recalc";

static ANY_ARMED: AtomicBool = AtomicBool::new(false);
static ARMED: Mutex<Vec<(String, u32)>> = Mutex::new(Vec::new());

/// Makes the next `times` passes through the fail point `name` panic.
pub fn arm(name: &str, times: u32) {
    let mut armed = ARMED.lock().unwrap_or_else(|p| p.into_inner());
    armed.retain(|(n, _)| n != name);
    armed.push((name.to_string(), times));
    ANY_ARMED.store(true, Ordering::Release);
}

/// Arms fail points from a list such as `edit.before-recalc=2,other` (a bare name: once).
pub fn arm_from_list(list: &str) -> Result<(), String> {
    for entry in list.split(',').map(str::trim).filter(|e| !e.is_empty()) {
        let (name, times) = match entry.split_once('=') {
            Some((name, times)) => (name, times.parse().map_err(|_| format!("bad count in fail point '{entry}'"))?),
            None => (entry, 1),
        };
        if name != BEFORE_RECALC {
            return Err(format!("unknown fail point '{name}'"));
        }
        arm(name, times);
    }
    Ok(())
}

/// Panics if `name` is armed, counting the pass.
pub(crate) fn hit(name: &str) {
    if !ANY_ARMED.load(Ordering::Acquire) {
        return;
    }
    let fire = {
        let mut armed = ARMED.lock().unwrap_or_else(|p| p.into_inner());
        match armed.iter_mut().find(|(n, left)| n == name && *left > 0) {
            Some((_, left)) => {
                *left -= 1;
                true
            }
            None => false,
        }
    };
    if fire {
        panic!("fail point {name}");
    }
}
