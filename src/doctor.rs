//! `convlab doctor`: what this machine gives convlab — libtorch (version, where it was
//! loaded from, the wheel's CUDA build), CUDA and cuDNN, the device a study would use, the
//! thread count — and one training step timed on each device present. A pure record
//! ([`Checkup`]) first, then its lines.
use crate::device::Device;
use crate::model::ResNetConfig;
use crate::train::TrainConfig;
use std::path::PathBuf;
use std::time::Instant;

unsafe extern "C" {
    // src/torch_info.cpp, compiled against libtorch's headers by build.rs.
    fn convlab_torch_version() -> *const std::ffi::c_char;
    fn convlab_cudart_version() -> std::ffi::c_longlong;
    fn convlab_cudnn_version() -> std::ffi::c_longlong;
}

/// One training step timed on one device.
#[derive(Debug, Clone, PartialEq)]
pub struct StepTime {
    /// `Cpu`, `Cuda(0)`.
    pub device: String,
    /// Seconds of one step (the median of the timed ones).
    pub seconds: f64,
    pub images_per_s: f64,
}

/// What `convlab doctor` found.
#[derive(Debug, Clone, PartialEq)]
pub struct Checkup {
    /// The libtorch version convlab was compiled against (its headers).
    pub torch_compiled: String,
    /// The loaded `libtorch_cpu.so`, from the process's memory map.
    pub libtorch_path: Option<PathBuf>,
    /// The wheel's own version beside it (`torch/version.py`: `2.11.0+cu130`) and its CUDA build
    /// (`13.0`).
    pub wheel_version: Option<String>,
    pub wheel_cuda: Option<String>,
    pub cuda_available: bool,
    pub cuda_devices: i64,
    /// CUDA runtime and cuDNN versions as libtorch reports them (`None`: this libtorch has none).
    pub cudart: Option<i64>,
    pub cudnn_available: bool,
    pub cudnn: Option<i64>,
    pub cpu: String,
    pub cores: usize,
    pub threads: i32,
    /// The device asked for, and what it resolves to here (or why it cannot).
    pub configured: Device,
    pub resolved: Result<String, String>,
    /// The step timed on each device present.
    pub steps: Vec<StepTime>,
    /// What the step is: the quick profile's xknet18 at 28×28 gray, batch 64.
    pub step_model: String,
}

/// The loaded `libtorch_cpu.so`, from `/proc/self/maps`.
fn loaded_libtorch() -> Option<PathBuf> {
    let maps = std::fs::read_to_string("/proc/self/maps").ok()?;
    maps.lines()
        .filter_map(|l| l.split_whitespace().nth(5))
        .find(|p| p.ends_with("/libtorch_cpu.so"))
        .map(PathBuf::from)
}

/// `__version__` and `cuda` of the `torch/version.py` beside a wheel's `torch/lib/`.
fn wheel_versions(lib: &std::path::Path) -> (Option<String>, Option<String>) {
    let Some(text) = lib
        .parent()
        .and_then(|l| l.parent())
        .and_then(|t| std::fs::read_to_string(t.join("version.py")).ok())
    else {
        return (None, None);
    };
    let value = |key: &str| {
        text.lines().find_map(|l| {
            // `cuda: Optional[str] = '13.0'`: the name before a type annotation.
            let (k, v) = l.split_once('=')?;
            (k.split(':').next()?.trim() == key)
                .then(|| v.trim().trim_matches(['\'', '"']).to_string())
                .filter(|v| v != "None")
        })
    };
    (value("__version__"), value("cuda"))
}

/// The median seconds of `steps` training steps (after two untimed ones) of the quick
/// profile's xknet18 (width 16, 28×28 gray, batch 64, 10 classes) on `device`.
pub fn time_step(device: tch::Device, steps: usize) -> anyhow::Result<f64> {
    let model =
        ResNetConfig { width: 16, in_channels: 1, num_classes: 10, ..ResNetConfig::xknet18() };
    let train = TrainConfig { lr: 0.02, ..TrainConfig::paper() };
    tch::manual_seed(0);
    let vs = tch::nn::VarStore::new(device);
    let net = crate::model::ResNet::new(&vs.root(), &model)?;
    let mut opt = crate::train::Optimizer::new(&vs, &train);
    let xs = tch::Tensor::randn([64, 1, 28, 28], (tch::Kind::Float, device));
    let ys = tch::Tensor::randint(10, [64], (tch::Kind::Int64, device));
    let sync = || {
        if let tch::Device::Cuda(i) = device {
            tch::Cuda::synchronize(i as i64);
        }
    };
    let mut times = Vec::new();
    for i in 0..steps + 2 {
        sync();
        let t0 = Instant::now();
        let (loss, _) = crate::train::fit::train_step(&net, &mut opt, &xs, &ys, train.lr, &train);
        anyhow::ensure!(loss.double_value(&[]).is_finite(), "the timed step's loss is not finite");
        sync();
        if i >= 2 {
            times.push(t0.elapsed().as_secs_f64());
        }
    }
    times.sort_by(f64::total_cmp);
    Ok(times[times.len() / 2])
}

