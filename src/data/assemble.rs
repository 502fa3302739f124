//! A listing decoded into a [`Dataset`]: one size for every image, the memory budget,
//! parallel decoding with bad files skipped (or refused under `strict`).
use super::dataset::{Dataset, Split};
use super::images::norm_stats;
use super::listing::{Item, Listing, Skipped};
use super::{DataConfig, DataError, Source, decode};
use rayon::prelude::*;
use std::collections::BTreeMap;
use std::path::PathBuf;
use tch::Tensor;

/// Half the memory the kernel reports available (`MemAvailable`), else half of physical memory.
fn default_memory_budget() -> u64 {
    let available = std::fs::read_to_string("/proc/meminfo").ok().and_then(|m| {
        let line = m.lines().find(|l| l.starts_with("MemAvailable:"))?;
        line.split_whitespace().nth(1)?.parse::<u64>().ok().map(|kb| kb * 1024)
    });
    // SAFETY: sysconf only reads system configuration values.
    let physical = || unsafe {
        (libc::sysconf(libc::_SC_PHYS_PAGES) as u64)
            .saturating_mul(libc::sysconf(libc::_SC_PAGESIZE) as u64)
    };
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

/// Bytes of `n` images of `channels`×`h`×`w`, or `None` past `u64`.
fn split_bytes(n: usize, channels: u8, (h, w): (u32, u32)) -> Option<u64> {
    (n as u64).checked_mul(channels as u64)?.checked_mul(h as u64)?.checked_mul(w as u64)
}

/// Check the splits' buffers against the memory budget before any is allocated.
/// Each split is built in one buffer and then copied into its tensor, so the peak
/// is every split plus the largest one again.
fn check_memory(
    cfg: &DataConfig,
    counts: &[(&str, usize)],
    channels: u8,
    hw: (u32, u32),
) -> Result<(), DataError> {
    let sizes: Vec<Option<u64>> =
        counts.iter().map(|&(_, n)| split_bytes(n, channels, hw)).collect();
    let need = sizes
        .iter()
        .try_fold(0u64, |acc, s| acc.checked_add((*s)?))
        .and_then(|t| t.checked_add(sizes.iter().flatten().copied().max()?));
    let (budget, whence) = match cfg.memory_budget {
        Some(b) => (b, "--memory-budget".to_string()),
        None => (default_memory_budget(), "half of the memory available now".to_string()),
    };
    if need.is_some_and(|n| n <= budget) {
        return Ok(());
    }
    let per_image = split_bytes(1, channels, hw).map_or("?".into(), human_bytes);
    let splits: Vec<String> =
        counts.iter().filter(|(_, n)| *n > 0).map(|(name, n)| format!("{name} {n}")).collect();
    let remedy = if cfg.image_size > 0 {
        "use a smaller --size"
    } else {
        "resize them with --size (e.g. --size 64)"
    };
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

/// An image that cannot be used: under `strict` the error naming it, else a warning and a `skipped`
/// entry.
fn skip_file(
    path: PathBuf,
    reason: String,
    strict: bool,
    skipped: &mut Vec<Skipped>,
) -> Result<(), DataError> {
    if strict {
        return Err(DataError::BadImage { path, problem: reason });
    }
    eprintln!("warning: skipping {}: {reason}", path.display());
    skipped.push(Skipped { path, reason });
    Ok(())
}

/// Decode items in parallel into one `[N,C,H,W]` tensor; bad files are skipped (or fail under
/// strict).
fn decode_items(
    items: Vec<Item>,
    hw: (u32, u32),
    channels: u8,
    cfg: &DataConfig,
    skipped: &mut Vec<Skipped>,
) -> Result<Split, DataError> {
    let chw =
        split_bytes(1, channels, hw).and_then(|b| usize::try_from(b).ok()).ok_or_else(|| {
            DataError::Config(format!("images of {}×{} do not fit in memory", hw.0, hw.1))
        })?;
    let total = items.len().checked_mul(chw).ok_or_else(|| {
        DataError::Config(format!("{} images of {chw} bytes do not fit in memory", items.len()))
    })?;
    let limits = cfg.limits();
    let mut flat = vec![0u8; total];
    let results: Vec<Result<(), String>> = if chw == 0 {
        vec![]
    } else {
        items
            .par_iter()
            .zip(flat.par_chunks_mut(chw))
            .map(|(item, out)| decode::decode_into(&item.path, hw, channels, &limits, out))
            .collect()
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
fn common_size(
    l: &mut Listing,
    cfg: &DataConfig,
    skipped: &mut Vec<Skipped>,
) -> Result<(u32, u32), DataError> {
    let limits = cfg.limits();
    let mut sizes: BTreeMap<(u32, u32), (PathBuf, usize)> = BTreeMap::new();
    for split in [&mut l.train, &mut l.val].into_iter().chain(l.test.as_mut()) {
        let dims: Vec<Result<(u32, u32), String>> =
            split.par_iter().map(|i| decode::dimensions(&i.path, &limits)).collect();
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
            let mut by_count: Vec<_> = sizes.iter().collect();
            by_count.sort_by_key(|(_, (_, count))| std::cmp::Reverse(*count));
            let shown: Vec<String> = by_count
                .iter()
                .take(4)
                .map(|((h, w), (p, count))| {
                    format!("{} is {w}×{h} ({count} image(s) of that size)", p.display())
                })
                .collect();
            let more = if n > 4 { format!("; and {} more sizes", n - 4) } else { String::new() };
            Err(DataError::Config(format!(
                "the images have {n} different sizes: {}{more}; pass --size N to resize every \
                    image to N×N (a study: --size N, CONVLAB_SIZE=N or size = N in convlab.toml)",
                shown.join("; ")
            )))
        }
    }
}

/// Decode a listing's splits into tensors, with the training split's statistics.
pub(super) fn build_listing(cfg: &DataConfig, mut l: Listing) -> Result<Dataset, DataError> {
    if l.train.is_empty() {
        return Err(DataError::layout(
            match &cfg.source {
                Source::ImageFolder { root } | Source::TinyImageNet { root, .. } => {
                    root.join("train")
                }
                Source::FashionMnist { dir } => dir.clone(),
            },
            "no training images",
        ));
    }
    let mut skipped = std::mem::take(&mut l.skipped);
    // Target size: the configured one, else the one size every image has.
    let hw = if cfg.image_size > 0 {
        (cfg.image_size, cfg.image_size)
    } else {
        common_size(&mut l, cfg, &mut skipped)?
    };
    let channels = cfg.channels();
    let counts = [
        ("train", l.train.len()),
        ("val", l.val.len()),
        ("test", l.test.as_ref().map_or(0, Vec::len)),
    ];
    check_memory(cfg, &counts, channels, hw)?;
    let train = decode_items(l.train, hw, channels, cfg, &mut skipped)?;
    let val = decode_items(l.val, hw, channels, cfg, &mut skipped)?;
    let test = l.test.map(|t| decode_items(t, hw, channels, cfg, &mut skipped)).transpose()?;
    if train.is_empty() {
        return Err(DataError::Config(format!(
            "no training image could be decoded ({} skipped)",
            skipped.len()
        )));
    }
    Ok(Dataset {
        config: cfg.clone(),
        classes: l.classes,
        stats: norm_stats(&train.images),
        train,
        val,
        test,
        skipped,
        layout: l.layout,
        from_cache: false,
        cache_path: PathBuf::new(),
        seconds: 0.0,
    })
}
