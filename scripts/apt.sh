# Sourced by the set-up scripts: Debian packages installed when this user may install them.
#
#   apt_install_or_say [--no-recommends] WHAT PKG...
#                                    install the missing PKGs as root, or with sudo when it
#                                    needs no password; else say in one line which package is
#                                    missing and what it is for, and return 1.

# How this user runs apt-get: "" as root, "sudo -n" with password-less sudo, else nothing.
apt_runner() {
  if [[ $(id -u) -eq 0 ]]; then
    echo root
  elif command -v sudo >/dev/null && sudo -n true 2>/dev/null; then
    echo sudo
  fi
}

apt_install_or_say() {
  local opts=()
  if [[ $1 == --no-recommends ]]; then opts=(--no-install-recommends); shift; fi
  local what=$1; shift
  local runner; runner=$(apt_runner)
  if [[ -z $runner ]]; then
    printf '[setup] missing Debian package(s) %s, for %s: this user cannot install them (no root, no password-less sudo); ask for `apt-get install %s`\n' "$*" "$what" "$*" >&2
    return 1
  fi
  local run=(); [[ $runner == sudo ]] && run=(sudo -n)
  printf '[setup] installing Debian'"'"'s %s (%s)\n' "$*" "$what" >&2
  export DEBIAN_FRONTEND=noninteractive
  "${run[@]}" apt-get install -y -q "${opts[@]}" "$@" >/dev/null \
    || { "${run[@]}" apt-get update -q >/dev/null && "${run[@]}" apt-get install -y -q "${opts[@]}" "$@" >/dev/null; }
}
