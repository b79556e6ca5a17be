//! Journal framing: each record is `[length u32 LE][crc32 u32 LE][bytes]`. A reader stops at the
//! first frame that is short or fails its checksum: that is a write the crash interrupted, which
//! was never acknowledged. Appends first cut such a tail off, so later records stay readable.

use std::fs::{File, OpenOptions};
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::Path;

use crate::Result;

const HEADER: usize = 8;

/// Frames one record.
pub(crate) fn frame(record: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(HEADER + record.len());
    out.extend_from_slice(&(record.len() as u32).to_le_bytes());
    out.extend_from_slice(&crc32fast::hash(record).to_le_bytes());
    out.extend_from_slice(record);
    out
}

/// The records of a journal's bytes, and how many bytes they span.
pub(crate) fn parse(bytes: &[u8]) -> (Vec<Vec<u8>>, usize) {
    let mut records = Vec::new();
    let mut at = 0;
    while bytes.len() - at >= HEADER {
        let len = u32::from_le_bytes(bytes[at..at + 4].try_into().unwrap_or_default()) as usize;
        let crc = u32::from_le_bytes(bytes[at + 4..at + 8].try_into().unwrap_or_default());
        let Some(body) = bytes.get(at + HEADER..at + HEADER + len) else { break };
        if crc32fast::hash(body) != crc {
            break;
        }
        records.push(body.to_vec());
        at += HEADER + len;
    }
    (records, at)
}

/// Reads a journal file; a missing file is an empty journal.
pub(crate) fn read(path: &Path) -> Result<(Vec<Vec<u8>>, usize)> {
    let mut bytes = Vec::new();
    match File::open(path) {
        Ok(mut f) => {
            f.read_to_end(&mut bytes)?;
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(e.into()),
    }
    Ok(parse(&bytes))
}

/// Appends a record after the first `valid_len` bytes and syncs the data to disk.
pub(crate) fn append(path: &Path, valid_len: usize, record: &[u8]) -> Result<usize> {
    let mut f = OpenOptions::new().create(true).truncate(false).write(true).open(path)?;
    let on_disk = f.metadata()?.len();
    if on_disk != valid_len as u64 {
        f.set_len(valid_len as u64)?;
    }
    f.seek(SeekFrom::Start(valid_len as u64))?;
    let framed = frame(record);
    f.write_all(&framed)?;
    f.sync_data()?;
    Ok(valid_len + framed.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn torn_tails_are_ignored_and_cut() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("j");
        let len = append(&path, 0, b"one").unwrap();
        let len = append(&path, len, b"two").unwrap();
        // A crash in the middle of a third append.
        let mut f = OpenOptions::new().append(true).open(&path).unwrap();
        f.write_all(&frame(b"three")[..6]).unwrap();
        drop(f);
        let (records, valid) = read(&path).unwrap();
        assert_eq!(records, vec![b"one".to_vec(), b"two".to_vec()]);
        assert_eq!(valid, len);
        append(&path, valid, b"four").unwrap();
        let (records, _) = read(&path).unwrap();
        assert_eq!(records, vec![b"one".to_vec(), b"two".to_vec(), b"four".to_vec()]);
        // A flipped bit ends the journal at that record.
        let mut bytes = std::fs::read(&path).unwrap();
        let n = bytes.len();
        bytes[n - 1] ^= 1;
        assert_eq!(parse(&bytes).0.len(), 2);
    }
}
