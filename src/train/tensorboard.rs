//! TensorBoard event files, written beside a run's `history.csv`, so that
//! `tensorboard --logdir runs/` shows every run of a grid while it trains.
//!
//! The format is TensorFlow's record file: each record is its length (u64, little
//! endian), the masked CRC-32C of those 8 bytes, the data, and the masked CRC-32C of the
//! data; the data is a protobuf `Event` (`tensorflow/core/util/event.proto`), hand-encoded
//! here: the first event of a file carries `file_version = "brain.Event:2"`, then one
//! event per epoch holds that epoch's scalars (`simple_value`), and step 0 the run's
//! config as text (the text plugin's string tensor).
//!
//! Events are derived from the history: after each epoch, [`sync`] appends the epochs
//! that no event file of the run holds yet. Each process writes its own file; a resumed
//! run reads the steps already written (its files' records, checksums verified) and
//! writes only the rest, so no step appears twice.
use super::EpochRecord;
use super::run_dir::RunDir;
use anyhow::Context;
use std::io::Write;
use std::path::{Path, PathBuf};

/// CRC-32C (Castagnoli, reflected polynomial 0x82F63B78), as TensorFlow's records use.
pub fn crc32c(data: &[u8]) -> u32 {
    static TABLE: std::sync::OnceLock<[u32; 256]> = std::sync::OnceLock::new();
    let table = TABLE.get_or_init(|| {
        let mut t = [0u32; 256];
        for (i, e) in t.iter_mut().enumerate() {
            let mut c = i as u32;
            for _ in 0..8 {
                c = if c & 1 != 0 { 0x82F6_3B78 ^ (c >> 1) } else { c >> 1 };
            }
            *e = c;
        }
        t
    });
    !data.iter().fold(!0u32, |c, &b| table[((c ^ b as u32) & 0xff) as usize] ^ (c >> 8))
}

/// TensorFlow's masked CRC: rotated right by 15 and offset, so a CRC of data holding CRCs stays
/// strong.
pub fn masked_crc32c(data: &[u8]) -> u32 {
    let c = crc32c(data);
    c.rotate_right(15).wrapping_add(0xa282_ead8)
}

/// One record: length, its masked CRC, the data, the data's masked CRC.
pub fn record(data: &[u8]) -> Vec<u8> {
    let len = (data.len() as u64).to_le_bytes();
    let mut out = Vec::with_capacity(data.len() + 16);
    out.extend_from_slice(&len);
    out.extend_from_slice(&masked_crc32c(&len).to_le_bytes());
    out.extend_from_slice(data);
    out.extend_from_slice(&masked_crc32c(data).to_le_bytes());
    out
}

/// The records of a file's bytes, up to the first damaged or cut-short one, and what is wrong
/// with that one (naming its offset), if any.
pub fn records(bytes: &[u8]) -> (Vec<&[u8]>, Option<String>) {
    let (mut out, mut at) = (Vec::new(), 0usize);
    while at < bytes.len() {
        let Some(header) = bytes.get(at..at + 12) else {
            return (out, Some(format!("a record header cut short at byte {at}")));
        };
        let len_bytes: [u8; 8] = header[..8].try_into().expect("8 bytes");
        if u32::from_le_bytes(header[8..12].try_into().expect("4 bytes"))
            != masked_crc32c(&len_bytes)
        {
            return (
                out,
                Some(format!("the length checksum of the record at byte {at} does not match")),
            );
        }
        let len = u64::from_le_bytes(len_bytes) as usize;
        let (Some(data), Some(crc)) =
            (bytes.get(at + 12..at + 12 + len), bytes.get(at + 12 + len..at + 16 + len))
        else {
            return (out, Some(format!("the record at byte {at} is cut short")));
        };
        if u32::from_le_bytes(crc.try_into().expect("4 bytes")) != masked_crc32c(data) {
            return (
                out,
                Some(format!("the data checksum of the record at byte {at} does not match")),
            );
        }
        out.push(data);
        at += 16 + len;
    }
    (out, None)
}

// --- protobuf, by hand: varints, tags, length-delimited fields -----------------------

fn varint(mut v: u64, out: &mut Vec<u8>) {
    while v >= 0x80 {
        out.push((v as u8) | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

/// Field `field` with wire type `wire` (0 varint, 1 64-bit, 2 length-delimited, 5 32-bit).
fn tag(field: u64, wire: u64, out: &mut Vec<u8>) {
    varint((field << 3) | wire, out);
}

fn bytes_field(field: u64, data: &[u8], out: &mut Vec<u8>) {
    tag(field, 2, out);
    varint(data.len() as u64, out);
    out.extend_from_slice(data);
}

/// What an event holds besides its time and step.
pub enum Payload<'a> {
    FileVersion,
    /// `Summary.value`: (tag, simple_value) pairs.
    Scalars(&'a [(&'a str, f32)]),
    /// A text-plugin summary: one string tensor.
    Text {
        tag: &'a str,
        text: &'a str,
    },
}

