//! Image folders as they come from the wild: every test builds its hostile files
//! itself and asserts the outcome — a named warning and skip, or a named error —
//! never a hang, a panic or an abort. The command-line cases run `convlab` as a
//! subprocess with a timeout and require an exit status, not a signal.
mod common;
use convlab::data::{
    DataConfig, DataError, Dataset, SynthConfig, escape_name, synthetic, unescape_name,
};
use image::{ImageFormat, RgbImage};
use std::ffi::OsStr;
use std::fs;
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use common::image_folder as cfg;

/// A 2-class tree of 12×12 images, 4 train and 2 val per class.
fn tree(root: &Path) {
    let s = SynthConfig {
        classes: 2,
        train_per_class: 4,
        val_per_class: 2,
        test: 0,
        size: 12,
        seed: 3,
        mixed_formats: true,
        ..Default::default()
    };
    synthetic::write_image_folder(root, &s).unwrap();
}

fn encoded(format: ImageFormat, w: u32, h: u32) -> Vec<u8> {
    let img = RgbImage::from_fn(w, h, |x, y| {
        image::Rgb([(x * 17 % 256) as u8, (y * 29 % 256) as u8, ((x * y) % 256) as u8])
    });
    let mut out = std::io::Cursor::new(Vec::new());
    img.write_to(&mut out, format).unwrap();
    out.into_inner()
}

/// Load on another thread: a hang (a FIFO opened for reading) fails the test instead of blocking
/// it.
#[allow(clippy::result_large_err)] // the library's own error type, returned as the library returns it
fn load_within(c: &DataConfig, secs: u64) -> Result<Dataset, DataError> {
    let c = c.clone();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || tx.send(Dataset::load(&c)));
    rx.recv_timeout(Duration::from_secs(secs))
        .unwrap_or_else(|_| panic!("Dataset::load did not return within {secs} s"))
}

fn reason_of<'a>(ds: &'a Dataset, path: &Path) -> &'a str {
    ds.skipped
        .iter()
        .find(|s| s.path == path)
        .map(|s| s.reason.as_str())
        .unwrap_or_else(|| panic!("{} not skipped; skipped: {:?}", path.display(), ds.skipped))
}

