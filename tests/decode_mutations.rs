//! Thousands of seeded byte-level mutations of valid JPEG, PNG, WebP, GIF and BMP
//! files through convlab's decode path (`decode_image`, as every dataset load runs
//! it): each returns an image or an error — no panic escapes, no decode takes more
//! than a few seconds (each runs on a worker thread the test waits on), and no decode
//! allocates past what the limits allow (a counting global allocator: this test has
//! its own binary so that nothing else allocates beside it).
use convlab::data::{DecodeLimits, Rng, decode_image};
use image::{ImageFormat, RgbImage};
use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering::Relaxed};
use std::time::{Duration, Instant};

struct Counting;

static IN_USE: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let p = unsafe { System.alloc(layout) };
        if !p.is_null() {
            let now = IN_USE.fetch_add(layout.size(), Relaxed) + layout.size();
            PEAK.fetch_max(now, Relaxed);
        }
        p
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { System.dealloc(ptr, layout) };
        IN_USE.fetch_sub(layout.size(), Relaxed);
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        let p = unsafe { System.realloc(ptr, layout, new_size) };
        if !p.is_null() {
            if new_size > layout.size() {
                let now =
                    IN_USE.fetch_add(new_size - layout.size(), Relaxed) + new_size - layout.size();
                PEAK.fetch_max(now, Relaxed);
            } else {
                IN_USE.fetch_sub(layout.size() - new_size, Relaxed);
            }
        }
        p
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

fn valid(format: ImageFormat) -> Vec<u8> {
    let img = RgbImage::from_fn(24, 16, |x, y| {
        image::Rgb([(x * 11 % 256) as u8, (y * 23 % 256) as u8, ((x + y) * 7 % 256) as u8])
    });
    let mut out = std::io::Cursor::new(Vec::new());
    img.write_to(&mut out, format).unwrap();
    out.into_inner()
}

/// One seeded mutation: a truncation, flipped bits, a rewritten header byte, bytes
/// inserted or removed, or a header field pushed to its maximum.
fn mutate(bytes: &[u8], rng: &mut Rng) -> (String, Vec<u8>) {
    let mut b = bytes.to_vec();
    let at = |rng: &mut Rng, n: usize| rng.below(n.max(1) as u64) as usize;
    match rng.below(6) {
        0 => {
            let n = at(rng, b.len());
            b.truncate(n);
            (format!("truncated to {n} bytes"), b)
        }
        1 => {
            let k = 1 + at(rng, 4);
            for _ in 0..k {
                let i = at(rng, b.len());
                b[i] ^= 1 << rng.below(8);
            }
            (format!("{k} bit(s) flipped"), b)
        }
        2 => {
            let i = at(rng, b.len().min(64));
            b[i] = rng.below(256) as u8;
            (format!("header byte {i} = {}", b[i]), b)
        }
        3 => {
            let i = at(rng, b.len());
            let n = 1 + at(rng, 16);
            let junk: Vec<u8> = (0..n).map(|_| rng.below(256) as u8).collect();
            b.splice(i..i, junk);
            (format!("{n} random bytes inserted at {i}"), b)
        }
        4 => {
            let i = at(rng, b.len());
            let n = (1 + at(rng, 16)).min(b.len() - i);
            b.drain(i..i + n);
            (format!("{n} bytes removed at {i}"), b)
        }
        _ => {
            let i = at(rng, b.len().min(48).saturating_sub(1));
            b[i] = 0xFF;
            if i + 1 < b.len() {
                b[i + 1] = 0xFF;
            }
            (format!("header bytes {i}.. set to 0xFFFF"), b)
        }
    }
}

#[test]
fn mutated_images_never_panic_hang_or_allocate_without_bound() {
    // Tight limits, so that a mutated header claiming a huge image is refused from it.
    let limits = DecodeLimits { max_pixels: 1 << 20 };
    // The decoded output may take 8 bytes per allowed pixel; decoders add tables and
    // buffers. 64 MiB is far above any legitimate decode here and far below a runaway one.
    let bound = 64 << 20;
    let (tx_job, rx_job) = std::sync::mpsc::channel::<Vec<u8>>();
    // Per decode: Ok(decoded?) or the panic that escaped, and the peak bytes allocated.
    let (tx_done, rx_done) = std::sync::mpsc::channel::<(Result<Result<(), String>, ()>, usize)>();
    std::thread::spawn(move || {
        for bytes in rx_job {
            let base = IN_USE.load(Relaxed);
            PEAK.store(base, Relaxed);
            let result = std::panic::catch_unwind(|| decode_image(&bytes, &limits).map(|_| ()))
                .map_err(|_| ());
            let peak = PEAK.load(Relaxed).saturating_sub(base);
            if tx_done.send((result, peak)).is_err() {
                return;
            }
        }
    });
    let t0 = Instant::now();
    let mut rng = Rng::new(20211108);
    let (mut decoded, mut refused, mut caught, mut max_peak) = (0, 0, 0, 0);
    let per_format = 2000;
    for format in
        [ImageFormat::Jpeg, ImageFormat::Png, ImageFormat::WebP, ImageFormat::Gif, ImageFormat::Bmp]
    {
        let original = valid(format);
        assert!(decode_image(&original, &limits).is_ok(), "{format:?}: the unmutated file decodes");
        for n in 0..per_format {
            let (what, bytes) = mutate(&original, &mut rng);
            tx_job.send(bytes).unwrap();
            let (result, peak) =
                rx_done.recv_timeout(Duration::from_secs(5)).unwrap_or_else(|_| {
                    panic!("{format:?} mutation {n} ({what}): the decode did not return within 5 s")
                });
            let Ok(outcome) = result else {
                panic!("{format:?} mutation {n} ({what}): a panic escaped decode_image")
            };
            assert!(
                peak <= bound,
                "{format:?} mutation {n} ({what}): the decode allocated {peak} bytes (bound \
                    {bound})"
            );
            max_peak = max_peak.max(peak);
            match outcome {
                Ok(()) => decoded += 1,
                Err(e) if e.starts_with("the image decoder failed") => {
                    caught += 1;
                    refused += 1
                }
                Err(_) => refused += 1,
            }
        }
    }
    let total = 5 * per_format;
    assert_eq!(decoded + refused, total);
    assert!(refused > total / 10, "mutations this harsh are mostly refused: {refused} of {total}");
    println!(
        "{total} mutations in {:.1} s: {decoded} decoded, {refused} refused ({caught} by a \
            decoder panic turned into an error); largest decode allocation {max_peak} bytes",
        t0.elapsed().as_secs_f64()
    );
}
