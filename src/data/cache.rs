//! Decode once, in parallel; cache as safetensors with a manifest; reload in moments.
//!
//! The manifest records the tensor file's size and CRC-32 and carries a CRC-32
//! of its own: a truncated or corrupted cache is detected, reported and rebuilt,
//! never read as garbage. Before the split buffers are allocated, their size is
//! checked against a memory budget.
use super::assemble::build_listing;
use super::dataset::{Dataset, NormStats, Split};
use super::layout::Layout;
use super::listing::{self, Listing, Skipped};
use super::{DataConfig, DataError, Source, idx};
use serde::{Deserialize, Serialize};
use std::path::Path;
use std::time::{Instant, UNIX_EPOCH};
use tch::Tensor;

/// Bump when the cache's layout or decoding changes.
const CACHE_FORMAT: u32 = 3;

/// First line of a manifest file, before its JSON: the format and the JSON's CRC-32.
const MANIFEST_HEADER: &str = "convlab-cache-manifest";

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct Stamp {
    file: String,
    size: u64,
    mtime_ns: u128,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct Manifest {
    format: u32,
    /// The data config without `cache_dir`.
    key: serde_json::Value,
    classes: Vec<String>,
    sources: Vec<Stamp>,
    /// `[C,H,W]`.
    shape: [i64; 3],
    stats: NormStats,
    skipped: Vec<Skipped>,
    layout: Layout,
    /// Size in bytes and CRC-32 of the `.safetensors` file this manifest describes.
    tensors_size: u64,
    tensors_crc32: u32,
    train_files: Vec<String>,
    val_files: Vec<String>,
    test_files: Option<Vec<String>>,
}

fn stamp(path: &Path) -> Result<Stamp, DataError> {
    let m = std::fs::metadata(path).map_err(|e| DataError::io(path, e))?;
    let mtime_ns = m
        .modified()
        .ok()
        .and_then(|t| t.duration_since(UNIX_EPOCH).ok())
        .map_or(0, |d| d.as_nanos());
    Ok(Stamp { file: listing::escape_name(path.as_os_str()), size: m.len(), mtime_ns })
}

/// FNV-1a, 64 bit: a stable name for a cache entry.
fn fnv64(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf29ce484222325u64, |h, &b| (h ^ b as u64).wrapping_mul(0x100000001b3))
}

fn cache_key(cfg: &DataConfig) -> serde_json::Value {
    let mut key = cfg.clone();
    key.cache_dir = None;
    key.memory_budget = None;
    serde_json::to_value(key).expect("DataConfig serialises")
}

/// Write a cache file atomically (see [`crate::io::write_atomic`]), as a cache error naming it.
fn write_cache_file(
    path: &Path,
    write: impl FnOnce(&Path) -> anyhow::Result<()>,
) -> Result<(), DataError> {
    crate::io::write_atomic(path, write).map_err(|e| DataError::Cache {
        path: path.to_path_buf(),
        problem: format!("cannot write: {e:#}"),
    })
}

/// Size and CRC-32 of a file, read in 1 MiB blocks.
fn file_crc32(path: &Path) -> std::io::Result<(u64, u32)> {
    use std::io::Read;
    let mut f = std::fs::File::open(path)?;
    let mut hasher = crc32fast::Hasher::new();
    let mut buf = vec![0u8; 1 << 20];
    let mut size = 0u64;
    loop {
        let n = f.read(&mut buf)?;
        if n == 0 {
            return Ok((size, hasher.finalize()));
        }
        size += n as u64;
        hasher.update(&buf[..n]);
    }
}

/// `convlab-cache-manifest 2 crc32=…` then the JSON.
fn manifest_bytes(m: &Manifest) -> Vec<u8> {
    let json = serde_json::to_vec(m).expect("the manifest serialises");
    let mut out =
        format!("{MANIFEST_HEADER} {CACHE_FORMAT} crc32={:08x}\n", crc32fast::hash(&json))
            .into_bytes();
    out.extend(json);
    out
}

/// Why a manifest is not used.
enum ManifestProblem {
    /// Written by another cache format (an older convlab): rebuilt without a word.
    OtherFormat,
    /// Truncated, corrupted or not a manifest: rebuilt with a warning saying why.
    Damaged(String),
}

