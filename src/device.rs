//! Where tensors live: `auto` (CUDA when available, else CPU), `cpu` or `cuda`.
use serde::{Deserialize, Serialize};
use std::sync::Once;

/// The training device as a user names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "cli", derive(clap::ValueEnum))]
#[serde(rename_all = "lowercase")]
pub enum Device {
    /// The first CUDA device when one is available, else the CPU.
    #[default]
    Auto,
    /// The CPU, whatever else is present.
    Cpu,
    /// The first CUDA device; an error when none is available.
    #[cfg_attr(feature = "cli", value(alias = "gpu"))]
    Cuda,
}

impl Device {
    /// Resolve to a tch device, loading libtorch's CUDA backend first.
    pub fn resolve(self) -> anyhow::Result<tch::Device> {
        load_cuda_backend();
        match self {
            Device::Cpu => Ok(tch::Device::Cpu),
            Device::Auto => Ok(tch::Device::cuda_if_available()),
            Device::Cuda if tch::Cuda::is_available() => Ok(tch::Device::Cuda(0)),
            Device::Cuda => anyhow::bail!(
                "device `cuda` was asked for, but libtorch sees no CUDA device \
                 (libtorch_cuda not found or no GPU); use `auto` or `cpu`"
            ),
        }
    }
}

/// How a study lays images and weights out in memory, per variant.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "cli", derive(clap::ValueEnum))]
#[serde(rename_all = "kebab-case")]
pub enum MemoryFormat {
    /// Channels-last where it is safe, NCHW for a variant whose model libtorch 2.11's oneDNN
    /// would crash on in channels-last on the CPU (the model's `cpu_channels_last_hazard`);
    /// with device `cuda`, channels-last for every variant.
    #[default]
    Auto,
    /// Channels-last (NHWC) for every variant: an error before training where the CPU hazard
    /// applies.
    ChannelsLast,
    /// NCHW (PyTorch's default, contiguous) for every variant.
    Nchw,
}

impl MemoryFormat {
    /// The name a user types (`auto`, `channels-last`, `nchw`).
    pub fn as_str(self) -> &'static str {
        match self {
            MemoryFormat::Auto => "auto",
            MemoryFormat::ChannelsLast => "channels-last",
            MemoryFormat::Nchw => "nchw",
        }
    }
}

impl std::str::FromStr for MemoryFormat {
    /// What is wrong (the caller names the value and where it came from).
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s.trim() {
            "auto" => Ok(MemoryFormat::Auto),
            "channels-last" | "channels_last" | "nhwc" => Ok(MemoryFormat::ChannelsLast),
            "nchw" | "contiguous" => Ok(MemoryFormat::Nchw),
            _ => Err("expected auto, channels-last or nchw".into()),
        }
    }
}

impl Device {
    /// The name a user types (`auto`, `cpu`, `cuda`).
    pub fn as_str(self) -> &'static str {
        match self {
            Device::Auto => "auto",
            Device::Cpu => "cpu",
            Device::Cuda => "cuda",
        }
    }
}

impl std::fmt::Display for Device {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for Device {
    /// What is wrong (the caller names the value and where it came from).
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s.trim() {
            "auto" => Ok(Device::Auto),
            "cpu" => Ok(Device::Cpu),
            "cuda" | "gpu" => Ok(Device::Cuda),
            _ => Err("expected auto, cpu or cuda".into()),
        }
    }
}

/// Make sure `libtorch_cuda.so` is loaded when it exists. Binaries and tests of
/// this crate link it (see build.rs); code compiled elsewhere — an evcxr
/// notebook — may have had it dropped by the linker's `--as-needed`, and then
/// CUDA would look absent. Loading it registers libtorch's CUDA backend.
pub fn load_cuda_backend() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        let name = c"libtorch_cuda.so";
        // SAFETY: dlopen with a valid NUL-terminated name; a null result only
        // means the library is absent (a CPU-only libtorch), which is fine.
        unsafe {
            libc::dlopen(name.as_ptr(), libc::RTLD_NOW | libc::RTLD_GLOBAL);
        }
    });
}

/// Keep freed CPU tensor memory inside the process instead of handing it back to
/// the kernel after every step. glibc's malloc serves the multi-megabyte
/// activation tensors of a training step from fresh `mmap`s, or trims them off
/// the heap when they are freed, so each step page-faults its whole working set
/// back in: 2.4 million page faults in six epochs of the quick profile's model.
/// A 32 MiB mmap threshold (glibc's maximum) and a 1 GiB trim threshold keep
/// that memory for the next step: 80,000 faults, ~15% faster CPU epochs. Peak
/// memory is unchanged (the same bytes were in use at the peak). Process-wide,
/// applied once; results do not change. A no-op outside glibc.
pub fn keep_freed_memory() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        #[cfg(all(target_os = "linux", target_env = "gnu"))]
        // SAFETY: mallopt only changes malloc's tuning parameters; a rejected value returns 0.
        unsafe {
            libc::mallopt(libc::M_MMAP_THRESHOLD, 32 << 20);
            libc::mallopt(libc::M_TRIM_THRESHOLD, 1 << 30);
            libc::mallopt(libc::M_TOP_PAD, 64 << 20);
        }
    });
}