impl Checkup {
    /// Look at this machine for a study asking for `configured`, timing `steps` steps per device.
    pub fn run(configured: Device, steps: usize) -> Checkup {
        crate::device::load_cuda_backend();
        let version = |p: *const std::ffi::c_char| {
            unsafe { std::ffi::CStr::from_ptr(p) }.to_string_lossy().into_owned()
        };
        // SAFETY: the wrappers return a static string and two integers.
        let (torch_compiled, cudart, cudnn) = unsafe {
            (version(convlab_torch_version()), convlab_cudart_version(), convlab_cudnn_version())
        };
        let libtorch_path = loaded_libtorch();
        let (wheel_version, wheel_cuda) =
            libtorch_path.as_deref().map_or((None, None), wheel_versions);
        let cuda_devices = if tch::Cuda::is_available() { tch::Cuda::device_count() } else { 0 };
        let mut devices = vec![tch::Device::Cpu];
        devices.extend((0..cuda_devices).map(|i| tch::Device::Cuda(i as usize)));
        let steps = devices
            .into_iter()
            .filter_map(|d| {
                time_step(d, steps).ok().map(|s| StepTime {
                    device: format!("{d:?}"),
                    seconds: s,
                    images_per_s: 64.0 / s,
                })
            })
            .collect();
        Checkup {
            torch_compiled,
            libtorch_path,
            wheel_version,
            wheel_cuda,
            cuda_available: tch::Cuda::is_available(),
            cuda_devices,
            cudart: (cudart > 0).then_some(cudart),
            cudnn_available: tch::Cuda::cudnn_is_available(),
            cudnn: (cudnn > 0).then_some(cudnn),
            cpu: crate::device::cpu_model(),
            cores: std::thread::available_parallelism().map_or(1, |n| n.get()),
            threads: tch::get_num_threads(),
            configured,
            resolved: configured.resolve().map(|d| format!("{d:?}")).map_err(|e| e.to_string()),
            steps,
            step_model: "xknet18 width 16, 28×28 gray, batch 64 (the quick profile's model)".into(),
        }
    }

    /// `12.8` from libtorch's integer CUDA runtime version (12080), `9.10.2` from cuDNN's (91002).
    fn cuda_text(v: i64) -> String {
        format!("{}.{}", v / 1000, (v % 1000) / 10)
    }

    fn cudnn_text(v: i64) -> String {
        format!("{}.{}.{}", v / 10000, (v % 10000) / 100, v % 100)
    }

    /// What `convlab doctor` prints.
    pub fn lines(&self) -> Vec<String> {
        let mut out = vec![
            format!(
                "libtorch: {} (compiled against {}){}",
                self.libtorch_path
                    .as_ref()
                    .map_or("not found in this process's memory map".into(), |p| p
                        .display()
                        .to_string()),
                self.torch_compiled,
                self.wheel_version.as_ref().map_or(String::new(), |v| format!("; wheel torch {v}"))
            ),
            format!(
                "CUDA: {}; the wheel's CUDA build {}; runtime {}",
                if self.cuda_available {
                    format!("available, {} device(s)", self.cuda_devices)
                } else {
                    "not available (no GPU, or no driver)".into()
                },
                self.wheel_cuda.as_deref().unwrap_or("none (a CPU-only build)"),
                self.cudart.map_or("none".into(), Self::cuda_text)
            ),
            format!(
                "cuDNN: {}{}",
                if self.cudnn_available { "available" } else { "not available" },
                self.cudnn.map_or(String::new(), |v| format!(", version {}", Self::cudnn_text(v)))
            ),
            format!("CPU: {} ({} cores); libtorch threads {}", self.cpu, self.cores, self.threads),
            match &self.resolved {
                Ok(d) => format!("device: `{}` → {d}", self.configured),
                Err(e) => format!("device: `{}` → unavailable: {e}", self.configured),
            },
        ];
        for s in &self.steps {
            out.push(format!(
                "one training step on {}: {:.1} ms ({:.0} img/s; {})",
                s.device,
                1e3 * s.seconds,
                s.images_per_s,
                self.step_model
            ));
        }
        out
    }

    /// The one line `convlab doctor` exits non-zero with, when the configured device is absent.
    pub fn problem(&self) -> Option<String> {
        self.resolved.as_ref().err().cloned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_wheels_versions_are_read_beside_its_library() {
        let tmp = tempfile::tempdir().unwrap();
        let lib = tmp.path().join("torch/lib");
        std::fs::create_dir_all(&lib).unwrap();
        // As torch 2.11.0+cu130 writes it.
        std::fs::write(
            tmp.path().join("torch/version.py"),
            "from typing import \
            Optional\n__version__ = '2.11.0+cu130'\ndebug = False\ncuda: Optional[str] = \
            '13.0'\nhip: Optional[str] = None\n",
        )
        .unwrap();
        assert_eq!(
            wheel_versions(&lib.join("libtorch_cpu.so")),
            (Some("2.11.0+cu130".into()), Some("13.0".into()))
        );
        std::fs::write(
            tmp.path().join("torch/version.py"),
            "__version__ = '2.11.0+cpu'\ncuda: Optional[str] = None\n",
        )
        .unwrap();
        assert_eq!(wheel_versions(&lib.join("libtorch_cpu.so")), (Some("2.11.0+cpu".into()), None));
        assert_eq!(
            (Checkup::cuda_text(13000), Checkup::cudnn_text(91900)),
            ("13.0".to_string(), "9.19.0".to_string())
        );
    }
}