/// The manifest in `bytes`, or why it cannot be used.
fn parse_manifest(bytes: &[u8]) -> Result<Manifest, ManifestProblem> {
    use ManifestProblem::*;
    if bytes.first() == Some(&b'{') {
        return Err(OtherFormat); // format 1: plain JSON
    }
    let nl =
        bytes.iter().position(|&b| b == b'\n').ok_or_else(|| Damaged("no header line".into()))?;
    let header =
        std::str::from_utf8(&bytes[..nl]).map_err(|_| Damaged("header is not text".into()))?;
    let (json, crc) = (&bytes[nl + 1..], crc32fast::hash(&bytes[nl + 1..]));
    match header.split(' ').collect::<Vec<_>>().as_slice() {
        [MANIFEST_HEADER, format, _] if *format != CACHE_FORMAT.to_string() => Err(OtherFormat),
        [MANIFEST_HEADER, _, sum] if *sum == format!("crc32={crc:08x}") => {
            serde_json::from_slice(json).map_err(|e| Damaged(format!("invalid JSON: {e}")))
        }
        [MANIFEST_HEADER, _, _] => {
            Err(Damaged("its checksum does not match its contents (truncated or corrupted)".into()))
        }
        _ => Err(Damaged("not a convlab cache manifest".into())),
    }
}

impl Dataset {
    /// Load from the cache when it matches the source and settings; otherwise decode and cache.
    /// A tree without `val/` is loaded with a hold-out ([`DataConfig::resolved`]), and the
    /// dataset's `config` says so.
    pub fn load(cfg: &DataConfig) -> Result<Self, DataError> {
        let start = Instant::now();
        let cfg = &cfg.resolved();
        cfg.validate()?;
        let (listing, sources) = list(cfg)?;
        let key = cache_key(cfg);
        let dir = cfg.cache_dir()?.to_path_buf();
        let name = format!("{}-{:016x}", cfg.source.kind(), fnv64(key.to_string().as_bytes()));
        let tensors_path = dir.join(format!("{name}.safetensors"));
        let manifest_path = dir.join(format!("{name}.json"));

        // Several processes loading one uncached dataset decode it once: the others wait here,
        // then find the cache. (No lock where none can be made, e.g. a read-only cache: reads
        // need none.) A failed build removes the lock file, leaving nothing behind.
        let lock_path = dir.join(format!("{name}.lock"));
        let lock =
            std::fs::create_dir_all(&dir).ok().and_then(|()| crate::io::lock(&lock_path).ok());
        let loaded = Self::load_locked(
            cfg,
            start,
            &dir,
            key,
            listing,
            sources,
            &tensors_path,
            &manifest_path,
        );
        if loaded.is_err() && lock.is_some() {
            let _ = std::fs::remove_file(&lock_path);
        }
        loaded
    }

    #[allow(clippy::too_many_arguments)]
    fn load_locked(
        cfg: &DataConfig,
        start: Instant,
        dir: &Path,
        key: serde_json::Value,
        listing: Option<Listing>,
        sources: Vec<Stamp>,
        tensors_path: &Path,
        manifest_path: &Path,
    ) -> Result<Self, DataError> {
        if let Some(ds) = try_cache(cfg, &key, &listing, &sources, tensors_path, manifest_path) {
            return Ok(Dataset { seconds: start.elapsed().as_secs_f64(), ..ds });
        }
        let mut ds = match &cfg.source {
            Source::FashionMnist { dir } => idx::load_fashion_mnist(cfg, dir)?,
            _ => build_listing(cfg, listing.expect("listing sources have a listing"))?,
        };
        ds.cache_path = tensors_path.to_path_buf();
        std::fs::create_dir_all(dir).map_err(|e| DataError::Cache {
            path: dir.to_path_buf(),
            problem: format!(
                "cannot create the cache directory: {e}; choose another with --cache \
                or $CONVLAB_CACHE"
            ),
        })?;
        let mut named: Vec<(&str, &Tensor)> = vec![
            ("train_images", &ds.train.images),
            ("train_labels", &ds.train.labels),
            ("val_images", &ds.val.images),
            ("val_labels", &ds.val.labels),
        ];
        if let Some(t) = &ds.test {
            named.push(("test_images", &t.images));
            named.push(("test_labels", &t.labels));
        }
        // Tensors first, manifest last: a manifest only ever describes a complete file.
        write_cache_file(tensors_path, |tmp| Ok(Tensor::write_safetensors(&named, tmp)?))?;
        let (tensors_size, tensors_crc32) =
            file_crc32(tensors_path).map_err(|e| DataError::Cache {
                path: tensors_path.to_path_buf(),
                problem: format!("cannot read back: {e}"),
            })?;
        let manifest = Manifest {
            format: CACHE_FORMAT,
            key,
            classes: ds.classes.clone(),
            sources,
            shape: ds.shape(),
            stats: ds.stats.clone(),
            skipped: ds.skipped.clone(),
            layout: ds.layout.clone(),
            tensors_size,
            tensors_crc32,
            train_files: ds.train.files.clone(),
            val_files: ds.val.files.clone(),
            test_files: ds.test.as_ref().map(|t| t.files.clone()),
        };
        if let Err(e) = write_cache_file(manifest_path, |tmp| {
            Ok(std::fs::write(tmp, manifest_bytes(&manifest))?)
        }) {
            let _ = std::fs::remove_file(tensors_path); // no tensor file without its manifest
            return Err(e);
        }
        ds.seconds = start.elapsed().as_secs_f64();
        Ok(ds)
    }
}

