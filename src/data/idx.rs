//! IDX files (MNIST, Fashion-MNIST): big-endian header, then raw bytes.
use super::DataError;
use flate2::read::GzDecoder;
use std::io::Read;
use std::path::{Path, PathBuf};

/// Class names of Fashion-MNIST, in label order.
pub(crate) const FASHION_MNIST_CLASSES: [&str; 10] =
    ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"];

/// `name` or `name.gz` in `dir`, whichever exists.
pub(crate) fn find(dir: &Path, name: &str) -> Result<PathBuf, DataError> {
    for candidate in [dir.join(format!("{name}.gz")), dir.join(name)] {
        if candidate.is_file() {
            return Ok(candidate);
        }
    }
    Err(DataError::layout(
        dir.join(format!("{name}.gz")),
        format!("missing IDX file (nor {name} uncompressed); install Debian's dataset-fashion-mnist (make setup) or point the source at a directory holding it"),
    ))
}

/// Read an IDX file of unsigned bytes: its dimensions and data.
pub(crate) fn read_u8(path: &Path) -> Result<(Vec<usize>, Vec<u8>), DataError> {
    let bad = |problem: String| DataError::Idx { path: path.to_path_buf(), problem };
    let raw = std::fs::read(path).map_err(|e| DataError::io(path, e))?;
    let bytes = if path.extension().is_some_and(|e| e == "gz") {
        let mut out = Vec::with_capacity(raw.len() * 4);
        GzDecoder::new(&raw[..]).read_to_end(&mut out).map_err(|e| bad(format!("not a valid gzip file: {e}")))?;
        out
    } else {
        raw
    };
    if bytes.len() < 4 || bytes[0] != 0 || bytes[1] != 0 {
        return Err(bad("not an IDX file (bad magic number)".into()));
    }
    if bytes[2] != 0x08 {
        return Err(bad(format!("element type 0x{:02x}, expected unsigned bytes (0x08)", bytes[2])));
    }
    let ndim = bytes[3] as usize;
    let header = 4 + 4 * ndim;
    if bytes.len() < header {
        return Err(bad("truncated header".into()));
    }
    let dims: Vec<usize> = (0..ndim)
        .map(|i| u32::from_be_bytes(bytes[4 + 4 * i..8 + 4 * i].try_into().unwrap()) as usize)
        .collect();
    let Some(expected) = dims.iter().try_fold(1usize, |acc, &d| acc.checked_mul(d)) else {
        return Err(bad(format!("dimensions {dims:?} are too large")));
    };
    let data = &bytes[header..];
    if data.len() != expected {
        return Err(bad(format!("dimensions {dims:?} need {expected} bytes of data, found {}", data.len())));
    }
    Ok((dims, data.to_vec()))
}

#[cfg(test)]
mod tests {
    use super::*;

    pub(crate) fn write_idx(path: &Path, dims: &[u32], data: &[u8]) {
        let mut bytes = vec![0, 0, 8, dims.len() as u8];
        for d in dims {
            bytes.extend(d.to_be_bytes());
        }
        bytes.extend(data);
        std::fs::write(path, bytes).unwrap();
    }

    #[test]
    fn reads_plain_and_gzip_and_names_bad_files() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("x-idx3-ubyte");
        write_idx(&p, &[2, 2, 3], &[1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]);
        let (dims, data) = read_u8(&p).unwrap();
        assert_eq!(dims, [2, 2, 3]);
        assert_eq!(data[11], 12);

        let gz = dir.path().join("x-idx3-ubyte.gz");
        let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        std::io::Write::write_all(&mut enc, &std::fs::read(&p).unwrap()).unwrap();
        std::fs::write(&gz, enc.finish().unwrap()).unwrap();
        assert_eq!(read_u8(&gz).unwrap().1, data);
        assert_eq!(find(dir.path(), "x-idx3-ubyte").unwrap(), gz);

        let short = dir.path().join("short");
        write_idx(&short, &[2, 2, 3], &[1, 2, 3]);
        let err = read_u8(&short).unwrap_err().to_string();
        assert!(err.contains("short") && err.contains("need 12 bytes"), "{err}");
        std::fs::write(&short, b"hello").unwrap();
        assert!(read_u8(&short).unwrap_err().to_string().contains("bad magic"));
        let err = find(dir.path(), "t10k-labels-idx1-ubyte").unwrap_err().to_string();
        assert!(err.contains("t10k-labels-idx1-ubyte.gz") && err.contains("dataset-fashion-mnist"), "{err}");
    }
}
