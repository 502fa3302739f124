//! Which files make up each split: ImageFolder and Tiny ImageNet layouts.
//!
//! Trees from the wild hold more than images: every entry is looked at once,
//! following symbolic links, and only regular files with an image extension are
//! listed. A FIFO, socket or device named like an image, a dangling symbolic
//! link, a link loop or a directory reached a second time is skipped and named
//! (an error under `strict`), never opened and never walked twice.
use super::layout::{Layout, TestSplit, ValSource};
use super::{DataConfig, DataError, Holdout};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::ffi::{OsStr, OsString};
use std::fs;
use std::os::unix::ffi::{OsStrExt, OsStringExt};
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

/// Extensions read as images (torchvision's `IMG_EXTENSIONS`, plus `gif`).
pub(crate) const IMAGE_EXTENSIONS: [&str; 10] =
    ["jpg", "jpeg", "png", "ppm", "pgm", "bmp", "tif", "tiff", "webp", "gif"];

/// A file left out of the dataset, and why.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Skipped {
    /// Stored with [`escape_name`], so that any path (tabs, newlines, bytes that are not UTF-8)
    /// round-trips.
    #[serde(with = "escaped_path")]
    pub path: PathBuf,
    pub reason: String,
}

/// A file or folder name as convlab writes it (`test.txt`, file lists, class names):
/// `\\` for a backslash, `\t`, `\n` and `\r` for those characters, `\xNN` for
/// each byte that is not part of valid UTF-8, every other character as it is.
/// Each line of `test.txt` stays `<file>\t<class>`, and [`unescape_name`] maps every
/// name back to exactly one file.
pub fn escape_name(raw: &OsStr) -> String {
    let mut out = String::new();
    for chunk in raw.as_bytes().utf8_chunks() {
        for c in chunk.valid().chars() {
            match c {
                '\\' => out.push_str("\\\\"),
                '\t' => out.push_str("\\t"),
                '\n' => out.push_str("\\n"),
                '\r' => out.push_str("\\r"),
                c => out.push(c),
            }
        }
        for b in chunk.invalid() {
            out.push_str(&format!("\\x{b:02x}"));
        }
    }
    out
}

/// The name [`escape_name`] escaped; `None` for a string it cannot have written.
pub fn unescape_name(name: &str) -> Option<OsString> {
    let mut out = Vec::with_capacity(name.len());
    let mut chars = name.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            let mut buf = [0u8; 4];
            out.extend_from_slice(c.encode_utf8(&mut buf).as_bytes());
            continue;
        }
        match chars.next()? {
            '\\' => out.push(b'\\'),
            't' => out.push(b'\t'),
            'n' => out.push(b'\n'),
            'r' => out.push(b'\r'),
            'x' => {
                let hex: String = [chars.next()?, chars.next()?].iter().collect();
                out.push(u8::from_str_radix(&hex, 16).ok()?);
            }
            _ => return None,
        }
    }
    Some(OsString::from_vec(out))
}

mod escaped_path {
    use serde::{Deserialize, Deserializer, Serializer};
    use std::path::PathBuf;

    #[allow(clippy::ptr_arg)] // serde's `serialize_with` passes the field as it is: `&PathBuf`.
    pub fn serialize<S: Serializer>(p: &PathBuf, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&super::escape_name(p.as_os_str()))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<PathBuf, D::Error> {
        let s = String::deserialize(d)?;
        super::unescape_name(&s)
            .map(PathBuf::from)
            .ok_or_else(|| serde::de::Error::custom(format!("`{s}` is not an escaped path")))
    }
}

/// One image: where it is, its name relative to the split, its label (−1: unlabelled).
#[derive(Debug, Clone)]
pub(crate) struct Item {
    pub path: PathBuf,
    pub rel: String,
    pub label: i64,
}

#[derive(Debug, Default)]
pub(crate) struct Listing {
    pub classes: Vec<String>,
    /// What the source was recognised as.
    pub layout: Layout,
    pub train: Vec<Item>,
    pub val: Vec<Item>,
    pub test: Option<Vec<Item>>,
    pub skipped: Vec<Skipped>,
    /// Directories walked so far, by (device, inode), with the path they were first reached by.
    visited: HashMap<(u64, u64), PathBuf>,
}