unsafe extern "C" {
    // src/autocast.cpp, compiled against libtorch's headers by build.rs.
    fn convlab_cuda_autocast_state(enabled: *mut c_int, scalar_type: *mut c_int);
    fn convlab_cuda_autocast_enter_bf16(was_enabled: *mut c_int, was_scalar_type: *mut c_int);
    fn convlab_cuda_autocast_exit(was_enabled: c_int, was_scalar_type: c_int);
    fn convlab_scalar_type_bfloat16() -> c_int;
    fn convlab_scalar_type_half() -> c_int;
}
use std::ffi::c_int;

/// The calling thread's CUDA autocast state: whether it is on, and its type.
pub fn cuda_autocast_state() -> (bool, tch::Kind) {
    let (mut on, mut kind) = (0, 0);
    // SAFETY: the wrapper writes two ints through valid pointers.
    unsafe { convlab_cuda_autocast_state(&mut on, &mut kind) };
    (on != 0, scalar_kind(kind))
}

fn scalar_kind(v: c_int) -> tch::Kind {
    // SAFETY: the wrappers only read libtorch's enum values.
    let (bf16, half) = unsafe { (convlab_scalar_type_bfloat16(), convlab_scalar_type_half()) };
    match v {
        v if v == bf16 => tch::Kind::BFloat16,
        v if v == half => tch::Kind::Half,
        _ => tch::Kind::Float,
    }
}

/// Restores the calling thread's CUDA autocast state when a scope ends, by return or panic.
struct AutocastScope {
    was_enabled: c_int,
    was_scalar_type: c_int,
}

impl Drop for AutocastScope {
    fn drop(&mut self) {
        // SAFETY: the state read on entry, handed back.
        unsafe { convlab_cuda_autocast_exit(self.was_enabled, self.was_scalar_type) };
    }
}

/// Run `f` with CUDA autocast on in bf16 (libtorch's CUDA default would be fp16,
/// whose gradients underflow without a loss scaler; bf16 has f32's range), then
/// put this thread's autocast state back, also when `f` panics. Tensors on the
/// CPU are not affected.
pub fn cuda_autocast_bf16<T>(f: impl FnOnce() -> T) -> T {
    let mut scope = AutocastScope { was_enabled: 0, was_scalar_type: 0 };
    // SAFETY: the wrapper writes two ints through valid pointers.
    unsafe { convlab_cuda_autocast_enter_bf16(&mut scope.was_enabled, &mut scope.was_scalar_type) };
    let out = f();
    drop(scope);
    out
}

/// Process and thread settings for training on `device`, as `fit` and `bench` use
/// them: freed CPU memory kept (see [`keep_freed_memory`]); on CUDA, cuDNN's
/// autotuner on (fixed shapes: algorithms timed once, the fastest kept) and,
/// with `bf16`, a probe that a matrix product under [`cuda_autocast_bf16`] runs in
/// bf16 — a run asked for bf16 that libtorch does not honour stops before its
/// first step instead of training in f32. On the CPU `bf16` is ignored.
pub fn prepare_training(device: tch::Device, bf16: bool) -> anyhow::Result<()> {
    keep_freed_memory();
    if device.is_cuda() {
        tch::Cuda::cudnn_set_benchmark(true);
        if bf16 {
            let x = tch::Tensor::ones([8, 8], (tch::Kind::Float, device));
            let kind = cuda_autocast_bf16(|| x.matmul(&x).kind());
            anyhow::ensure!(
                kind == tch::Kind::BFloat16,
                "bf16 autocast was asked for on {device:?}, but libtorch ran a matrix product \
                    under it in {kind:?}; run without --bf16"
            );
        }
    }
    Ok(())
}

/// A small host tensor (an epoch's order, flip masks, crop offsets) on `device`, without making
/// the host wait. A plain copy to CUDA from pageable memory synchronises the stream,
/// so the CPU would stop queueing kernels once per copy; this goes through pinned
/// memory with a non-blocking copy (the DataLoader's `pin_memory` + `non_blocking`),
/// and libtorch's pinned-memory cache keeps the buffer until the copy has run.
/// Elsewhere it is `to_device`.
pub fn upload(host: &tch::Tensor, device: tch::Device) -> tch::Tensor {
    if device.is_cuda() && host.device() == tch::Device::Cpu {
        // `_pin_memory`, not `pin_memory`: tch always passes `pin_memory` a device, which
        // libtorch ≥ 2.5 answers with a deprecation warning on stderr at every call.
        host.internal_pin_memory(device).to_device_(device, host.kind(), true, false)
    } else {
        host.to_device(device)
    }
}