/// The `convlab` binary with a timeout: the exit status, never a signal or a hang.
fn convlab(args: &[&str], secs: u64) -> (i32, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_convlab"))
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let t0 = Instant::now();
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            let Output { stdout, stderr, .. } = child.wait_with_output().unwrap();
            let text =
                format!("{}{}", String::from_utf8_lossy(&stdout), String::from_utf8_lossy(&stderr));
            let code = status.code().unwrap_or_else(|| {
                panic!("convlab {args:?} ended by a signal ({status}):\n{text}")
            });
            assert!(!text.contains("panicked"), "convlab {args:?} panicked:\n{text}");
            return (code, text);
        }
        if t0.elapsed() > Duration::from_secs(secs) {
            let _ = child.kill();
            panic!("convlab {args:?} did not finish within {secs} s (a hang)");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn spec(root: &Path) -> String {
    format!("imagefolder:{}", root.display())
}

/// For each format, a file that ends early is skipped and named, following Pillow's
/// verdict (Pillow 13.0, `Image.open(f).load()` with default settings, measured on
/// the same cuts): JPEG cut mid-scan — refused; JPEG lacking only its end-of-image
/// marker — refused ("image file is truncated"); WebP two bytes short — refused;
/// PNG, GIF, TIFF, BMP, PNM cut to a third — refused. Pillow accepts a GIF missing its
/// trailer byte and a PNG missing the last bytes of its IEND chunk, and so does convlab.
#[test]
fn truncated_files_of_every_format_are_skipped_as_pillow_does() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().join("tree");
    tree(&root);
    let d = root.join("train/class00");
    let mut refused = Vec::new();
    for (format, ext) in [
        (ImageFormat::Jpeg, "jpg"),
        (ImageFormat::Png, "png"),
        (ImageFormat::WebP, "webp"),
        (ImageFormat::Gif, "gif"),
        (ImageFormat::Tiff, "tiff"),
        (ImageFormat::Bmp, "bmp"),
        (ImageFormat::Pnm, "ppm"),
    ] {
        let bytes = encoded(format, 12, 12);
        let p = d.join(format!("third.{ext}"));
        fs::write(&p, &bytes[..bytes.len() / 3]).unwrap();
        refused.push(p);
        if matches!(
            format,
            ImageFormat::Tiff | ImageFormat::Bmp | ImageFormat::Pnm | ImageFormat::WebP
        ) {
            let p = d.join(format!("minus2.{ext}"));
            fs::write(&p, &bytes[..bytes.len() - 2]).unwrap();
            refused.push(p);
        }
    }
    let jpeg = encoded(ImageFormat::Jpeg, 12, 12);
    assert_eq!(&jpeg[jpeg.len() - 2..], [0xFF, 0xD9]);
    let no_eoi = d.join("no-eoi.jpg");
    fs::write(&no_eoi, &jpeg[..jpeg.len() - 2]).unwrap();
    refused.push(no_eoi.clone());
    let accepted = [
        (d.join("gif-no-trailer.gif"), encoded(ImageFormat::Gif, 12, 12)),
        (d.join("png-iend-cut.png"), encoded(ImageFormat::Png, 12, 12)),
    ];
    for (p, bytes) in &accepted {
        fs::write(p, &bytes[..bytes.len() - if p.extension().unwrap() == "gif" { 1 } else { 2 }])
            .unwrap();
    }

    let c = DataConfig { image_size: 12, ..cfg(&root, &tmp.path().join("cache")) };
    let ds = load_within(&c, 60).unwrap();
    for p in &refused {
        assert!(
            reason_of(&ds, p).starts_with("truncated "),
            "{}: {}",
            p.display(),
            reason_of(&ds, p)
        );
    }
    assert!(reason_of(&ds, &no_eoi).contains("end-of-image marker"), "{}", reason_of(&ds, &no_eoi));
    for (p, _) in &accepted {
        assert!(
            !ds.skipped.iter().any(|s| &s.path == p),
            "{} is accepted by Pillow and must load: {:?}",
            p.display(),
            ds.skipped
        );
    }
    assert_eq!(ds.train.class_counts(2), [4 + 2, 4], "the good images and the two Pillow accepts");

    // Strictly, each refused file alone is an error naming it; and from the command line, exit
    // status 1.
    for p in &refused {
        let tmp2 = tempfile::tempdir().unwrap();
        let root2 = tmp2.path().join("tree");
        tree(&root2);
        let target = root2.join("train/class00").join(p.file_name().unwrap());
        fs::copy(p, &target).unwrap();
        let err = load_within(
            &DataConfig { strict: true, image_size: 12, ..cfg(&root2, &tmp2.path().join("c")) },
            60,
        )
        .unwrap_err()
        .to_string();
        assert!(err.contains(&target.display().to_string()) && err.contains("truncated"), "{err}");
    }
    let cache = tmp.path().join("cli-cache").display().to_string();
    let (code, out) = convlab(
        &["data", "prepare", "--data", &spec(&root), "--size", "12", "--cache", &cache],
        60,
    );
    assert_eq!(code, 0, "{out}");
    assert!(out.contains(&format!("skipped {}: truncated JPEG", no_eoi.display())), "{out}");
    let (code, out) = convlab(
        &["data", "prepare", "--data", &spec(&root), "--size", "12", "--strict", "--cache", &cache],
        60,
    );
    assert_eq!(code, 1, "{out}");
    assert!(out.starts_with("error: ") && out.contains("truncated"), "{out}");
}

