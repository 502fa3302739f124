#!/usr/bin/env bash
# convlab set-up: what building, training and the notebooks need. Idempotent: when
# everything is in place a run takes seconds. Needs no root (see 3. for the one exception).
#
# Installs, once per machine and user, in a location keyed by version:
#   - a Python venv with torch==2.11.0 (libtorch for tch 0.24) and Jupyter,
#     at $CONVLAB_VENV      (default $CONVLAB_TOOLS/torch-2.11.0-py3.X)
#   - evcxr_jupyter 0.22.0, at $CONVLAB_EVCXR (default $CONVLAB_TOOLS/evcxr_jupyter-0.22.0)
#   $CONVLAB_TOOLS defaults to ${XDG_DATA_HOME:-~/.local/share}/convlab.
# Then, for this clone: .cargo/config.toml (so plain `cargo build` finds libtorch), the
# Jupyter kernel "convlab", and a warm notebook build. Debian's dataset-fashion-mnist (the
# embedded study's data) is installed when it is missing and this user may (root, or sudo
# without a password); otherwise one line says so and the set-up goes on: your own data does
# not need it. What only the tests and the book need (mdBook, Chromium, TeX Live, Slurm) is
# scripts/setup-test.sh's, run by `make test` and `make docs`.
# Nothing is downloaded outside the package registries (PyPI, crates.io, Debian).
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
TORCH_VERSION=2.11.0
EVCXR_VERSION=0.22.0
PY=${CONVLAB_PYTHON:-python3}
PYVER=$("$PY" -c 'import sys; print(f"{sys.version_info[0]}.{sys.version_info[1]}")')
TOOLS=${CONVLAB_TOOLS:-${XDG_DATA_HOME:-$HOME/.local/share}/convlab}
VENV=${CONVLAB_VENV:-$TOOLS/torch-$TORCH_VERSION-py$PYVER}
EVCXR=${CONVLAB_EVCXR:-$TOOLS/evcxr_jupyter-$EVCXR_VERSION}
FMNIST=${CONVLAB_FASHION_MNIST:-/usr/share/datasets/fashion-mnist}
log() { printf '[setup] %s\n' "$*" >&2; }

# --- 1. Python venv with torch and Jupyter ----------------------------------
REQ="$ROOT/scripts/requirements.txt"
REQ_SUM=$(sha256sum "$REQ" | cut -d' ' -f1)
STAMP="$VENV/.convlab-requirements"
if [[ -f "$STAMP" && "$(cat "$STAMP")" == "$REQ_SUM" ]]; then
  log "venv ok: $VENV"
else
  log "installing Python packages into $VENV (torch is ~4.7 GB, ~2 min)"
  mkdir -p "$(dirname "$VENV")"
  [[ -x "$VENV/bin/python" ]] || "$PY" -m venv "$VENV"
  "$VENV/bin/pip" install --quiet --disable-pip-version-check -r "$REQ"
  echo "$REQ_SUM" > "$STAMP.tmp" && mv "$STAMP.tmp" "$STAMP"
