//! The line format of the hash chain and reading a file from its end.
//!
//! Every record keyward writes is one line `{"prev":"<hex>","seq":N,"type":...}`:
//! - `prev` is the hex SHA-256 of the previous line's bytes (without its newline), or
//!   [`GENESIS`] for the first record of a new log; the first record of a rotated file
//!   (a `continues` record) carries the last line's hash of the file before it;
//! - `seq` numbers the records of the chain, 1 for the first, across rotated files.
//!
//! `prev` makes an edit of any line visible at the next one, `seq` tells a deleted line
//! from an edited one and a moved line from both. Lines without the two fields were
//! written before keyward chained its log: they still read, and the chain starts after them.

use sha2::{Digest, Sha256};
use std::fs::File;
use std::io;

/// The `prev` of the first record of a new log: no line came before it.
pub const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// Hex SHA-256 of one line's bytes, without its newline.
pub fn hash_line(line: &[u8]) -> String {
    hex::encode(Sha256::digest(line))
}

/// The line for a record serialized as the JSON object `body`, chained after a line
/// hashing to `prev`. No newline.
pub fn chained(prev: &str, seq: u64, body: &str) -> String {
    // `body` is a serialized record: a JSON object with at least its "type".
    let fields = body.strip_prefix('{').unwrap_or(body);
    format!("{{\"prev\":\"{prev}\",\"seq\":{seq},{fields}")
}

/// The chain fields of one line, if it is a JSON object.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Links {
    pub prev: Option<String>,
    pub seq: Option<u64>,
}

/// `None` when the line is not a JSON object (cut short by a crash, or damaged).
pub fn links(line: &[u8]) -> Option<Links> {
    #[derive(serde::Deserialize)]
    struct Raw {
        prev: Option<String>,
        seq: Option<u64>,
    }
    let raw: Raw = serde_json::from_slice(line).ok()?;
    Some(Links {
        prev: raw.prev,
        seq: raw.seq,
    })
}

/// The end of a log file as the next append sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tail {
    /// File length in bytes.
    pub len: u64,
    /// The file is empty or ends with a newline; otherwise its last line was cut short
    /// (a crash mid-write) and the next append must start a fresh line first.
    pub newline: bool,
    /// What the next record's `prev` is: the last line's hash, or [`GENESIS`].
    pub hash: String,
    /// The `seq` of the last record that has one (0: none, the chain starts at 1).
    pub seq: u64,
}

/// How many lines back from the end a `seq` is looked for, past lines that are not
/// records (a crash can leave one partial line; more is damage, and the chain says so).
const SEQ_LOOKBACK: usize = 8;

/// Read the tail of `file`: only its last lines are read, however large it is.
pub fn read_tail(file: &File) -> io::Result<Tail> {
    let len = file.metadata()?.len();
    if len == 0 {
        return Ok(Tail {
            len,
            newline: true,
            hash: GENESIS.to_string(),
            seq: 0,
        });
    }
    let mut lines = Backwards::new(file)?;
    let newline = !lines.ends_partial();
    let mut hash = None;
    let mut seq = 0;
    for (i, line) in lines.by_ref().enumerate() {
        let line = line?;
        if hash.is_none() {
            hash = Some(hash_line(&line));
        }
        match links(&line) {
            Some(l) => {
                // A record without `seq` is from before the chain: the chain starts anew.
                seq = l.seq.unwrap_or(0);
                break;
            }
            None if i + 1 >= SEQ_LOOKBACK => break,
            None => {}
        }
    }
    Ok(Tail {
        len,
        newline,
        hash: hash.unwrap_or_else(|| GENESIS.to_string()),
        seq,
    })
}

/// Bytes read per step when walking a file backwards.
const BLOCK: u64 = 64 * 1024;

/// The lines of a file, newest first, read backwards in blocks: the cost is what is
/// read, not the file's size. Lines come without their newline; a last line without
/// one (cut short) comes first, and [`Backwards::ends_partial`] says so.
pub struct Backwards<'a> {
    file: &'a File,
    /// Start of the part not read yet.
    pos: u64,
    /// Bytes after `pos` not handed out yet (the start of a line whose beginning is
    /// still before `pos`).
    carry: Vec<u8>,
    partial: bool,
    done: bool,
}

impl<'a> Backwards<'a> {
    pub fn new(file: &'a File) -> io::Result<Self> {
        let len = file.metadata()?.len();
        let mut lines = Backwards {
            file,
            pos: len,
            carry: Vec::new(),
            partial: false,
            done: len == 0,
        };
        if len > 0 {
            let mut last = [0u8; 1];
            read_exact_at(file, &mut last, len - 1)?;
            if last[0] == b'\n' {
                // The final newline ends the last line; it does not start an empty one.
                lines.pos = len - 1;
            } else {
                lines.partial = true;
            }
        }
        Ok(lines)
    }

    /// The file does not end with a newline: its last line was cut short.
    pub fn ends_partial(&self) -> bool {
        self.partial
    }