/// A FIFO named like an image, a socket, a dangling link, a link loop, a directory
/// link back into the tree and a second link to a walked directory: each skipped
/// and named, nothing opened that could block, nothing walked twice.
#[test]
fn non_regular_files_and_links_are_skipped_and_named() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().join("tree");
    tree(&root);
    let d = root.join("train/class00");
    let fifo = d.join("pipe.png");
    let made = Command::new("mkfifo").arg(&fifo).status().unwrap();
    assert!(made.success(), "mkfifo");
    let socket = d.join("sock.jpg");
    let _listener = std::os::unix::net::UnixListener::bind(&socket).unwrap();
    let dangling = d.join("gone.png");
    std::os::unix::fs::symlink(tmp.path().join("nowhere.png"), &dangling).unwrap();
    let self_loop = d.join("self.png");
    std::os::unix::fs::symlink("self.png", &self_loop).unwrap();
    let up = d.join("up");
    std::os::unix::fs::symlink("..", &up).unwrap(); // train/class00/up → train/
    let twin = root.join("train/class01/twin");
    std::os::unix::fs::symlink(&d, &twin).unwrap(); // class00 reached a second time

    let c = DataConfig { image_size: 12, ..cfg(&root, &tmp.path().join("cache")) };
    let ds = load_within(&c, 30).unwrap();
    assert_eq!(reason_of(&ds, &fifo), "a FIFO (named pipe), not an image file");
    assert_eq!(reason_of(&ds, &socket), "a socket, not an image file");
    assert!(
        reason_of(&ds, &dangling).starts_with("dangling symbolic link")
            && reason_of(&ds, &dangling).contains("nowhere.png")
    );
    assert_eq!(reason_of(&ds, &self_loop), "symbolic link loop");
    let train = root.join("train");
    assert!(
        reason_of(&ds, &up).starts_with(&format!(
            "directory already listed as {} (a symbolic link loop",
            train.display()
        )),
        "{}",
        reason_of(&ds, &up)
    );
    assert!(
        reason_of(&ds, &twin).starts_with(&format!("directory already listed as {}", d.display())),
        "{}",
        reason_of(&ds, &twin)
    );
    assert_eq!(ds.train.class_counts(2), [4, 4], "every image once, in its own class");

    // The command line: exit 0 and each named once (the I/O cause is not printed twice);
    // strictly, exit 1 naming the first.
    let cache = tmp.path().join("cli-cache").display().to_string();
    let (code, out) = convlab(
        &["data", "prepare", "--data", &spec(&root), "--size", "12", "--cache", &cache],
        30,
    );
    assert_eq!(code, 0, "{out}");
    for p in [&fifo, &dangling, &self_loop, &twin] {
        assert!(
            out.contains(&format!("skipped {}:", p.display())),
            "{} not named:\n{out}",
            p.display()
        );
    }
    assert!(!out.contains("os error 2): No such file"), "cause printed twice:\n{out}");
    let (code, out) = convlab(
        &["data", "prepare", "--data", &spec(&root), "--size", "12", "--strict", "--cache", &cache],
        30,
    );
    assert_eq!(code, 1, "{out}");
    assert_eq!(out.matches("No such file or directory").count(), 0, "{out}");
    assert!(
        out.starts_with("error: ") && out.lines().count() == 1,
        "one line naming the file: {out}"
    );
}

/// A PNG header claiming `w`×`h` gray pixels, with a little data: under 1 kB on disk.
fn png_header_only(path: &Path, w: u32, h: u32) {
    fn chunk(out: &mut Vec<u8>, kind: &[u8], data: &[u8]) {
        out.extend((data.len() as u32).to_be_bytes());
        let start = out.len();
        out.extend(kind);
        out.extend(data);
        let crc = crc32fast::hash(&out[start..]);
        out.extend(crc.to_be_bytes());
    }
    let mut out = b"\x89PNG\r\n\x1a\n".to_vec();
    let mut ihdr = Vec::new();
    ihdr.extend(w.to_be_bytes());
    ihdr.extend(h.to_be_bytes());
    ihdr.extend([8, 0, 0, 0, 0]);
    chunk(&mut out, b"IHDR", &ihdr);
    let mut z = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::best());
    std::io::Write::write_all(&mut z, &vec![0u8; 1 + w.min(4096) as usize]).unwrap();
    chunk(&mut out, b"IDAT", &z.finish().unwrap());
    chunk(&mut out, b"IEND", &[]);
    fs::write(path, out).unwrap();
}