/// One directory entry, following symbolic links.
enum Entry {
    Dir(fs::Metadata),
    File,
    /// Not listed, and why.
    Skip(String),
}

fn classify(p: &Path) -> Entry {
    match fs::metadata(p) {
        Ok(m) if m.is_dir() => Entry::Dir(m),
        Ok(m) if m.is_file() => Entry::File,
        Ok(m) => {
            Entry::Skip(format!("{}, not an image file", super::decode::kind_of(&m.file_type())))
        }
        Err(e) => match fs::symlink_metadata(p) {
            Ok(l) if l.file_type().is_symlink() && e.kind() == std::io::ErrorKind::NotFound => {
                let target = fs::read_link(p)
                    .map(|t| t.display().to_string())
                    .unwrap_or_else(|_| "?".into());
                Entry::Skip(format!("dangling symbolic link (its target {target} does not exist)"))
            }
            Ok(l) if l.file_type().is_symlink() && e.raw_os_error() == Some(libc::ELOOP) => {
                Entry::Skip("symbolic link loop".into())
            }
            _ => Entry::Skip(format!("cannot read: {e}")),
        },
    }
}

impl Listing {
    /// A file or folder left out: a warning, or under `strict` the error naming it.
    fn skip(&mut self, path: PathBuf, reason: String, strict: bool) -> Result<(), DataError> {
        if strict {
            return Err(DataError::BadImage { path, problem: reason });
        }
        self.skipped.push(Skipped { path, reason });
        Ok(())
    }

    /// Register a split or class folder as its own, before any walk can reach it through a link.
    fn register(&mut self, dir: &Path) {
        if let Ok(meta) = fs::metadata(dir) {
            self.visited.entry((meta.dev(), meta.ino())).or_insert_with(|| dir.to_path_buf());
        }
    }

    /// Mark a directory walked; `Some(first path)` when it was walked already.
    fn first_visit(&mut self, dir: &Path, meta: &fs::Metadata) -> Option<PathBuf> {
        match self.visited.entry((meta.dev(), meta.ino())) {
            std::collections::hash_map::Entry::Occupied(e) => Some(e.get().clone()),
            std::collections::hash_map::Entry::Vacant(v) => {
                v.insert(dir.to_path_buf());
                None
            }
        }
    }
}

fn is_hidden(p: &Path) -> bool {
    p.file_name().and_then(|n| n.to_str()).is_some_and(|n| n.starts_with('.'))
}

fn read_dir_sorted(dir: &Path) -> Result<Vec<PathBuf>, DataError> {
    let rd = fs::read_dir(dir).map_err(|e| DataError::io(dir, e))?;
    let mut out = Vec::new();
    for entry in rd {
        let entry = entry.map_err(|e| DataError::io(dir, e))?;
        let p = entry.path();
        if !is_hidden(&p) {
            out.push(p);
        }
    }
    out.sort();
    Ok(out)
}

fn subdirs(dir: &Path) -> Result<Vec<PathBuf>, DataError> {
    Ok(read_dir_sorted(dir)?.into_iter().filter(|p| p.is_dir()).collect())
}

fn name_of(p: &Path) -> String {
    p.file_name().map(escape_name).unwrap_or_default()
}

fn has_image_extension(p: &Path) -> bool {
    p.extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| IMAGE_EXTENSIONS.contains(&e.to_ascii_lowercase().as_str()))
}

/// Image files under `dir` (recursively, sorted); other entries are skipped with a
/// reason, and a directory already walked (or registered as a split or class
/// folder) is not walked again.
fn image_files(dir: &Path, l: &mut Listing, strict: bool) -> Result<Vec<PathBuf>, DataError> {
    l.register(dir);
    let entries = match read_dir_sorted(dir) {
        Ok(entries) => entries,
        // One unreadable folder among many is skipped like an unreadable file.
        Err(DataError::Io { path, error }) if !strict => {
            l.skipped.push(Skipped { path, reason: format!("cannot list: {error}") });
            return Ok(vec![]);
        }
        Err(e) => return Err(e),
    };
    let mut out = Vec::new();
    for p in entries {
        match classify(&p) {
            Entry::Dir(meta) => match l.first_visit(&p, &meta) {
                Some(first) => {
                    let reason = format!(
                        "directory already listed as {} (a symbolic link loop, or a second link \
                            to it): not listed again",
                        first.display()
                    );
                    if strict {
                        return Err(DataError::layout(&p, reason));
                    }
                    l.skipped.push(Skipped { path: p, reason });
                }
                None => out.extend(image_files(&p, l, strict)?),
            },
            Entry::File if has_image_extension(&p) => out.push(p),
            Entry::File => l.skip(
                p,
                format!("not an image file (expected one of: {})", IMAGE_EXTENSIONS.join(", ")),
                strict,
            )?,
            Entry::Skip(reason) => l.skip(p, reason, strict)?,
        }
    }
    Ok(out)
}

