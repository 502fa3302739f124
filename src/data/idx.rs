//! IDX files (MNIST, Fashion-MNIST): big-endian header, then raw bytes; and
//! Fashion-MNIST's four files as a [`Dataset`].
use super::dataset::{Dataset, Split};
use super::images::{norm_stats, resize_u8};
use super::layout::{Layout, TestSplit, ValSource};
use super::{DataConfig, DataError};
use flate2::read::GzDecoder;
use std::io::Read;
use std::path::{Path, PathBuf};
use tch::Tensor;

/// Fashion-MNIST's classes.
const CLASSES: usize = 10;
/// Validation images taken from the end of Fashion-MNIST's training file.
const VAL_IMAGES: usize = 10_000;

/// Class names of Fashion-MNIST, in label order.
pub(crate) const FASHION_MNIST_CLASSES: [&str; CLASSES] = [
    "T-shirt/top",
    "Trouser",
    "Pullover",
    "Dress",
    "Coat",
    "Sandal",
    "Shirt",
    "Sneaker",
    "Bag",
    "Ankle boot",
];

/// `name` or `name.gz` in `dir`, whichever exists.
pub(crate) fn find(dir: &Path, name: &str) -> Result<PathBuf, DataError> {
    for candidate in [dir.join(format!("{name}.gz")), dir.join(name)] {
        if candidate.is_file() {
            return Ok(candidate);
        }
    }
    Err(DataError::layout(
        dir.join(format!("{name}.gz")),
        format!(
            "missing IDX file (nor {name} uncompressed); install Debian's dataset-fashion-mnist \
                (make setup) or point the source at a directory holding it"
        ),
    ))
}

/// Read an IDX file of unsigned bytes: its dimensions and data.
pub(crate) fn read_u8(path: &Path) -> Result<(Vec<usize>, Vec<u8>), DataError> {
    let bad = |problem: String| DataError::Idx { path: path.to_path_buf(), problem };
    let raw = std::fs::read(path).map_err(|e| DataError::io(path, e))?;
    let bytes = if path.extension().is_some_and(|e| e == "gz") {
        let mut out = Vec::with_capacity(raw.len() * 4);
        GzDecoder::new(&raw[..])
            .read_to_end(&mut out)
            .map_err(|e| bad(format!("not a valid gzip file: {e}")))?;
        out
    } else {
        raw
    };
    if bytes.len() < 4 || bytes[0] != 0 || bytes[1] != 0 {
        return Err(bad("not an IDX file (bad magic number)".into()));
    }
    if bytes[2] != 0x08 {
        return Err(bad(format!(
            "element type 0x{:02x}, expected unsigned bytes (0x08)",
            bytes[2]
        )));
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
        return Err(bad(format!(
            "dimensions {dims:?} need {expected} bytes of data, found {}",
            data.len()
        )));
    }
    Ok((dims, data.to_vec()))
}

