//! Files that are never half-written: temporary file in the same directory, then rename.
use anyhow::Context;
use serde::{Serialize, de::DeserializeOwned};
use std::path::Path;

/// Write through `write(tmp)`, then rename onto `path`.
pub fn write_atomic(
    path: &Path,
    write: impl FnOnce(&Path) -> anyhow::Result<()>,
) -> anyhow::Result<()> {
    let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    let tmp = path.with_file_name(format!(".{name}.tmp-{}", std::process::id()));
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    }
    if let Err(e) = write(&tmp) {
        let _ = std::fs::remove_file(&tmp);
        return Err(e.context(format!("cannot write {}", path.display())));
    }
    std::fs::rename(&tmp, path)
        .with_context(|| format!("cannot move {} to {}", tmp.display(), path.display()))
}

/// Bytes, atomically.
pub fn write_bytes(path: &Path, bytes: &[u8]) -> anyhow::Result<()> {
    write_atomic(path, |tmp| Ok(std::fs::write(tmp, bytes)?))
}

/// Pretty JSON, atomically.
pub fn write_json<T: Serialize>(path: &Path, value: &T) -> anyhow::Result<()> {
    let mut bytes = serde_json::to_vec_pretty(value)?;
    bytes.push(b'\n');
    write_bytes(path, &bytes)
}

/// Deserialize a type that has two forms: the text a user types (read by its `FromStr`,
/// e.g. `group:8`) and serde's tagged form, as files hold it (e.g. `{"group": {"groups": 8}}`,
/// read as `Tagged` and converted by `from`). `expecting` says what the text may be.
pub fn text_or_tagged<'de, D, T, Tagged>(
    d: D,
    expecting: &'static str,
    from: fn(Tagged) -> T,
) -> Result<T, D::Error>
where
    D: serde::Deserializer<'de>,
    T: std::str::FromStr,
    T::Err: std::fmt::Display,
    Tagged: serde::Deserialize<'de>,
{
    struct Visit<T, Tagged>(&'static str, fn(Tagged) -> T);
    impl<'de, T: std::str::FromStr, Tagged: serde::Deserialize<'de>> serde::de::Visitor<'de>
        for Visit<T, Tagged>
    where
        T::Err: std::fmt::Display,
    {
        type Value = T;
        fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
            f.write_str(self.0)
        }
        fn visit_str<E: serde::de::Error>(self, s: &str) -> Result<T, E> {
            s.parse::<T>().map_err(E::custom)
        }
        fn visit_map<M: serde::de::MapAccess<'de>>(self, map: M) -> Result<T, M::Error> {
            Tagged::deserialize(serde::de::value::MapAccessDeserializer::new(map)).map(self.1)
        }
    }
    d.deserialize_any(Visit(expecting, from))
}

/// An exclusive advisory lock on a lock file (`File::lock`: `flock(2)` on Linux), held until
/// dropped and released by the kernel if the process dies. On NFS, Linux maps it to a POSIX
/// lock, which the server honours across clients.
#[derive(Debug)]
pub struct FileLock(#[allow(dead_code)] std::fs::File);

/// Wait for the exclusive lock of `path` (created if missing).
pub fn lock(path: &Path) -> std::io::Result<FileLock> {
    let f = std::fs::OpenOptions::new().create(true).truncate(false).write(true).open(path)?;
    loop {
        match f.lock() {
            Ok(()) => return Ok(FileLock(f)),
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        }
    }
}

/// This machine's host name (`uname -n`), as the kernel reports it; `localhost` if it cannot.
pub fn host_name() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|h| h.trim().to_string())
        .ok()
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "localhost".into())
}

/// Read JSON, naming the file on error.
pub fn read_json<T: DeserializeOwned>(path: &Path) -> anyhow::Result<T> {
    let bytes = std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?;
    serde_json::from_slice(&bytes).with_context(|| format!("{}: invalid JSON", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn failed_write_leaves_old_file_and_no_temp() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("a.json");
        write_json(&p, &vec![1, 2]).unwrap();
        let err = write_atomic(&p, |tmp| {
            std::fs::write(tmp, b"half")?;
            anyhow::bail!("disk full")
        })
        .unwrap_err();
        assert!(format!("{err:#}").contains("a.json") && format!("{err:#}").contains("disk full"));
        assert_eq!(read_json::<Vec<i32>>(&p).unwrap(), [1, 2]);
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1, "no temporary file left");
        std::fs::write(&p, b"{oops").unwrap();
        assert!(format!("{:#}", read_json::<Vec<i32>>(&p).unwrap_err()).contains("invalid JSON"));
    }
}