/// The name of `path` relative to `base`, escaped ([`escape_name`]).
fn rel(path: &Path, base: &Path) -> String {
    escape_name(path.strip_prefix(base).unwrap_or(path).as_os_str())
}

/// The image files of one class folder; an empty folder is a warning (or an error when strict).
fn class_files(dir: &Path, l: &mut Listing, strict: bool) -> Result<Vec<PathBuf>, DataError> {
    let files = image_files(dir, l, strict)?;
    if files.is_empty() {
        let reason = "empty class folder: no image files".to_string();
        if strict {
            return Err(DataError::layout(dir, reason));
        }
        l.skipped.push(Skipped { path: dir.to_path_buf(), reason });
    }
    Ok(files)
}

/// Items of one class folder, at most `limit`; an empty folder is a warning (or an error when
/// strict).
fn class_items(
    dir: &Path,
    split_dir: &Path,
    label: i64,
    limit: Option<usize>,
    l: &mut Listing,
    strict: bool,
) -> Result<Vec<Item>, DataError> {
    let files = class_files(dir, l, strict)?;
    let n = limit.unwrap_or(usize::MAX);
    Ok(files
        .into_iter()
        .take(n)
        .map(|p| Item { rel: rel(&p, split_dir), path: p, label })
        .collect())
}

fn require_split(root: &Path, split: &str, hint: &str) -> Result<PathBuf, DataError> {
    let dir = root.join(split);
    if !dir.is_dir() {
        return Err(DataError::layout(&dir, format!("missing split `{split}`: expected {hint}")));
    }
    Ok(dir)
}

fn require_root(root: &Path) -> Result<(), DataError> {
    match fs::metadata(root) {
        Ok(m) if m.is_dir() => Ok(()),
        Ok(_) => Err(DataError::layout(root, "not a directory")),
        Err(e) => Err(DataError::io(root, e)),
    }
}

/// The classes `cfg` keeps of `all` (the source's classes, in its order): those `class_list`
/// names (each must be one of them), then the first `classes`; as indices into `all`, in order.
pub(crate) fn select_classes(
    all: &[String],
    cfg: &DataConfig,
    whence: &Path,
) -> Result<Vec<usize>, DataError> {
    let mut keep: Vec<usize> = match &cfg.class_list {
        None => (0..all.len()).collect(),
        Some(list) => {
            let index: BTreeMap<&str, usize> =
                all.iter().enumerate().map(|(i, c)| (c.as_str(), i)).collect();
            let missing: Vec<&str> = list
                .iter()
                .filter(|c| !index.contains_key(c.as_str()))
                .map(String::as_str)
                .collect();
            if !missing.is_empty() {
                let shown: Vec<&str> = missing.iter().take(5).copied().collect();
                let more = if missing.len() > 5 {
                    format!(" and {} more", missing.len() - 5)
                } else {
                    String::new()
                };
                return Err(DataError::layout(
                    whence,
                    format!(
                        "the class list names {} class(es) the source does not have: {}{more}",
                        missing.len(),
                        shown.join(", ")
                    ),
                ));
            }
            let mut k: Vec<usize> = list.iter().map(|c| index[c.as_str()]).collect();
            k.sort_unstable();
            k
        }
    };
    keep.truncate(cfg.classes.unwrap_or(usize::MAX));
    Ok(keep)
}