/// A protobuf `Event`.
pub fn event(wall_time: f64, step: i64, payload: Payload) -> Vec<u8> {
    let mut out = Vec::new();
    tag(1, 1, &mut out); // wall_time: double
    out.extend_from_slice(&wall_time.to_le_bytes());
    tag(2, 0, &mut out); // step: int64
    varint(step as u64, &mut out);
    match payload {
        Payload::FileVersion => bytes_field(3, b"brain.Event:2", &mut out),
        Payload::Scalars(values) => {
            let mut summary = Vec::new();
            for (name, v) in values {
                let mut value = Vec::new();
                bytes_field(1, name.as_bytes(), &mut value); // Summary.Value.tag
                tag(2, 5, &mut value); // simple_value: float
                value.extend_from_slice(&v.to_le_bytes());
                bytes_field(1, &value, &mut summary); // Summary.value
            }
            bytes_field(5, &summary, &mut out); // Event.summary
        }
        Payload::Text { tag: name, text } => {
            let mut tensor = Vec::new();
            tag(1, 0, &mut tensor); // dtype
            varint(7, &mut tensor); // DT_STRING
            bytes_field(2, &[], &mut tensor); // tensor_shape: a scalar
            bytes_field(8, text.as_bytes(), &mut tensor); // string_val
            let mut plugin = Vec::new();
            bytes_field(1, b"text", &mut plugin); // PluginData.plugin_name
            let mut metadata = Vec::new();
            bytes_field(1, &plugin, &mut metadata); // SummaryMetadata.plugin_data
            let mut value = Vec::new();
            bytes_field(1, name.as_bytes(), &mut value);
            bytes_field(8, &tensor, &mut value); // Summary.Value.tensor
            bytes_field(9, &metadata, &mut value); // Summary.Value.metadata
            let mut summary = Vec::new();
            bytes_field(1, &value, &mut summary);
            bytes_field(5, &summary, &mut out);
        }
    }
    out
}

/// The `step` of an `Event`'s bytes and whether it carries a summary (not the file version).
fn step_of(event: &[u8]) -> Option<(i64, bool)> {
    let (mut at, mut step, mut summary) = (0usize, None, false);
    let read_varint = |at: &mut usize| -> Option<u64> {
        let mut v = 0u64;
        for shift in (0..64).step_by(7) {
            let b = *event.get(*at)?;
            *at += 1;
            v |= ((b & 0x7f) as u64) << shift;
            if b < 0x80 {
                return Some(v);
            }
        }
        None
    };
    while at < event.len() {
        let key = read_varint(&mut at)?;
        match (key >> 3, key & 7) {
            (2, 0) => step = Some(read_varint(&mut at)? as i64),
            (f, 2) => {
                let len = read_varint(&mut at)? as usize;
                summary |= f == 5;
                at += len;
            }
            (_, 0) => {
                read_varint(&mut at)?;
            }
            (_, 1) => at += 8,
            (_, 5) => at += 4,
            _ => return None,
        }
    }
    Some((step.unwrap_or(0), summary))
}

/// The highest epoch with scalars in the run's event files (0 when none), and whether the
/// config text is there.
fn written(dir: &Path) -> anyhow::Result<(usize, bool)> {
    let (mut last, mut config) = (0usize, false);
    for f in RunDir::new(dir).event_files() {
        let bytes = std::fs::read(&f).with_context(|| format!("cannot read {}", f.display()))?;
        // A file cut short by a kill ends in a partial record: what precedes it counts.
        let (recs, _damage) = records(&bytes);
        for r in recs {
            match step_of(r) {
                Some((0, true)) => config = true,
                Some((s, true)) => last = last.max(s as usize),
                _ => {}
            }
        }
    }
    Ok((last, config))
}

/// When the events happened.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Clock {
    /// Now: a live run writes each epoch as it finishes.
    Now,
    /// The history's last epoch ended at this Unix time (seconds); each earlier epoch ended
    /// that epoch's and every later epoch's `seconds` before it. For runs recorded before
    /// the writer existed, from `history.csv`'s modification time.
    EndedAt(f64),
}

/// Append to this process's event file in `dir` the epochs of `history` no event file holds
/// yet (and the config text, once). Creates the file, with its file-version event, on first use.
pub fn sync(dir: &Path, history: &[EpochRecord], config_json: &str) -> anyhow::Result<()> {
    sync_at(dir, history, config_json, Clock::Now)
}

