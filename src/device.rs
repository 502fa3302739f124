//! Where tensors live: `auto` (CUDA when available, else CPU), `cpu` or `cuda`.
use serde::{Deserialize, Serialize};
use std::sync::Once;

/// The training device as a user names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Device {
    /// The first CUDA device when one is available, else the CPU.
    #[default]
    Auto,
    /// The CPU, whatever else is present.
    Cpu,
    /// The first CUDA device; an error when none is available.
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

impl std::str::FromStr for Device {
    type Err = anyhow::Error;
    fn from_str(s: &str) -> anyhow::Result<Self> {
        match s {
            "auto" => Ok(Device::Auto),
            "cpu" => Ok(Device::Cpu),
            "cuda" | "gpu" => Ok(Device::Cuda),
            other => anyhow::bail!("unknown device `{other}`: expected auto, cpu or cuda"),
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

type SetAutocastDtype = unsafe extern "C" fn(i8, i8);
type GetAutocastDtype = unsafe extern "C" fn(i8) -> i8;
const CUDA: i8 = 1; // c10::DeviceType::CUDA
const BFLOAT16: i8 = 15; // c10::ScalarType::BFloat16 (Half is 5)

/// libtorch's `at::autocast::{set,get}_autocast_dtype`, which tch does not wrap.
fn autocast_dtype_fns() -> anyhow::Result<(SetAutocastDtype, GetAutocastDtype)> {
    static FNS: std::sync::OnceLock<Result<(usize, usize), String>> = std::sync::OnceLock::new();
    let fns = FNS.get_or_init(|| {
        // SAFETY: dlopen/dlsym with NUL-terminated names; RTLD_NOLOAD only returns a
        // handle to the libtorch_cpu this process already has loaded (via tch).
        unsafe {
            let lib = libc::dlopen(c"libtorch_cpu.so".as_ptr(), libc::RTLD_NOW | libc::RTLD_NOLOAD);
            let handle = if lib.is_null() { libc::RTLD_DEFAULT } else { lib };
            let set = libc::dlsym(handle, c"_ZN2at8autocast18set_autocast_dtypeEN3c1010DeviceTypeENS1_10ScalarTypeE".as_ptr());
            let get = libc::dlsym(handle, c"_ZN2at8autocast18get_autocast_dtypeEN3c1010DeviceTypeE".as_ptr());
            if set.is_null() || get.is_null() {
                return Err("libtorch has no at::autocast::set_autocast_dtype (PyTorch ≥ 2.4 has it)".to_string());
            }
            Ok((set as usize, get as usize))
        }
    });
    let &(set, get) = fns.as_ref().map_err(|e| anyhow::anyhow!("{e}"))?;
    // SAFETY: the addresses are those two functions; both take and return one-byte enums.
    Ok(unsafe { (std::mem::transmute::<usize, SetAutocastDtype>(set), std::mem::transmute::<usize, GetAutocastDtype>(get)) })
}

/// Make CUDA autocast compute in bf16 on this thread. `tch::autocast` only
/// switches autocast on, and libtorch's CUDA autocast type defaults to fp16,
/// whose gradients underflow without a loss scaler; bf16 has f32's range.
/// libtorch keeps the type per thread, so the training loop calls this on its own.
pub fn set_cuda_autocast_bf16() -> anyhow::Result<()> {
    let (set, get) = autocast_dtype_fns()?;
    // SAFETY: plain calls into libtorch with valid enum values.
    let now = unsafe {
        set(CUDA, BFLOAT16);
        get(CUDA)
    };
    anyhow::ensure!(now == BFLOAT16, "libtorch kept CUDA autocast at scalar type {now}, not bf16 ({BFLOAT16})");
    Ok(())
}

/// Process and thread settings for training on `device`, as `fit` and `bench` use
/// them: freed CPU memory kept (see [`keep_freed_memory`]); on CUDA, cuDNN's
/// autotuner on (fixed shapes: algorithms timed once, the fastest kept) and,
/// with `bf16`, CUDA autocast set to bf16 on this thread.
pub fn prepare_training(device: tch::Device, bf16: bool) -> anyhow::Result<()> {
    keep_freed_memory();
    if device.is_cuda() {
        tch::Cuda::cudnn_set_benchmark(true);
        if bf16 {
            set_cuda_autocast_bf16()?;
        }
    }
    Ok(())
}

/// A small host tensor (indices, masks, a learning rate) on `device`, without making
/// the host wait. A plain copy to CUDA from pageable memory synchronises the stream,
/// so the CPU would stop queueing kernels once per copy; this goes through pinned
/// memory with a non-blocking copy (the DataLoader's `pin_memory` + `non_blocking`),
/// and libtorch's pinned-memory cache keeps the buffer until the copy has run.
/// Elsewhere it is `to_device`.
pub fn upload(host: &tch::Tensor, device: tch::Device) -> tch::Tensor {
    if device.is_cuda() && host.device() == tch::Device::Cpu {
        host.pin_memory(device).to_device_(device, host.kind(), true, false)
    } else {
        host.to_device(device)
    }
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_names_and_rejects_others() {
        assert_eq!("cpu".parse::<Device>().unwrap(), Device::Cpu);
        assert_eq!("auto".parse::<Device>().unwrap(), Device::Auto);
        let err = "tpu".parse::<Device>().unwrap_err().to_string();
        assert!(err.contains("`tpu`") && err.contains("auto, cpu or cuda"), "{err}");
    }

    #[test]
    fn cuda_autocast_becomes_bf16_on_the_calling_thread_only() {
        std::thread::spawn(|| {
            let (_, get) = autocast_dtype_fns().unwrap();
            assert_eq!(unsafe { get(CUDA) }, 5, "libtorch's default CUDA autocast type is fp16");
            set_cuda_autocast_bf16().unwrap();
            assert_eq!(unsafe { get(CUDA) }, BFLOAT16);
        })
        .join()
        .unwrap();
        std::thread::spawn(|| assert_eq!(unsafe { (autocast_dtype_fns().unwrap().1)(CUDA) }, 5)).join().unwrap();
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
            assert_eq!(Vec::<i64>::try_from(up.to_device(tch::Device::Cpu)).unwrap(), [3, 1, 4, 1, 5]);
            let flag = upload(&tch::Tensor::from_slice(&[true, false]), device);
            assert_eq!(flag.kind(), tch::Kind::Bool);
        }
    }
}