/// Fashion-MNIST's four IDX files as a dataset: train is the first 50,000 training
/// images, val the last 10,000 (a sixth of fewer), test the 10,000 `t10k` images.
pub(crate) fn load_fashion_mnist(cfg: &DataConfig, dir: &Path) -> Result<Dataset, DataError> {
    let images = |name: &str| -> Result<(Vec<usize>, Vec<u8>, PathBuf), DataError> {
        let p = find(dir, name)?;
        let (dims, data) = read_u8(&p)?;
        if dims.len() != 3 {
            return Err(DataError::Idx {
                path: p,
                problem: format!("expected 3 dimensions (N,H,W), found {dims:?}"),
            });
        }
        Ok((dims, data, p))
    };
    let labels = |name: &str, n: usize| -> Result<Vec<u8>, DataError> {
        let p = find(dir, name)?;
        let (dims, data) = read_u8(&p)?;
        if dims != [n] {
            return Err(DataError::Idx {
                path: p,
                problem: format!("{dims:?} labels for {n} images"),
            });
        }
        if let Some(bad) = data.iter().find(|&&l| l as usize >= CLASSES) {
            return Err(DataError::Idx {
                path: p,
                problem: format!("label {bad} out of range 0..{CLASSES}"),
            });
        }
        Ok(data)
    };
    let (tr_dims, tr_images, tr_path) = images("train-images-idx3-ubyte")?;
    let tr_labels = labels("train-labels-idx1-ubyte", tr_dims[0])?;
    let (te_dims, te_images, _) = images("t10k-images-idx3-ubyte")?;
    let te_labels = labels("t10k-labels-idx1-ubyte", te_dims[0])?;
    let n_val = VAL_IMAGES.min(tr_dims[0] / 6);
    if tr_dims[0] < 2 || n_val == 0 {
        return Err(DataError::Idx {
            path: tr_path,
            problem: format!("{} images: too few to split train/val", tr_dims[0]),
        });
    }
    let n_train = tr_dims[0] - n_val;
    let names: Vec<String> = FASHION_MNIST_CLASSES.iter().map(|s| s.to_string()).collect();
    let keep = super::listing::select_classes(&names, cfg, dir)?;
    // The source's label → the dataset's (−1: a class left out).
    let mut new_label = [-1i64; CLASSES];
    for (i, &c) in keep.iter().enumerate() {
        new_label[c] = i as i64;
    }
    let (h, w) = (tr_dims[1], tr_dims[2]);
    // Select indices: the first N per kept class.
    let select = |labels: &[u8],
                  range: std::ops::Range<usize>,
                  per_class: Option<usize>,
                  limit: Option<usize>|
     -> Vec<usize> {
        let mut counts = [0usize; CLASSES];
        let mut out = Vec::new();
        for i in range {
            let l = labels[i] as usize;
            if new_label[l] >= 0
                && counts[l] < per_class.unwrap_or(usize::MAX)
                && out.len() < limit.unwrap_or(usize::MAX)
            {
                counts[l] += 1;
                out.push(i);
            }
        }
        out
    };
    let make = |data: &[u8], labels: &[u8], idx: Vec<usize>, prefix: &str| -> Split {
        let mut flat = Vec::with_capacity(idx.len() * h * w);
        for &i in &idx {
            flat.extend_from_slice(&data[i * h * w..(i + 1) * h * w]);
        }
        let images = Tensor::from_slice(&flat).view([idx.len() as i64, 1, h as i64, w as i64]);
        let images = resize_u8(&images, cfg.image_size, cfg.channels());
        let lab: Vec<i64> = idx.iter().map(|&i| new_label[labels[i] as usize]).collect();
        let files = idx.iter().map(|i| format!("{prefix}/{i:05}")).collect();
        Split { images, labels: Tensor::from_slice(&lab), files }
    };
    let train = make(
        &tr_images,
        &tr_labels,
        select(&tr_labels, 0..n_train, cfg.train_per_class, None),
        "train",
    );
    let val = make(
        &tr_images,
        &tr_labels,
        select(&tr_labels, n_train..tr_dims[0], cfg.val_per_class, None),
        "train",
    );
    let test = make(
        &te_images,
        &te_labels,
        select(&te_labels, 0..te_dims[0], None, cfg.test_limit),
        "t10k",
    );
    Ok(Dataset {
        config: cfg.clone(),
        classes: keep.iter().map(|&i| names[i].clone()).collect(),
        stats: norm_stats(&train.images),
        train,
        val,
        test: Some(test),
        skipped: vec![],
        layout: Layout {
            name: "Fashion-MNIST (IDX)".into(),
            source_classes: CLASSES,
            val: ValSource::IdxTail,
            test: TestSplit::Labelled,
        },
        from_cache: false,
        cache_path: PathBuf::new(),
        seconds: 0.0,
    })
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
        assert!(
            err.contains("t10k-labels-idx1-ubyte.gz") && err.contains("dataset-fashion-mnist"),
            "{err}"
        );
    }
}
