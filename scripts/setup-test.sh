#!/usr/bin/env bash
# What only the tests and the book need, on top of scripts/setup.sh: mdBook (the book in
# docs/, built by `make docs`), Chromium and its WebDriver (the browser test of the
# notebooks), pdflatex with booktabs (the test that the LaTeX write-up compiles). Run by
# `make test`, `make docs` and `make test-browser`; idempotent. The Debian packages need root
# (or password-less sudo) when they are missing; one line says which is missing otherwise.
# (Slurm's daemons are scripts/slurm-local.sh's, started by `make test`.)
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
MDBOOK_VERSION=0.5.4
TOOLS=${CONVLAB_TOOLS:-${XDG_DATA_HOME:-$HOME/.local/share}/convlab}
MDBOOK=$TOOLS/mdbook-$MDBOOK_VERSION
log() { printf '[setup-test] %s\n' "$*" >&2; }
source "$ROOT/scripts/apt.sh"

# --- mdBook, for the book in docs/ ----------------------------------------------
if [[ -x "$MDBOOK/bin/mdbook" ]]; then
  log "mdbook ok: $MDBOOK"
else
  log "compiling mdbook $MDBOOK_VERSION into $MDBOOK (about 1.5 min on 2 cores, once per machine)"
  cargo install --locked --quiet "mdbook@$MDBOOK_VERSION" --no-default-features --features search --root "$MDBOOK.partial"
  rm -rf "$MDBOOK" && mv "$MDBOOK.partial" "$MDBOOK"
fi

# --- Debian packages: Chromium for the browser test, pdflatex for the LaTeX test -------
missing=0
if [[ -x /usr/bin/chromium && -x /usr/bin/chromedriver ]]; then
  log "chromium ok: /usr/bin/chromium"
else
  apt_install_or_say "the browser test of the notebooks (make test-browser)" chromium chromium-driver || missing=1
fi
# Without recommends: ~45 s, no documentation or extra fonts.
if command -v pdflatex >/dev/null && kpsewhich booktabs.sty >/dev/null; then
  log "pdflatex ok: $(command -v pdflatex)"
else
  apt_install_or_say --no-recommends "the test that the LaTeX write-up compiles (tests/report.rs)" texlive-latex-recommended || missing=1
fi

ENVF="$ROOT/.convlab-test-env"
echo "CONVLAB_MDBOOK=$MDBOOK/bin/mdbook" > "$ENVF.tmp" && mv "$ENVF.tmp" "$ENVF"
exit $missing
