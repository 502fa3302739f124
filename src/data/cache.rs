//! Decode once, in parallel; cache as safetensors with a manifest; reload in moments.
//!
//! The manifest records the tensor file's size and CRC-32 and carries a CRC-32
//! of its own: a truncated or corrupted cache is detected, reported and rebuilt,
//! never read as garbage. Before the split buffers are allocated, their size is
//! checked against a memory budget.
use super::listing::{self, Item, Listing};
pub use super::listing::Skipped;
use super::{DataConfig, DataError, Source, decode, idx};
use rayon::prelude::*;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::{Instant, UNIX_EPOCH};
use tch::{Device, Kind, Tensor};

/// Bump when the cache's layout or decoding changes.
const CACHE_FORMAT: u32 = 2;

/// First line of a manifest file, before its JSON: the format and the JSON's CRC-32.
const MANIFEST_HEADER: &str = "convlab-cache-manifest";

/// One split: images as uint8 `[N,C,H,W]` on the CPU, labels int64 `[N]` (−1 = unlabelled), file names.
#[derive(Debug)]
pub struct Split {
    pub images: Tensor,
    pub labels: Tensor,
    /// Names relative to the split (`<class>/<file>`, or `<file>` for a flat test folder),
    /// escaped with [`super::escape_name`].
    pub files: Vec<String>,
}

impl Split {
    pub fn len(&self) -> usize {
        self.files.len()
    }
    pub fn is_empty(&self) -> bool {
        self.files.is_empty()
    }
    /// Whether every image has a label.
    pub fn is_labelled(&self) -> bool {
        self.is_empty() || self.labels.min().int64_value(&[]) >= 0
    }
    /// Images per class (`num_classes` entries).
    pub fn class_counts(&self, num_classes: usize) -> Vec<i64> {
        let mut counts = vec![0i64; num_classes];
        // As int64 and flat, the conversion cannot fail.
        let labels = Vec::<i64>::try_from(self.labels.to_kind(Kind::Int64).flatten(0, -1)).expect("a flat int64 tensor converts to Vec<i64>");
        for l in labels {
            if l >= 0 && (l as usize) < num_classes {
                counts[l as usize] += 1;
            }
        }
        counts
    }
}

/// Per-channel mean and standard deviation of the training images, in [0, 1] units.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NormStats {
    pub mean: Vec<f64>,
    pub std: Vec<f64>,
}

impl Clone for Split {
    /// The same tensors (shared, not copied: a split is never written to) and file names.
    fn clone(&self) -> Self {
        Split { images: self.images.shallow_clone(), labels: self.labels.shallow_clone(), files: self.files.clone() }
    }
}

/// A loaded dataset: every split as tensors, plus what was left out. A clone shares the tensors.
#[derive(Debug, Clone)]
pub struct Dataset {
    pub config: DataConfig,
    pub classes: Vec<String>,
    pub train: Split,
    pub val: Split,
    /// Present when the source has a test split.
    pub test: Option<Split>,
    /// Normalisation statistics of `train`.
    pub stats: NormStats,
    /// Files left out, with reasons (empty under `strict`, which errors instead).
    pub skipped: Vec<Skipped>,
    /// Whether this load came from the cache.
    pub from_cache: bool,
    /// The cache file (`.safetensors`; its manifest is beside it as `.json`).
    pub cache_path: PathBuf,
    /// Seconds this load took.
    pub seconds: f64,
}

/// What identifies a source's content: names, sizes and modification times.
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
    /// Size in bytes and CRC-32 of the `.safetensors` file this manifest describes.
    tensors_size: u64,
    tensors_crc32: u32,
    train_files: Vec<String>,
    val_files: Vec<String>,
    test_files: Option<Vec<String>>,
}