/// A 30,000² image (under 1 kB) once made convlab allocate 56.7 GB and abort; 65,536²
/// wrapped the u32 pixel count. Both are refused from their headers, before any
/// allocation; with the limit raised, the memory budget stops the load with a
/// message that says how much is needed and suggests --size.
#[test]
fn huge_images_are_refused_before_anything_is_allocated() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().join("tree");
    tree(&root);
    let huge = root.join("train/class00/huge.png");
    png_header_only(&huge, 30_000, 30_000);
    assert!(fs::metadata(&huge).unwrap().len() < 1000);
    let wraps = root.join("train/class01/wraps.png");
    png_header_only(&wraps, 65_536, 65_536);

    for size in [0, 12] {
        let ds = load_within(
            &DataConfig { image_size: size, ..cfg(&root, &tmp.path().join("cache")) },
            60,
        )
        .unwrap();
        assert!(
            reason_of(&ds, &huge)
                .starts_with("30000×30000 = 900000000 pixels, over the limit of 178956970"),
            "{}",
            reason_of(&ds, &huge)
        );
        assert!(
            reason_of(&ds, &wraps).starts_with("65536×65536 = 4294967296 pixels"),
            "{}",
            reason_of(&ds, &wraps)
        );
        assert_eq!(ds.train.class_counts(2), [4, 4]);
    }
    let cache = tmp.path().join("cli-cache").display().to_string();
    let (code, out) = convlab(&["data", "prepare", "--data", &spec(&root), "--cache", &cache], 60);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains(&format!("skipped {}: 30000×30000", huge.display())), "{out}");

    // Limit raised: the budget check speaks before a byte of the split buffer is allocated.
    fs::remove_file(&wraps).unwrap();
    let (code, out) = convlab(
        &[
            "data",
            "prepare",
            "--data",
            &spec(&root),
            "--size",
            "30000",
            "--max-image-pixels",
            "1000000000",
            "--memory-budget",
            "1G",
            "--cache",
            &cache,
        ],
        60,
    );
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("image_size = 30000: at most 4096"), "{out}");
    let (code, out) = convlab(
        &[
            "data",
            "prepare",
            "--data",
            &spec(&root),
            "--size",
            "4096",
            "--max-image-pixels",
            "1000000000",
            "--memory-budget",
            "1G",
            "--cache",
            &cache,
        ],
        60,
    );
    assert_eq!(code, 1, "{out}");
    // 13 images of 3×4096×4096 bytes, plus the 9 of train again while they become a tensor.
    assert!(
        out.contains(
            "the decoded images need 1.1 GB in memory (train 9, val 4 images of \
        3×4096×4096 = 50.3 MB each), over the memory budget of 1.0 GB (--memory-budget); use a \
        smaller --size"
        ),
        "{out}"
    );
    let err = load_within(
        &DataConfig { max_image_pixels: Some(1_000_000_000), ..cfg(&root, &tmp.path().join("c3")) },
        60,
    )
    .unwrap_err()
    .to_string();
    assert!(
        err.contains("2 different sizes")
            && err.contains("huge.png is 30000×30000")
            && err.contains("--size"),
        "{err}"
    );
}

/// Without --size every image must have the same size: the error names one file of each.
#[test]
fn mixed_sizes_without_size_name_one_file_of_each() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().join("tree");
    tree(&root);
    let odd = root.join("val/class01/wide.png");
    fs::write(&odd, encoded(ImageFormat::Png, 20, 10)).unwrap();
    let err = load_within(&cfg(&root, &tmp.path().join("cache")), 30).unwrap_err().to_string();
    assert!(
        err.contains("2 different sizes")
            && err.contains("is 12×12 (12 image(s)")
            && err.contains(&format!("{} is 20×10 (1 image(s)", odd.display())),
        "{err}"
    );
    assert!(err.contains("pass --size N"), "{err}");
    let (code, out) = convlab(
        &[
            "data",
            "prepare",
            "--data",
            &spec(&root),
            "--cache",
            &tmp.path().join("c").display().to_string(),
        ],
        30,
    );
    assert_eq!(code, 1, "{out}");
    let ds =
        load_within(&DataConfig { image_size: 12, ..cfg(&root, &tmp.path().join("cache")) }, 30)
            .unwrap();
    assert_eq!(ds.val.len(), 5, "with --size the odd one is resized");
}