/// A class's images split into (train, held-out validation) by `holdout`: the held-out ones
/// chosen by a permutation seeded with the holdout's seed and the class name, both in name order.
fn hold_out(files: Vec<PathBuf>, class: &str, holdout: &Holdout) -> (Vec<PathBuf>, Vec<PathBuf>) {
    let k = holdout.count(files.len());
    let mut held = vec![false; files.len()];
    let mut rng = super::Rng::derive(holdout.seed, &[crc32fast::hash(class.as_bytes()) as u64]);
    for i in rng.permutation(files.len()).into_iter().take(k) {
        held[i as usize] = true;
    }
    let (mut train, mut val) = (Vec::new(), Vec::new());
    for (f, h) in files.into_iter().zip(held) {
        if h { val.push(f) } else { train.push(f) }
    }
    (train, val)
}

/// A class folder's images as items, at most `limit`; an empty folder is a warning (or an
/// error when strict). With a hold-out, the held-out share of them is returned second.
fn train_items(
    dir: &Path,
    split_dir: &Path,
    class: &str,
    label: i64,
    cfg: &DataConfig,
    l: &mut Listing,
) -> Result<(Vec<Item>, Vec<Item>), DataError> {
    let files = class_files(dir, l, cfg.strict)?;
    let (train, val) = match &cfg.holdout {
        Some(h) => hold_out(files, class, h),
        None => (files, vec![]),
    };
    let items = |files: Vec<PathBuf>, limit: Option<usize>| -> Vec<Item> {
        files
            .into_iter()
            .take(limit.unwrap_or(usize::MAX))
            .map(|p| Item { rel: rel(&p, split_dir), path: p, label })
            .collect()
    };
    Ok((items(train, cfg.train_per_class), items(val, cfg.val_per_class)))
}

/// `root/train/<class>/*`, `root/val/<class>/*` (or a hold-out of train), `root/test/[<class>/]*`.
pub(crate) fn image_folder(root: &Path, cfg: &DataConfig) -> Result<Listing, DataError> {
    require_root(root)?;
    let train_dir = require_split(root, "train", "train/<class>/<image>")?;
    let all_classes: Vec<String> = subdirs(&train_dir)?.iter().map(|p| name_of(p)).collect();
    if all_classes.is_empty() {
        return Err(DataError::layout(
            &train_dir,
            "no class folders (expected train/<class>/<image>)",
        ));
    }
    let keep = select_classes(&all_classes, cfg, &train_dir)?;
    let classes: Vec<String> = keep.iter().map(|&i| all_classes[i].clone()).collect();
    let label_of: BTreeMap<&String, i64> =
        classes.iter().enumerate().map(|(i, c)| (c, i as i64)).collect();
    let val_source = match &cfg.holdout {
        Some(h) => ValSource::HeldOut { fraction: h.fraction, seed: h.seed },
        None => ValSource::Folders,
    };
    let layout = Layout {
        name: "ImageFolder".into(),
        source_classes: all_classes.len(),
        val: val_source,
        test: TestSplit::Absent,
    };
    let mut l = Listing { classes: classes.clone(), layout, ..Default::default() };
    // Every split and class folder belongs where it is: a link to one from elsewhere is not walked.
    for dir in [root.to_path_buf(), train_dir.clone(), root.join("val"), root.join("test")] {
        l.register(&dir);
    }
    for split in ["train", "val", "test"] {
        for class in &all_classes {
            l.register(&root.join(split).join(class));
        }
    }

    let val_dir = match cfg.holdout {
        Some(_) => None,
        None => Some(require_split(
            root,
            "val",
            "val/<class>/<image> with the class folders of train, or a hold-out of train \
                (--holdout 0.1)",
        )?),
    };
    if let Some(val_dir) = &val_dir {
        let val_classes: BTreeSet<String> = subdirs(val_dir)?.iter().map(|p| name_of(p)).collect();
        let known: BTreeSet<&String> = all_classes.iter().collect();
        let unknown: Vec<&String> = val_classes.iter().filter(|c| !known.contains(c)).collect();
        if !unknown.is_empty() {
            let names: Vec<&str> = unknown.iter().map(|s| s.as_str()).collect();
            return Err(DataError::layout(
                val_dir,
                format!("classes not in train: {}", names.join(", ")),
            ));
        }
        if val_classes.is_empty() {
            return Err(DataError::layout(
                val_dir,
                "no class folders (expected val/<class>/<image>)",
            ));
        }
    }
    for (label, class) in classes.iter().enumerate() {
        let (train, held) =
            train_items(&train_dir.join(class), &train_dir, class, label as i64, cfg, &mut l)?;
        l.train.extend(train);
        l.val.extend(held);
        if let Some(val_dir) = &val_dir {
            let vdir = val_dir.join(class);
            if vdir.is_dir() {
                let items = class_items(
                    &vdir,
                    val_dir,
                    label as i64,
                    cfg.val_per_class,
                    &mut l,
                    cfg.strict,
                )?;
                l.val.extend(items);
            }
        }
    }

    let test_dir = root.join("test");
    if test_dir.is_dir() {
        let dirs = subdirs(&test_dir)?;
        let mut test = Vec::new();
        if dirs.is_empty() {
            // Flat: unlabelled images.
            l.layout.test = TestSplit::Unlabelled;
            for p in image_files(&test_dir, &mut l, cfg.strict)? {
                test.push(Item { rel: rel(&p, &test_dir), path: p, label: -1 });
            }
        } else {
            l.layout.test = TestSplit::Labelled;
            let known: BTreeSet<&String> = all_classes.iter().collect();
            for d in dirs {
                let class = name_of(&d);
                if !known.contains(&class) {
                    return Err(DataError::layout(
                        &d,
                        format!("test class `{class}` is not in train"),
                    ));
                }
                if let Some(&label) = label_of.get(&class) {
                    test.extend(class_items(&d, &test_dir, label, None, &mut l, cfg.strict)?);
                }
            }
        }
        test.truncate(cfg.test_limit.unwrap_or(usize::MAX));
        l.test = Some(test);
    }
    Ok(l)
}