/// [`sync`] with the events' wall times from `clock`.
pub fn sync_at(
    dir: &Path,
    history: &[EpochRecord],
    config_json: &str,
    clock: Clock,
) -> anyhow::Result<()> {
    let (last, has_config) = written(dir)?;
    let todo: Vec<&EpochRecord> = history.iter().filter(|r| r.epoch > last).collect();
    if todo.is_empty() && has_config {
        return Ok(());
    }
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0.0, |d| d.as_secs_f64());
    // Each epoch's end: now, or counted back from the history's end.
    let ended = |epoch: usize| match clock {
        Clock::Now => now,
        Clock::EndedAt(end) => {
            end - history.iter().filter(|r| r.epoch > epoch).map(|r| r.seconds).sum::<f64>()
        }
    };
    let start = match clock {
        Clock::Now => now,
        Clock::EndedAt(_) => {
            ended(history.first().map_or(0, |r| r.epoch))
                - history.first().map_or(0.0, |r| r.seconds)
        }
    };
    let host = crate::io::host_name().replace(['/', '.'], "_"); // a file-name part
    let files = RunDir::new(dir);
    let pid = std::process::id();
    let path =
        files.event_file_of(&host, pid).unwrap_or_else(|| files.event_file(now as u64, &host, pid));
    let mut bytes = Vec::new();
    if !path.exists() {
        bytes.extend(record(&event(start, 0, Payload::FileVersion)));
    }
    if !has_config {
        let text = format!("```json\n{config_json}\n```");
        bytes.extend(record(&event(start, 0, Payload::Text { tag: "config", text: &text })));
    }
    for r in todo {
        let values = [
            ("train/loss", r.train_loss as f32),
            ("train/acc", r.train_acc as f32),
            ("val/loss", r.val_loss as f32),
            ("val/acc", r.val_acc as f32),
            ("val/top5", r.val_top5 as f32),
            ("lr", r.lr as f32),
            // As history.csv records it (one decimal), so the two files hold the same numbers.
            ("images_per_s", ((r.images_per_s * 10.0).round() / 10.0) as f32),
        ];
        bytes.extend(record(&event(ended(r.epoch), r.epoch as i64, Payload::Scalars(&values))));
    }
    append(&path, &bytes)
}

/// Append `bytes` to the file at `path` (created if missing).
fn append(path: &Path, bytes: &[u8]) -> anyhow::Result<()> {
    let mut f = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .with_context(|| format!("cannot open {}", path.display()))?;
    f.write_all(bytes).with_context(|| format!("cannot write {}", path.display()))?;
    f.flush()?;
    Ok(())
}

/// Every run directory under `root` (a `history.csv` beside a `config.json`) whose event
/// files lack epochs of its history gets them ([`sync`]); returns those directories.
pub fn backfill(root: &Path) -> anyhow::Result<Vec<PathBuf>> {
    let mut out = Vec::new();
    let mut stack = vec![root.to_path_buf()];
    anyhow::ensure!(root.is_dir(), "{} is not a directory of runs", root.display());
    while let Some(dir) = stack.pop() {
        let rd =
            std::fs::read_dir(&dir).with_context(|| format!("cannot read {}", dir.display()))?;
        let mut subdirs: Vec<PathBuf> =
            rd.flatten().map(|e| e.path()).filter(|p| p.is_dir()).collect();
        subdirs.sort();
        stack.extend(subdirs.into_iter().rev());
        let files = RunDir::new(&dir);
        let (history, config) = (files.history(), files.config());
        if !(history.is_file() && config.is_file()) {
            continue;
        }
        let records = files.read_history()?;
        let (last, has_config) = written(&dir)?;
        if records.iter().any(|r| r.epoch > last) || !has_config {
            let config_json = std::fs::read_to_string(&config)
                .with_context(|| format!("cannot read {}", config.display()))?;
            // The history was last written when its last epoch ended.
            let end = std::fs::metadata(&history)
                .and_then(|m| m.modified())
                .ok()
                .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
                .map(|d| d.as_secs_f64());
            sync_at(&dir, &records, config_json.trim(), end.map_or(Clock::Now, Clock::EndedAt))?;
            out.push(dir);
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crc32c_matches_the_standard_check_values() {
        // The CRC-32C check value (RFC 3720, appendix B.4: "123456789").
        assert_eq!(crc32c(b"123456789"), 0xE306_9283);
        assert_eq!(crc32c(&[0u8; 32]), 0x8A91_36AA);
        assert_eq!(crc32c(b""), 0);
    }

    #[test]
    fn records_round_trip_and_damage_is_named() {
        let a = record(&event(1.5, 0, Payload::FileVersion));
        let b = record(&event(2.0, 3, Payload::Scalars(&[("val/acc", 0.5)])));
        let bytes = [a.clone(), b.clone()].concat();
        let (recs, damage) = records(&bytes);
        assert_eq!((recs.len(), damage), (2, None));
        assert_eq!(step_of(recs[0]), Some((0, false)));
        assert_eq!(step_of(recs[1]), Some((3, true)));
        let mut bad = bytes.clone();
        let n = bad.len();
        bad[n - 6] ^= 1;
        let (recs, damage) = records(&bad);
        assert_eq!(recs.len(), 1, "the records before the damaged one still count");
        assert!(
            damage.unwrap().contains(&format!("data checksum of the record at byte {}", a.len()))
        );
        let (recs, damage) = records(&bytes[..bytes.len() - 3]);
        assert_eq!(recs.len(), 1);
        assert!(damage.unwrap().contains("cut short"));
    }
}