    /// Offset where the lines not handed out yet end (for a caller that stops early).
    pub fn remaining(&self) -> u64 {
        self.pos + self.carry.len() as u64
    }

    fn read_block(&mut self) -> io::Result<()> {
        let start = self.pos.saturating_sub(BLOCK);
        let mut block = vec![0u8; (self.pos - start) as usize];
        read_exact_at(self.file, &mut block, start)?;
        block.extend_from_slice(&self.carry);
        self.carry = block;
        self.pos = start;
        Ok(())
    }
}

impl Iterator for Backwards<'_> {
    type Item = io::Result<Vec<u8>>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.done {
            return None;
        }
        loop {
            if let Some(i) = self.carry.iter().rposition(|b| *b == b'\n') {
                let line = self.carry.split_off(i + 1);
                self.carry.truncate(i);
                return Some(Ok(line));
            }
            if self.pos == 0 {
                self.done = true;
                return Some(Ok(std::mem::take(&mut self.carry)));
            }
            if let Err(e) = self.read_block() {
                self.done = true;
                return Some(Err(e));
            }
        }
    }
}

#[cfg(unix)]
fn read_exact_at(file: &File, buf: &mut [u8], offset: u64) -> io::Result<()> {
    std::os::unix::fs::FileExt::read_exact_at(file, buf, offset)
}

#[cfg(not(unix))]
fn read_exact_at(file: &File, buf: &mut [u8], offset: u64) -> io::Result<()> {
    use std::io::{Read, Seek, SeekFrom};
    let mut f = file;
    f.seek(SeekFrom::Start(offset))?;
    f.read_exact(buf)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn file_with(bytes: &[u8]) -> (tempfile::TempDir, File) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("f");
        std::fs::File::create(&path).unwrap().write_all(bytes).unwrap();
        let file = File::open(&path).unwrap();
        (dir, file)
    }

    fn backwards(bytes: &[u8]) -> (Vec<String>, bool) {
        let (_dir, file) = file_with(bytes);
        let lines = Backwards::new(&file).unwrap();
        let partial = lines.ends_partial();
        let out = lines.map(|l| String::from_utf8(l.unwrap()).unwrap()).collect();
        (out, partial)
    }

    #[test]
    fn lines_come_newest_first_across_blocks() {
        assert_eq!(backwards(b""), (Vec::<String>::new(), false));
        assert_eq!(backwards(b"a\nb\n"), (vec!["b".into(), "a".into()], false));
        assert_eq!(backwards(b"a\nb"), (vec!["b".into(), "a".into()], true));
        assert_eq!(backwards(b"\n"), (vec!["".into()], false));
        // Lines longer than a block, and a block boundary inside a line.
        let long = "x".repeat(BLOCK as usize + 17);
        let text = format!("{long}\nshort\n{long}y\n");
        let (lines, _) = backwards(text.as_bytes());
        assert_eq!(lines, vec![format!("{long}y"), "short".into(), long]);
    }

    #[test]
    fn the_tail_names_the_last_hash_and_seq() {
        let (_d, empty) = file_with(b"");
        assert_eq!(read_tail(&empty).unwrap().hash, GENESIS);
        let first = chained(GENESIS, 1, r#"{"type":"run"}"#);
        let second = chained(&hash_line(first.as_bytes()), 2, r#"{"type":"run_end"}"#);
        let text = format!("{first}\n{second}\n");
        let (_d, f) = file_with(text.as_bytes());
        let tail = read_tail(&f).unwrap();
        assert_eq!((tail.seq, tail.newline), (2, true));
        assert_eq!(tail.hash, hash_line(second.as_bytes()));
        // Cut short by a crash: the partial line is hashed (the next record chains to
        // it), the seq is the last complete record's.
        let torn = format!("{first}\n{second}\n{{\"prev\":\"ab");
        let (_d, f) = file_with(torn.as_bytes());
        let tail = read_tail(&f).unwrap();
        assert_eq!((tail.seq, tail.newline), (2, false));
        assert_eq!(tail.hash, hash_line(b"{\"prev\":\"ab"));
        // A record from before the chain: the chain starts at 1 after it.
        let (_d, f) = file_with(b"{\"type\":\"run\"}\n");
        assert_eq!(read_tail(&f).unwrap().seq, 0);
    }

    #[test]
    fn a_chained_line_reads_back_its_links() {
        let line = chained(GENESIS, 7, r#"{"type":"run","run":"r"}"#);
        assert!(line.starts_with("{\"prev\":\"0000"));
        let l = links(line.as_bytes()).unwrap();
        assert_eq!((l.prev.as_deref(), l.seq), (Some(GENESIS), Some(7)));
        let v: serde_json::Value = serde_json::from_str(&line).unwrap();
        assert_eq!(v["run"], "r");
        assert_eq!(links(b"{\"type\":\"ru"), None);
    }
}