fn read_text(path: &Path) -> Result<String, DataError> {
    fs::read_to_string(path).map_err(|e| DataError::io(path, e))
}

/// Tiny ImageNet's class names from `words.txt` (the first name of each id; a repeated name
/// gets its id appended, so names stay unique).
fn readable_names(root: &Path, wnids: &[String]) -> Result<Vec<String>, DataError> {
    let words_path = root.join("words.txt");
    let words: BTreeMap<String, String> = read_text(&words_path)?
        .lines()
        .filter_map(|line| line.split_once('\t'))
        .map(|(w, names)| {
            (w.trim().to_string(), names.split(',').next().unwrap_or("").trim().to_string())
        })
        .collect();
    let mut seen = BTreeSet::new();
    let mut out = Vec::new();
    for w in wnids {
        let Some(name) = words.get(w).filter(|n| !n.is_empty()) else {
            return Err(DataError::layout(&words_path, format!("no name for class `{w}`")));
        };
        out.push(if seen.insert(name.clone()) { name.clone() } else { format!("{name} ({w})") });
    }
    Ok(out)
}

/// Tiny ImageNet's validation split: `val/images/` labelled by `val/val_annotations.txt`
/// (`<file>\t<wnid>\t…`), at most `val_per_class` per class, sorted by file name.
fn tiny_imagenet_val(
    root: &Path,
    index: &BTreeMap<String, usize>,
    all: &BTreeMap<String, usize>,
    classes: usize,
    cfg: &DataConfig,
    l: &mut Listing,
) -> Result<Vec<Item>, DataError> {
    let val_dir = require_split(root, "val", "val/images/ and val/val_annotations.txt")?;
    let ann_path = val_dir.join("val_annotations.txt");
    let mut per_class = vec![0usize; classes];
    let mut val = Vec::new();
    for (n, line) in read_text(&ann_path)?.lines().enumerate() {
        let mut fields = line.split('\t');
        let (Some(file), Some(wnid)) = (fields.next(), fields.next()) else {
            if line.trim().is_empty() {
                continue;
            }
            return Err(DataError::layout(
                &ann_path,
                format!("line {}: expected `<file>\\t<wnid>\\t…`", n + 1),
            ));
        };
        let Some(&label) = index.get(wnid) else {
            if !all.contains_key(wnid) {
                return Err(DataError::layout(
                    &ann_path,
                    format!("line {}: class `{wnid}` is not in wnids.txt", n + 1),
                ));
            }
            continue; // a class left out by `classes` or `class_list`
        };
        if per_class[label] >= cfg.val_per_class.unwrap_or(usize::MAX) {
            continue;
        }
        let path = val_dir.join("images").join(file);
        if !path.is_file() {
            let reason = format!("listed in {} line {} but missing", ann_path.display(), n + 1);
            if cfg.strict {
                return Err(DataError::layout(&path, reason));
            }
            l.skipped.push(Skipped { path, reason });
            continue;
        }
        per_class[label] += 1;
        val.push(Item { rel: rel(&path, &val_dir), path, label: label as i64 });
    }
    val.sort_by(|a, b| a.rel.cmp(&b.rel));
    Ok(val)
}