fi
SITE=$("$VENV/bin/python" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')
TORCH_DIR="$SITE/torch"
read -r GOT CXX11 < <("$VENV/bin/python" -W ignore -c 'import torch; print(torch.__version__, int(torch._C._GLIBCXX_USE_CXX11_ABI))')
if [[ "${GOT%%+*}" != "$TORCH_VERSION" ]]; then
  echo "setup: $VENV has torch $GOT, convlab needs $TORCH_VERSION (tch 0.24); remove $STAMP and re-run make setup" >&2
  exit 1
fi

# A libtorch-distribution-shaped view of the wheel (include/, lib/, build-version)
# so torch-sys finds headers and libraries through LIBTORCH and checks the version.
LIBTORCH="$VENV/libtorch"
if [[ "$(cat "$LIBTORCH/build-version" 2>/dev/null)" != "$GOT" ]]; then
  mkdir -p "$LIBTORCH"
  ln -sfn "$TORCH_DIR/include" "$LIBTORCH/include"
  ln -sfn "$TORCH_DIR/lib" "$LIBTORCH/lib"
  echo "$GOT" > "$LIBTORCH/build-version"
fi

# --- 2. evcxr_jupyter ---------------------------------------------------------
if [[ -x "$EVCXR/bin/evcxr_jupyter" ]]; then
  log "evcxr_jupyter ok: $EVCXR"
else
  log "compiling evcxr_jupyter $EVCXR_VERSION into $EVCXR (7.5 min on a 2-core Xeon, 11.5 on a 2-core EPYC; once per machine)"
  cargo install --locked --quiet "evcxr_jupyter@$EVCXR_VERSION" --root "$EVCXR.partial"
  rm -rf "$EVCXR" && mv "$EVCXR.partial" "$EVCXR"
fi

# --- 3. Debian's Fashion-MNIST: the embedded study's data (make report) ---------
source "$ROOT/scripts/apt.sh"
if [[ -f "$FMNIST/train-images-idx3-ubyte.gz" || -f "$FMNIST/train-images-idx3-ubyte" ]]; then
  log "fashion-mnist ok: $FMNIST"
else
  apt_install_or_say "the embedded study's data (make report; not needed for your own data — or set CONVLAB_FASHION_MNIST to a copy)" dataset-fashion-mnist || true
fi

# --- 4. This clone: cargo config --------------------------------------------
mkdir -p "$ROOT/.cargo"
CFG="$ROOT/.cargo/config.toml"
cat > "$CFG.tmp" <<TOML
# Written by scripts/setup.sh (make setup); re-run it rather than editing.
[env]
LIBTORCH = "$LIBTORCH"
LIBTORCH_CXX11_ABI = "$CXX11"
TOML
if cmp -s "$CFG.tmp" "$CFG"; then rm "$CFG.tmp"; else mv "$CFG.tmp" "$CFG"; log "wrote $CFG"; fi

# --- 5. Jupyter kernel "convlab" ----------------------------------------------
# Its env carries what a notebook needs to compile and load a tch crate, so the
# kernel works when JupyterLab is started from anywhere. It starts through a
# launcher that gives each kernel a persistent evcxr build directory from a
# pool (held with flock while the kernel lives): dependencies compile once per
# slot, not once per kernel start.
KDATA=${JUPYTER_DATA_DIR:-${XDG_DATA_HOME:-$HOME/.local/share}/jupyter}
KDIR="$KDATA/kernels/convlab"
CARGO_BIN=$(dirname "$(command -v cargo)")
# evcxr loads cells as dylibs linked against Rust's libstd; their relative rpath
# breaks in a deep build directory, so the kernel's loader path names it too.
RUST_LIBDIR=$(rustc --print target-libdir)
EVCXR_CFG="$TOOLS/evcxr-config"
LAUNCHER="$TOOLS/bin/convlab-kernel"
mkdir -p "$KDIR" "$EVCXR_CFG" "$TOOLS/bin"
# Cache compiled registry crates across build directories too.
printf ':cache 4096\n' > "$EVCXR_CFG/init.evcxr.tmp" && mv "$EVCXR_CFG/init.evcxr.tmp" "$EVCXR_CFG/init.evcxr"
cat > "$LAUNCHER.tmp" <<LAUNCH
#!/usr/bin/env bash
# convlab's Jupyter kernel: evcxr_jupyter with a persistent build directory
# taken from a pool of slots (one kernel per slot, locked while it runs).
POOL=\${CONVLAB_EVCXR_POOL:-$TOOLS/evcxr-builds}
for i in 0 1 2 3 4 5 6 7; do
  slot="\$POOL/slot-\$i"
  mkdir -p "\$slot"
  exec {lock}>"\$slot/.lock"
  if flock -n "\$lock"; then
    export EVCXR_TMPDIR="\$slot"
    exec "$EVCXR/bin/evcxr_jupyter" "\$@"
  fi
  exec {lock}>&-
done
exec "$EVCXR/bin/evcxr_jupyter" "\$@"   # every slot busy: a fresh temporary build
LAUNCH
chmod +x "$LAUNCHER.tmp" && mv "$LAUNCHER.tmp" "$LAUNCHER"
"$VENV/bin/python" - "$KDIR/kernel.json" <<PYEOF
import json, os, sys
spec = {
    "argv": ["$LAUNCHER", "--control_file", "{connection_file}"],
    "display_name": "Rust (convlab)",
    "language": "rust",
    "interrupt_mode": "message",
    "env": {
        "LIBTORCH": "$LIBTORCH",
        "LIBTORCH_CXX11_ABI": "$CXX11",
        "LD_LIBRARY_PATH": "$TORCH_DIR/lib:$RUST_LIBDIR",
        "VIRTUAL_ENV": "$VENV",
        "PATH": "$VENV/bin:$CARGO_BIN:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
        "EVCXR_CONFIG_DIR": "$EVCXR_CFG",
        "CONVLAB_VENV": "$VENV",
        "POLARS_FMT_MAX_COLS": "-1",
        "POLARS_FMT_MAX_ROWS": "200",
        "POLARS_FMT_STR_LEN": "60",
        "POLARS_TABLE_WIDTH": "400",
    },
}
for k in ("CARGO_HOME", "RUSTUP_HOME"):
    if os.environ.get(k):
        spec["env"][k] = os.environ[k]
path = sys.argv[1]
new = json.dumps(spec, indent=1) + "\n"
old = open(path).read() if os.path.exists(path) else ""
if new != old:
    open(path + ".tmp", "w").write(new)
    os.replace(path + ".tmp", path)
    print(f"[setup] wrote kernel {path}", file=sys.stderr)
PYEOF

# Where make finds things (sourced by the Makefile).
ENVF="$ROOT/.convlab-env"
cat > "$ENVF.tmp" <<ENV
CONVLAB_VENV=$VENV
CONVLAB_EVCXR=$EVCXR
CONVLAB_TORCH_LIB=$TORCH_DIR/lib
ENV
mv "$ENVF.tmp" "$ENVF"

# --- 6. A warm notebook build --------------------------------------------------
# The first notebook on a machine compiles libtorch's bindings, polars and
# plotters into its build slot (419 s on 2 cores, make bench-notebook); do it here, once per
# dependency set, so the first notebook a user opens starts in seconds.
# CONVLAB_WARM=0 skips it.
WARM_KEY=$( (cat "$ROOT/Cargo.lock" "$ROOT/scripts/run_notebooks.py"; echo "$EVCXR_VERSION"; rustc -V) | sha256sum | cut -c1-16)
WARM_STAMP="$TOOLS/evcxr-builds/.warm-$WARM_KEY"
if [[ "${CONVLAB_WARM:-1}" == 0 ]]; then
  log "notebook build not warmed (CONVLAB_WARM=0)"
elif [[ -f "$WARM_STAMP" ]]; then
  log "notebook build ok: $TOOLS/evcxr-builds"
else
  log "warming the notebook build: compiling the notebooks' dependencies once (8.5 min on a 2-core Xeon, 12 on a 2-core EPYC)"
  "$VENV/bin/python" "$ROOT/scripts/run_notebooks.py" --warm >&2
  mkdir -p "$(dirname "$WARM_STAMP")" && touch "$WARM_STAMP"
fi
log "ready (torch $GOT, evcxr_jupyter $EVCXR_VERSION, kernel 'convlab')"