fn stamp(path: &Path) -> Result<Stamp, DataError> {
    let m = std::fs::metadata(path).map_err(|e| DataError::io(path, e))?;
    let mtime_ns = m.modified().ok().and_then(|t| t.duration_since(UNIX_EPOCH).ok()).map_or(0, |d| d.as_nanos());
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
fn write_cache_file(path: &Path, write: impl FnOnce(&Path) -> anyhow::Result<()>) -> Result<(), DataError> {
    crate::io::write_atomic(path, write).map_err(|e| DataError::Cache { path: path.to_path_buf(), problem: format!("cannot write: {e:#}") })
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
    let mut out = format!("{MANIFEST_HEADER} {CACHE_FORMAT} crc32={:08x}\n", crc32fast::hash(&json)).into_bytes();
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
    let nl = bytes.iter().position(|&b| b == b'\n').ok_or_else(|| Damaged("no header line".into()))?;
    let header = std::str::from_utf8(&bytes[..nl]).map_err(|_| Damaged("header is not text".into()))?;
    let (json, crc) = (&bytes[nl + 1..], crc32fast::hash(&bytes[nl + 1..]));
    match header.split(' ').collect::<Vec<_>>().as_slice() {
        [MANIFEST_HEADER, format, _] if *format != CACHE_FORMAT.to_string() => Err(OtherFormat),
        [MANIFEST_HEADER, _, sum] if *sum == format!("crc32={crc:08x}") => serde_json::from_slice(json).map_err(|e| Damaged(format!("invalid JSON: {e}"))),
        [MANIFEST_HEADER, _, _] => Err(Damaged("its checksum does not match its contents (truncated or corrupted)".into())),
        _ => Err(Damaged("not a convlab cache manifest".into())),
    }
}

/// Half the memory the kernel reports available (`MemAvailable`), else half of physical memory.
fn default_memory_budget() -> u64 {
    let available = std::fs::read_to_string("/proc/meminfo").ok().and_then(|m| {
        let line = m.lines().find(|l| l.starts_with("MemAvailable:"))?;
        line.split_whitespace().nth(1)?.parse::<u64>().ok().map(|kb| kb * 1024)
    });
    // SAFETY: sysconf only reads system configuration values.
    let physical = || unsafe { (libc::sysconf(libc::_SC_PHYS_PAGES) as u64).saturating_mul(libc::sysconf(libc::_SC_PAGESIZE) as u64) };
    available.unwrap_or_else(physical) / 2
}

/// `56.7 GB` — bytes as a person reads them.
fn human_bytes(b: u64) -> String {
    match b {
        0..1_000_000 => format!("{:.1} kB", b as f64 / 1e3),
        1_000_000..1_000_000_000 => format!("{:.1} MB", b as f64 / 1e6),
        _ => format!("{:.1} GB", b as f64 / 1e9),
    }
}

impl Dataset {
    /// The split `name`; an error naming the data when it has no test split.
    pub fn split(&self, name: super::SplitName) -> Result<&Split, DataError> {
        match name {
            super::SplitName::Val => Ok(&self.val),
            super::SplitName::Test => self.test.as_ref().ok_or_else(|| DataError::layout(self.config.source.path(), "no test split")),
        }
    }

    /// Load from the cache when it matches the source and settings; otherwise decode and cache.
    pub fn load(cfg: &DataConfig) -> Result<Self, DataError> {
        let start = Instant::now();
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
        let lock = std::fs::create_dir_all(&dir).ok().and_then(|()| crate::io::lock(&lock_path).ok());
        let loaded = Self::load_locked(cfg, start, &dir, key, listing, sources, &tensors_path, &manifest_path);
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
        std::fs::create_dir_all(&dir).map_err(|e| DataError::Cache {
            path: dir.to_path_buf(),
            problem: format!("cannot create the cache directory: {e}; choose another with --cache or $CONVLAB_CACHE"),
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
        write_cache_file(&tensors_path, |tmp| Ok(Tensor::write_safetensors(&named, tmp)?))?;
        let (tensors_size, tensors_crc32) = file_crc32(&tensors_path).map_err(|e| DataError::Cache { path: tensors_path.to_path_buf(), problem: format!("cannot read back: {e}") })?;
        let manifest = Manifest {
            format: CACHE_FORMAT,
            key,
            classes: ds.classes.clone(),
            sources,
            shape: ds.shape(),
            stats: ds.stats.clone(),
            skipped: ds.skipped.clone(),
            tensors_size,
            tensors_crc32,
            train_files: ds.train.files.clone(),
            val_files: ds.val.files.clone(),
            test_files: ds.test.as_ref().map(|t| t.files.clone()),
        };
        if let Err(e) = write_cache_file(&manifest_path, |tmp| Ok(std::fs::write(tmp, manifest_bytes(&manifest))?)) {
            let _ = std::fs::remove_file(&tensors_path); // no tensor file without its manifest
            return Err(e);
        }
        ds.seconds = start.elapsed().as_secs_f64();
        Ok(ds)
    }

    pub fn num_classes(&self) -> usize {
        self.classes.len()
    }

    /// `[C,H,W]` of every image.
    pub fn shape(&self) -> [i64; 3] {
        let s = self.train.images.size();
        [s[1], s[2], s[3]]
    }

    /// One paragraph: sizes, classes, source (its path shown in `paths`' style), cache.
    pub fn summary(&self, paths: &crate::paths::PathStyle) -> String {
        let [c, h, w] = self.shape();
        format!(
            "{} ({}): {} classes, {c}×{h}×{w}; train {}, val {}, test {}; mean {:.3?} std {:.3?}; {} skipped; {} in {:.2} s",
            self.config.source.kind(),
            paths.show(self.config.source.path()),
            self.num_classes(),
            self.train.len(),
            self.val.len(),
            self.test.as_ref().map_or("none".into(), |t| t.len().to_string()),
            self.stats.mean,
            self.stats.std,
            self.skipped.len(),
            if self.from_cache { "from cache" } else { "decoded" },
            self.seconds,
        )
    }
}

fn list(cfg: &DataConfig) -> Result<(Option<Listing>, Vec<Stamp>), DataError> {
    match &cfg.source {
        Source::FashionMnist { dir } => {
            let mut stamps = Vec::new();
            for name in ["train-images-idx3-ubyte", "train-labels-idx1-ubyte", "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"] {
                stamps.push(stamp(&idx::find(dir, name)?)?);
            }
            Ok((None, stamps))
        }
        Source::ImageFolder { root } => with_stamps(listing::image_folder(root, cfg)?),
        Source::TinyImageNet { root, readable_names } => with_stamps(listing::tiny_imagenet(root, *readable_names, cfg)?),
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
        Err(e) if e.kind() == std::io::ErrorKind::NotFound || e.raw_os_error() == Some(libc::ENOTDIR) => return None,
        Err(e) => {
            eprintln!("warning: cache manifest {} unreadable ({e}); decoding again", manifest_path.display());
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
            let what = if size != m.tensors_size { format!("{size} bytes, the manifest says {}", m.tensors_size) } else { "its checksum does not match".into() };
            eprintln!("warning: cache {} is truncated or corrupted ({what}); decoding again", tensors_path.display());
            return None;
        }
        Err(e) => {
            eprintln!("warning: cache {} unreadable ({e}); decoding again", tensors_path.display());
            return None;
        }
    }
    if let Some(l) = listing {
        if l.classes != m.classes {
            return None;
        }
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
        from_cache: true,
        cache_path: tensors_path.to_path_buf(),
        seconds: 0.0,
    })
}

/// Bytes of `n` images of `channels`×`h`×`w`, or `None` past `u64`.
fn split_bytes(n: usize, channels: u8, (h, w): (u32, u32)) -> Option<u64> {
    (n as u64).checked_mul(channels as u64)?.checked_mul(h as u64)?.checked_mul(w as u64)
}

/// Check the splits' buffers against the memory budget before any is allocated.
/// Each split is built in one buffer and then copied into its tensor, so the peak
/// is every split plus the largest one again.
fn check_memory(cfg: &DataConfig, counts: &[(&str, usize)], channels: u8, hw: (u32, u32)) -> Result<(), DataError> {
    let sizes: Vec<Option<u64>> = counts.iter().map(|&(_, n)| split_bytes(n, channels, hw)).collect();
    let need = sizes.iter().try_fold(0u64, |acc, s| acc.checked_add((*s)?)).and_then(|t| t.checked_add(sizes.iter().flatten().copied().max()?));
    let (budget, whence) = match cfg.memory_budget {
        Some(b) => (b, "--memory-budget".to_string()),
        None => (default_memory_budget(), "half of the memory available now".to_string()),
    };
    if need.is_some_and(|n| n <= budget) {
        return Ok(());
    }
    let per_image = split_bytes(1, channels, hw).map_or("?".into(), human_bytes);
    let splits: Vec<String> = counts.iter().filter(|(_, n)| *n > 0).map(|(name, n)| format!("{name} {n}")).collect();
    let remedy = if cfg.image_size > 0 { "use a smaller --size" } else { "resize them with --size (e.g. --size 64)" };
    Err(DataError::Config(format!(
        "the decoded images need {} in memory ({} images of {channels}×{}×{} = {per_image} each), over the memory budget of {} ({whence}); \
         {remedy}, or raise --memory-budget",
        need.map_or("more than 18 EB".into(), human_bytes),
        splits.join(", "),
        hw.0,
        hw.1,
        human_bytes(budget),
    )))
}

/// An image that cannot be used: under `strict` the error naming it, else a warning and a `skipped` entry.
fn skip_file(path: PathBuf, reason: String, strict: bool, skipped: &mut Vec<Skipped>) -> Result<(), DataError> {
    if strict {
        return Err(DataError::BadImage { path, problem: reason });
    }
    eprintln!("warning: skipping {}: {reason}", path.display());
    skipped.push(Skipped { path, reason });
    Ok(())
}

/// Decode items in parallel into one `[N,C,H,W]` tensor; bad files are skipped (or fail under strict).
fn decode_items(items: Vec<Item>, hw: (u32, u32), channels: u8, cfg: &DataConfig, skipped: &mut Vec<Skipped>) -> Result<Split, DataError> {
    let chw = split_bytes(1, channels, hw).and_then(|b| usize::try_from(b).ok()).ok_or_else(|| DataError::Config(format!("images of {}×{} do not fit in memory", hw.0, hw.1)))?;
    let total = items.len().checked_mul(chw).ok_or_else(|| DataError::Config(format!("{} images of {chw} bytes do not fit in memory", items.len())))?;
    let limits = cfg.limits();
    let mut flat = vec![0u8; total];
    let results: Vec<Result<(), String>> = if chw == 0 {
        vec![]
    } else {
        items.par_iter().zip(flat.par_chunks_mut(chw)).map(|(item, out)| decode::decode_into(&item.path, hw, channels, &limits, out)).collect()
    };
    let mut keep = Vec::with_capacity(items.len());
    for (i, r) in results.into_iter().enumerate() {
        match r {
            Ok(()) => keep.push(i),
            Err(reason) => skip_file(items[i].path.clone(), reason, cfg.strict, skipped)?,
        }
    }
    if keep.len() < items.len() {
        let mut compact = Vec::with_capacity(keep.len() * chw);
        for &i in &keep {
            compact.extend_from_slice(&flat[i * chw..(i + 1) * chw]);
        }
        flat = compact;
    }
    let n = keep.len() as i64;
    let labels: Vec<i64> = keep.iter().map(|&i| items[i].label).collect();
    let files = keep.iter().map(|&i| items[i].rel.clone()).collect();
    Ok(Split {
        images: Tensor::from_slice(&flat).view([n, channels as i64, hw.0 as i64, hw.1 as i64]),
        labels: Tensor::from_slice(&labels),
        files,
    })
}

/// Without `--size`, every image must have one size: read each header (in parallel,
/// within the limits), skip the unreadable ones, and name one file of each size
/// when they differ.
fn common_size(l: &mut Listing, cfg: &DataConfig, skipped: &mut Vec<Skipped>) -> Result<(u32, u32), DataError> {
    let limits = cfg.limits();
    let mut sizes: BTreeMap<(u32, u32), (PathBuf, usize)> = BTreeMap::new();
    for split in [&mut l.train, &mut l.val].into_iter().chain(l.test.as_mut()) {
        let dims: Vec<Result<(u32, u32), String>> = split.par_iter().map(|i| decode::dimensions(&i.path, &limits)).collect();
        let mut kept = Vec::with_capacity(split.len());
        for (item, d) in std::mem::take(split).into_iter().zip(dims) {
            match d {
                Ok(hw) => {
                    sizes.entry(hw).or_insert_with(|| (item.path.clone(), 0)).1 += 1;
                    kept.push(item);
                }
                Err(reason) => skip_file(item.path, reason, cfg.strict, skipped)?,
            }
        }
        *split = kept;
    }
    match sizes.len() {
        0 => Err(DataError::Config(format!("no image could be read ({} skipped)", skipped.len()))),
        1 => Ok(*sizes.keys().next().unwrap()),
        n => {
            let mut by_count: Vec<(&(u32, u32), &(PathBuf, usize))> = sizes.iter().collect();
            by_count.sort_by(|a, b| b.1.1.cmp(&a.1.1));
            let shown: Vec<String> =
                by_count.iter().take(4).map(|((h, w), (p, count))| format!("{} is {w}×{h} ({count} image(s) of that size)", p.display())).collect();
            let more = if n > 4 { format!("; and {} more sizes", n - 4) } else { String::new() };
            Err(DataError::Config(format!(
                "the images have {n} different sizes: {}{more}; pass --size N to resize every image to N×N",
                shown.join("; ")
            )))
        }
    }
}

fn build_listing(cfg: &DataConfig, mut l: Listing) -> Result<Dataset, DataError> {
    if l.train.is_empty() {
        return Err(DataError::layout(
            match &cfg.source {
                Source::ImageFolder { root } | Source::TinyImageNet { root, .. } => root.join("train"),
                Source::FashionMnist { dir } => dir.clone(),
            },
            "no training images",
        ));
    }
    let mut skipped = std::mem::take(&mut l.skipped);
    // Target size: the configured one, else the one size every image has.
    let hw = if cfg.image_size > 0 { (cfg.image_size, cfg.image_size) } else { common_size(&mut l, cfg, &mut skipped)? };
    let channels = cfg.channels();
    let counts = [("train", l.train.len()), ("val", l.val.len()), ("test", l.test.as_ref().map_or(0, Vec::len))];
    check_memory(cfg, &counts, channels, hw)?;
    let train = decode_items(l.train, hw, channels, cfg, &mut skipped)?;
    let val = decode_items(l.val, hw, channels, cfg, &mut skipped)?;
    let test = l.test.map(|t| decode_items(t, hw, channels, cfg, &mut skipped)).transpose()?;
    if train.is_empty() {
        return Err(DataError::Config(format!("no training image could be decoded ({} skipped)", skipped.len())));
    }
    Ok(Dataset {
        config: cfg.clone(),
        classes: l.classes,
        stats: norm_stats(&train.images),
        train,
        val,
        test,
        skipped,
        from_cache: false,
        cache_path: PathBuf::new(),
        seconds: 0.0,
    })
}

/// Resize a uint8 `[N,1,H,W]` batch to `size`² (bilinear, antialiased) and to `channels`.
pub(crate) fn resize_u8(images: &Tensor, size: u32, channels: u8) -> Tensor {
    let s = images.size();
    let mut out = images.shallow_clone();
    if size > 0 && (s[2] != size as i64 || s[3] != size as i64) {
        out = out
            .to_kind(Kind::Float)
            .internal_upsample_bilinear2d_aa([size as i64, size as i64], false, None, None)
            .round()
            .clamp(0.0, 255.0)
            .to_kind(Kind::Uint8);
    }
    if channels == 3 && s[1] == 1 {
        out = out.repeat([1, 3, 1, 1]);
    }
    out.contiguous()
}

/// Per-channel mean and std over a uint8 `[N,C,H,W]` tensor, in [0,1] units (chunked, f64 sums).
pub(crate) fn norm_stats(images: &Tensor) -> NormStats {
    let c = images.size()[1];
    let n = images.size()[0];
    let mut sum = Tensor::zeros([c], (Kind::Double, Device::Cpu));
    let mut sq = Tensor::zeros([c], (Kind::Double, Device::Cpu));
    let chunk = 2048;
    let mut start = 0;
    while start < n {
        let len = chunk.min(n - start);
        let x = images.narrow(0, start, len).to_kind(Kind::Double) / 255.0;
        sum += x.sum_dim_intlist([0, 2, 3].as_slice(), false, Kind::Double);
        sq += (&x * &x).sum_dim_intlist([0, 2, 3].as_slice(), false, Kind::Double);
        start += len;
    }
    let count = (n * images.size()[2] * images.size()[3]).max(1) as f64;
    let mean = &sum / count;
    let var = (&sq / count - &mean * &mean).clamp_min(0.0);
    let std = var.sqrt().clamp_min(1e-6);
    NormStats { mean: Vec::<f64>::try_from(&mean).unwrap(), std: Vec::<f64>::try_from(&std).unwrap() }
}