/// Tiny ImageNet as published (Stanford CS231n): classes are the sorted WordNet ids of
/// `wnids.txt` (so `classes = 100` keeps the first 100 sorted ids); validation from
/// `val_annotations.txt`, or a hold-out of `train/` when the config asks for one.
pub(crate) fn tiny_imagenet(
    root: &Path,
    readable_names: bool,
    cfg: &DataConfig,
) -> Result<Listing, DataError> {
    require_root(root)?;
    let wnids_path = root.join("wnids.txt");
    let mut all: Vec<String> = read_text(&wnids_path)?
        .lines()
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(String::from)
        .collect();
    if all.is_empty() {
        return Err(DataError::layout(&wnids_path, "no class ids"));
    }
    all.sort();
    let wnids: Vec<String> =
        select_classes(&all, cfg, &wnids_path)?.into_iter().map(|i| all[i].clone()).collect();
    let index: BTreeMap<String, usize> =
        wnids.iter().enumerate().map(|(i, w)| (w.clone(), i)).collect();

    let classes = if readable_names { self::readable_names(root, &wnids)? } else { wnids.clone() };
    let val = match &cfg.holdout {
        Some(h) => ValSource::HeldOut { fraction: h.fraction, seed: h.seed },
        None => ValSource::Annotations,
    };
    let layout = Layout {
        name: "Tiny ImageNet".into(),
        source_classes: all.len(),
        val,
        test: TestSplit::Absent,
    };
    let mut l = Listing { classes, layout, ..Default::default() };

    let train_dir = require_split(root, "train", "train/<wnid>/images/<image>")?;
    for dir in [root.to_path_buf(), train_dir.clone(), root.join("val"), root.join("test")] {
        l.register(&dir);
    }
    for w in &wnids {
        l.register(&train_dir.join(w).join("images"));
    }
    for (label, w) in wnids.iter().enumerate() {
        let dir = train_dir.join(w).join("images");
        if !dir.is_dir() {
            return Err(DataError::layout(&dir, format!("missing training images of class `{w}`")));
        }
        let (train, held) = train_items(&dir, &train_dir, w, label as i64, cfg, &mut l)?;
        l.train.extend(train);
        l.val.extend(held);
    }

    if cfg.holdout.is_none() {
        // Every class of the source, so that a class left out by the config is known, not unknown.
        let all_index: BTreeMap<String, usize> =
            all.iter().enumerate().map(|(i, w)| (w.clone(), i)).collect();
        l.val = tiny_imagenet_val(root, &index, &all_index, wnids.len(), cfg, &mut l)?;
    }

    let test_dir = root.join("test").join("images");
    if test_dir.is_dir() {
        l.layout.test = TestSplit::Unlabelled;
        let mut test: Vec<Item> = image_files(&test_dir, &mut l, cfg.strict)?
            .into_iter()
            .map(|p| Item { rel: rel(&p, &root.join("test")), path: p, label: -1 })
            .collect();
        test.truncate(cfg.test_limit.unwrap_or(usize::MAX));
        l.test = Some(test);
    }
    Ok(l)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_byte_round_trips_through_escaping() {
        for b in 0..=255u8 {
            let bytes = [b'a', b, b'z'];
            let raw = OsStr::from_bytes(&bytes);
            let escaped = escape_name(raw);
            assert!(!escaped.contains(['\t', '\n', '\r']), "{escaped:?}");
            assert_eq!(
                unescape_name(&escaped).as_deref(),
                Some(raw),
                "byte {b:#04x} → {escaped:?}"
            );
        }
        assert_eq!(escape_name(OsStr::new("ünï\tcode/\\")), "ünï\\tcode/\\\\");
        for bad in ["a\\", "\\q", "\\x1", "\\xzz"] {
            assert_eq!(unescape_name(bad), None, "{bad:?}");
        }
    }
}