/// The CPU's model name (`/proc/cpuinfo`), or the architecture where that file is not.
pub fn cpu_model() -> String {
    let cpu = std::fs::read_to_string("/proc/cpuinfo").ok().and_then(|t| {
        t.lines()
            .find(|l| l.starts_with("model name"))
            .and_then(|l| l.split(':').nth(1))
            .map(|s| s.trim().to_string())
    });
    cpu.unwrap_or_else(|| std::env::consts::ARCH.to_string())
}

/// One line about the libtorch in use: threads, CUDA, cuDNN.
pub fn libtorch_info() -> String {
    load_cuda_backend();
    format!(
        "libtorch: {} CPU threads, CUDA {} ({} devices), cuDNN {}",
        tch::get_num_threads(),
        if tch::Cuda::is_available() { "yes" } else { "no" },
        tch::Cuda::device_count(),
        if tch::Cuda::cudnn_is_available() { "yes" } else { "no" },
    )
}

/// The same values with channels-last (NHWC) strides; libtorch's convolutions follow the input's
/// layout.
pub fn to_channels_last(x: &tch::Tensor) -> tch::Tensor {
    x.permute([0, 2, 3, 1]).contiguous().permute([0, 3, 1, 2])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_names_and_rejects_others() {
        assert_eq!("cpu".parse::<Device>().unwrap(), Device::Cpu);
        assert_eq!("auto".parse::<Device>().unwrap(), Device::Auto);
        assert_eq!("tpu".parse::<Device>().unwrap_err(), "expected auto, cpu or cuda");
        for d in [Device::Auto, Device::Cpu, Device::Cuda] {
            assert_eq!(
                d.to_string().parse::<Device>().unwrap(),
                d,
                "shown as the name a user types"
            );
        }
    }

    #[test]
    fn cuda_autocast_is_bf16_inside_the_scope_and_restored_after() {
        // A fresh thread: libtorch's per-thread defaults.
        std::thread::spawn(|| {
            let state = cuda_autocast_state;
            assert_eq!(state(), (false, tch::Kind::Half), "libtorch's default: off, fp16");
            let inner = cuda_autocast_bf16(|| {
                assert_eq!(state(), (true, tch::Kind::BFloat16));
                // Nested: the inner scope's end leaves the outer one on.
                cuda_autocast_bf16(state);
                assert_eq!(state(), (true, tch::Kind::BFloat16));
                // CPU tensors are outside CUDA autocast: f32 stays f32.
                let x = tch::Tensor::ones([4, 4], (tch::Kind::Float, tch::Device::Cpu));
                x.matmul(&x).kind()
            });
            assert_eq!(inner, tch::Kind::Float);
            assert_eq!(state(), (false, tch::Kind::Half), "restored after the scope");
            // A panic inside the scope restores the state too.
            assert!(
                std::panic::catch_unwind(|| cuda_autocast_bf16(|| panic!("in the forward pass")))
                    .is_err()
            );
            assert_eq!(state(), (false, tch::Kind::Half));
            // On a GPU, a product under the scope really runs in bf16.
            if tch::Cuda::is_available() {
                prepare_training(tch::Device::Cuda(0), true).unwrap();
            }
        })
        .join()
        .unwrap();
    }

    #[test]
    fn cpu_always_resolves_and_auto_matches_cuda_availability() {
        assert_eq!(Device::Cpu.resolve().unwrap(), tch::Device::Cpu);
        let auto = Device::Auto.resolve().unwrap();
        assert_eq!(auto.is_cuda(), tch::Cuda::is_available());
        assert_eq!(Device::Cuda.resolve().is_ok(), tch::Cuda::is_available());
    }

    #[test]
    fn upload_keeps_values_and_kind_on_every_device() {
        let host = tch::Tensor::from_slice(&[3i64, 1, 4, 1, 5]);
        let mut devices = vec![tch::Device::Cpu];
        if tch::Cuda::is_available() {
            devices.push(tch::Device::Cuda(0));
        }
        for device in devices {
            let up = upload(&host, device);
            assert_eq!((up.device(), up.kind()), (device, tch::Kind::Int64));
            // Read back after the (possibly asynchronous) copy: the same values.
            assert_eq!(
                Vec::<i64>::try_from(up.to_device(tch::Device::Cpu)).unwrap(),
                [3, 1, 4, 1, 5]
            );
            let flag = upload(&tch::Tensor::from_slice(&[true, false]), device);
            assert_eq!(flag.kind(), tch::Kind::Bool);
        }
    }
}