/// Names with a tab, a newline, a backslash or bytes that are not UTF-8 are escaped
/// (`\t`, `\n`, `\\`, `\xNN`): test.txt keeps one `<file>\t<class>` per line and every
/// name maps back to its file; the cache stores them (and skipped paths) losslessly.
#[test]
fn awkward_file_names_are_escaped_and_round_trip() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().join("tree");
    tree(&root);
    let test = root.join("test");
    fs::create_dir_all(&test).unwrap();
    let png = encoded(ImageFormat::Png, 12, 12);
    let names: Vec<&[u8]> = vec![
        b"tab\there.png",
        b"new\nline.png",
        b"back\\slash.png",
        b"caf\xe9-latin1.png",
        b"plain.png",
    ];
    for n in &names {
        fs::write(test.join(OsStr::from_bytes(n)), &png).unwrap();
    }
    let bad_name = root.join("train/class00").join(OsStr::from_bytes(b"notes-\xff.txt"));
    fs::write(&bad_name, "x").unwrap();

    let c = DataConfig { image_size: 12, ..cfg(&root, &tmp.path().join("cache")) };
    let ds = load_within(&c, 30).unwrap();
    let files = &ds.test.as_ref().unwrap().files;
    assert_eq!(files.len(), names.len());
    for f in files {
        assert!(!f.contains(['\t', '\n', '\r']), "{f:?}");
        let raw = unescape_name(f).unwrap();
        assert!(test.join(&raw).is_file(), "{f:?} does not map back to a file");
        assert_eq!(escape_name(&raw), *f);
    }
    assert!(
        files.contains(&"tab\\there.png".to_string())
            && files.contains(&"caf\\xe9-latin1.png".to_string())
            && files.contains(&"back\\\\slash.png".to_string()),
        "{files:?}"
    );
    assert_eq!(
        reason_of(&ds, &bad_name),
        "not an image file (expected one of: jpg, jpeg, png, ppm, pgm, bmp, tif, tiff, webp, gif)"
    );

    let out = tmp.path().join("test.txt");
    convlab::train::write_predictions(&out, files, &vec![1; files.len()], &ds.classes).unwrap();
    let text = fs::read_to_string(&out).unwrap();
    assert_eq!(text.lines().count(), names.len());
    assert!(
        text.lines().all(|l| l.matches('\t').count() == 1 && l.ends_with("\tclass01")),
        "{text}"
    );

    // From the cache: the same names and the same skipped (non-UTF-8) path.
    let again = load_within(&c, 30).unwrap();
    assert!(again.from_cache);
    assert_eq!(&again.test.unwrap().files, files);
    assert_eq!(again.skipped, ds.skipped);
    assert_eq!(unescape_name("a\\q"), None, "not something escape_name writes");
}

/// A truncated or corrupted cache file is detected (size and CRC-32 in the manifest, a
/// CRC-32 of the manifest itself) and rebuilt with a warning, never read as garbage.
#[test]
fn damaged_cache_files_are_detected_and_rebuilt() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().join("tree");
    tree(&root);
    let c = DataConfig { image_size: 12, ..cfg(&root, &tmp.path().join("cache")) };
    let first = load_within(&c, 30).unwrap();
    let tensors = first.cache_path.clone();
    let manifest = tensors.with_extension("json");
    let original = (fs::read(&tensors).unwrap(), fs::read(&manifest).unwrap());

    type Damage<'a> = (&'a str, Box<dyn Fn() + 'a>);
    let damage: Vec<Damage> = vec![
        (
            "tensors truncated",
            Box::new(|| fs::write(&tensors, &original.0[..original.0.len() / 2]).unwrap()),
        ),
        (
            "a tensor byte flipped",
            Box::new(|| {
                let mut b = original.0.clone();
                let i = b.len() - 10;
                b[i] ^= 0x40;
                fs::write(&tensors, b).unwrap()
            }),
        ),
        (
            "manifest truncated",
            Box::new(|| fs::write(&manifest, &original.1[..original.1.len() / 2]).unwrap()),
        ),
        (
            "a manifest digit changed, still valid JSON",
            Box::new(|| {
                let text = String::from_utf8(original.1.clone()).unwrap();
                let i = text.find("\"mean\":[0.").unwrap() + 10;
                let mut b = text.into_bytes();
                b[i] = if b[i] == b'1' { b'2' } else { b'1' };
                fs::write(&manifest, b).unwrap()
            }),
        ),
        ("manifest emptied", Box::new(|| fs::write(&manifest, b"").unwrap())),
    ];
    for (what, harm) in damage {
        fs::write(&tensors, &original.0).unwrap();
        fs::write(&manifest, &original.1).unwrap();
        assert!(load_within(&c, 30).unwrap().from_cache, "{what}: the intact cache is used");
        harm();
        let ds = load_within(&c, 30).unwrap();
        assert!(!ds.from_cache, "{what}: a damaged cache must not be used");
        assert!(
            ds.train.images.equal(&first.train.images) && ds.stats == first.stats,
            "{what}: rebuilt from the images"
        );
        assert!(load_within(&c, 30).unwrap().from_cache, "{what}: rewritten whole");
    }
    // The warning, as a user sees it.
    fs::write(&tensors, &original.0[..100]).unwrap();
    let cache = c.cache_dir().unwrap().display().to_string();
    let (code, out) = convlab(
        &["data", "prepare", "--data", &spec(&root), "--size", "12", "--cache", &cache],
        30,
    );
    assert_eq!(code, 0, "{out}");
    assert!(
        out.contains(&format!("warning: cache {} is truncated or corrupted", tensors.display())),
        "{out}"
    );
    // A cache an older convlab wrote (format 1: a plain JSON manifest) is not damage: rebuilt
    // without a warning.
    fs::write(&manifest, br#"{"format":1,"key":{}}"#).unwrap();
    let (code, out) = convlab(
        &["data", "prepare", "--data", &spec(&root), "--size", "12", "--cache", &cache],
        30,
    );
    assert_eq!(code, 0, "{out}");
    assert!(!out.contains("warning") && out.contains("decoded in"), "{out}");
}