fn list(cfg: &DataConfig) -> Result<(Option<Listing>, Vec<Stamp>), DataError> {
    match &cfg.source {
        Source::FashionMnist { dir } => {
            let mut stamps = Vec::new();
            for name in [
                "train-images-idx3-ubyte",
                "train-labels-idx1-ubyte",
                "t10k-images-idx3-ubyte",
                "t10k-labels-idx1-ubyte",
            ] {
                stamps.push(stamp(&idx::find(dir, name)?)?);
            }
            Ok((None, stamps))
        }
        Source::ImageFolder { root } => with_stamps(listing::image_folder(root, cfg)?),
        Source::TinyImageNet { root, readable_names } => {
            with_stamps(listing::tiny_imagenet(root, *readable_names, cfg)?)
        }
    }
}

fn with_stamps(l: Listing) -> Result<(Option<Listing>, Vec<Stamp>), DataError> {
    let items = l.train.iter().chain(&l.val).chain(l.test.iter().flatten());
    let stamps: Result<Vec<Stamp>, DataError> = items.map(|i| stamp(&i.path)).collect();
    Ok((Some(l), stamps?))
}

fn try_cache(
    cfg: &DataConfig,
    key: &serde_json::Value,
    listing: &Option<Listing>,
    sources: &[Stamp],
    tensors_path: &Path,
    manifest_path: &Path,
) -> Option<Dataset> {
    let bytes = match std::fs::read(manifest_path) {
        Ok(b) => b,
        Err(e)
            if e.kind() == std::io::ErrorKind::NotFound
                || e.raw_os_error() == Some(libc::ENOTDIR) =>
        {
            return None;
        }
        Err(e) => {
            eprintln!(
                "warning: cache manifest {} unreadable ({e}); decoding again",
                manifest_path.display()
            );
            return None;
        }
    };
    let m = match parse_manifest(&bytes) {
        Ok(m) => m,
        Err(ManifestProblem::OtherFormat) => return None,
        Err(ManifestProblem::Damaged(why)) => {
            eprintln!("warning: cache manifest {}: {why}; decoding again", manifest_path.display());
            return None;
        }
    };
    if m.format != CACHE_FORMAT || &m.key != key || m.sources != sources {
        return None;
    }
    match file_crc32(tensors_path) {
        Ok((size, crc)) if size == m.tensors_size && crc == m.tensors_crc32 => {}
        Ok((size, _)) => {
            let what = if size != m.tensors_size {
                format!("{size} bytes, the manifest says {}", m.tensors_size)
            } else {
                "its checksum does not match".into()
            };
            eprintln!(
                "warning: cache {} is truncated or corrupted ({what}); decoding again",
                tensors_path.display()
            );
            return None;
        }
        Err(e) => {
            eprintln!("warning: cache {} unreadable ({e}); decoding again", tensors_path.display());
            return None;
        }
    }
    if let Some(l) = listing
        && l.classes != m.classes
    {
        return None;
    }
    let tensors = match Tensor::read_safetensors(tensors_path) {
        Ok(t) => t,
        Err(e) => {
            eprintln!("warning: cache {} unreadable ({e}); decoding again", tensors_path.display());
            return None;
        }
    };
    let get = |name: &str| tensors.iter().find(|(n, _)| n == name).map(|(_, t)| t.shallow_clone());
    let split = |prefix: &str, files: Vec<String>| -> Option<Split> {
        let images = get(&format!("{prefix}_images"))?;
        let labels = get(&format!("{prefix}_labels"))?;
        (images.size()[0] as usize == files.len()).then_some(Split { images, labels, files })
    };
    let test = match m.test_files {
        Some(files) => Some(split("test", files)?),
        None => None,
    };
    Some(Dataset {
        config: cfg.clone(),
        classes: m.classes,
        train: split("train", m.train_files)?,
        val: split("val", m.val_files)?,
        test,
        stats: m.stats,
        skipped: m.skipped,
        layout: m.layout,
        from_cache: true,
        cache_path: tensors_path.to_path_buf(),
        seconds: 0.0,
    })
}