/// Removes a mount when dropped.
struct Mount(PathBuf);

impl Drop for Mount {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg(&self.0).status();
    }
}

fn mount_tmpfs(dir: &Path, options: &str) -> Result<Mount, String> {
    fs::create_dir_all(dir).unwrap();
    let out = Command::new("mount")
        .args(["-t", "tmpfs", "-o", options, "tmpfs"])
        .arg(dir)
        .output()
        .map_err(|e| format!("cannot run mount: {e}"))?;
    if !out.status.success() {
        return Err(String::from_utf8_lossy(&out.stderr).trim().to_string());
    }
    Ok(Mount(dir.to_path_buf()))
}

fn files_in(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = fs::read_dir(dir)
        .map(|rd| rd.flatten().map(|e| e.file_name().to_string_lossy().into_owned()).collect())
        .unwrap_or_default();
    v.sort();
    v
}

/// A cache location that cannot be written is a clear error naming it, and leaves no
/// torn file. Root writes through permission bits, so: a regular file where the
/// directory should be, a read-only tmpfs and a full tmpfs.
#[test]
fn unwritable_cache_locations_are_clear_errors() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().join("tree");
    tree(&root);

    let blocker = tmp.path().join("not-a-dir");
    fs::write(&blocker, "a file where the cache directory should be").unwrap();
    let err = load_within(&DataConfig { image_size: 12, ..cfg(&root, &blocker.join("cache")) }, 30)
        .unwrap_err()
        .to_string();
    assert!(
        err.starts_with(&format!(
            "cache {}: cannot create the cache directory",
            blocker.join("cache").display()
        )) && err.contains("--cache"),
        "{err}"
    );
    let (code, out) = convlab(
        &[
            "data",
            "prepare",
            "--data",
            &spec(&root),
            "--size",
            "12",
            "--cache",
            &blocker.display().to_string(),
        ],
        30,
    );
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("cannot create the cache directory"), "{out}");

    let ro = tmp.path().join("ro");
    match mount_tmpfs(&ro, "ro,size=1m") {
        Err(why) => println!("skipping the read-only tmpfs case: mount refused ({why})"),
        Ok(_m) => {
            let err =
                load_within(&DataConfig { image_size: 12, ..cfg(&root, &ro.join("cache")) }, 30)
                    .unwrap_err()
                    .to_string();
            assert!(
                err.contains(&ro.join("cache").display().to_string())
                    && err.to_lowercase().contains("read-only"),
                "{err}"
            );
            assert!(files_in(&ro).is_empty());
        }
    }
    let full = tmp.path().join("full");
    match mount_tmpfs(&full, "size=4k") {
        Err(why) => println!("skipping the full tmpfs case: mount refused ({why})"),
        Ok(_m) => {
            let c = DataConfig { image_size: 12, ..cfg(&root, &full) };
            let err = load_within(&c, 30).unwrap_err().to_string();
            assert!(
                err.contains(&full.display().to_string())
                    && err.contains("cannot write")
                    && err.contains("No space left"),
                "{err}"
            );
            assert_eq!(files_in(&full), Vec::<String>::new(), "no torn or temporary file left");
        }
    }
}
