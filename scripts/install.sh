#!/bin/sh
# Installs the qwen binary for this machine.
#
#   curl -fsSL https://raw.githubusercontent.com/qwen-lite/qwen-lite/main/scripts/install.sh | sh
#   wget -qO- https://raw.githubusercontent.com/qwen-lite/qwen-lite/main/scripts/install.sh | sh
#
# Environment:
#   QWEN_INSTALL_BASE_URL  where the release files are (the binaries and SHA256SUMS), default
#                          https://github.com/qwen-lite/qwen-lite/releases/latest/download
#                          (pin a version with .../releases/download/v0.1.0)
#   QWEN_INSTALL_DIR       where to put `qwen`, default ~/.local/bin
#   QWEN_INSTALL_TIMEOUT   seconds a download attempt may go without data before it is given up (three
#                          attempts), default 60
#
# It picks qwen-<os>-<arch>[-musl][.exe] from `uname -s`, `uname -m` and the C library, downloads it and
# SHA256SUMS with curl or wget, refuses to install anything whose SHA-256 does not match, and installs it
# as `qwen` (mode 755). Exit status 0 when installed and it runs, 1 otherwise; stopped by a signal, 128 plus
# its number, as shells report it (130 for Ctrl+C, 143 for kill), after one line that says so.
set -eu

default_base_url='https://github.com/qwen-lite/qwen-lite/releases/latest/download'
base_url="${QWEN_INSTALL_BASE_URL:-$default_base_url}"
base_url="${base_url%/}"
stall_seconds="${QWEN_INSTALL_TIMEOUT:-60}"

say() {
  # Progress only: a closed stdout (`| head -1`) must not stop the install halfway.
  printf '%s\n' "$*" 2>/dev/null || true
}

fail() {
  printf 'qwen install: %s\n' "$*" >&2
  exit 1
}

has() {
  command -v "$1" >/dev/null 2>&1
}

detect_libc() {
  # glibc's ldd says "GNU libc" or "GLIBC", musl's says "musl libc". Without ldd (minimal Alpine images),
  # a musl loader and no glibc loader means musl.
  ldd_output=$(ldd --version 2>&1 || true)
  case "$ldd_output" in
    *musl*) echo musl; return ;;
    *GNU* | *GLIBC* | *glibc*) echo glibc; return ;;
  esac
  for loader in /lib/ld-musl-*.so.1; do
    if [ -e "$loader" ] && [ ! -e /lib64/ld-linux-x86-64.so.2 ] && [ ! -e /lib/ld-linux-aarch64.so.1 ]; then
      echo musl
      return
    fi
  done
  echo glibc
}

detect_asset() {
  kernel=$(uname -s 2>/dev/null || echo unknown)
  machine=$(uname -m 2>/dev/null || echo unknown)
  case "$kernel" in
    Linux) os=linux ;;
    Darwin) os=darwin ;;
    MINGW* | MSYS* | CYGWIN* | Windows_NT) os=windows ;;
    *) os='' ;;
  esac
  case "$machine" in
    x86_64 | amd64 | x64) arch=x64 ;;
    # Not armv8l: a 32-bit userland on a 64-bit CPU, which cannot run the arm64 binary.
    aarch64 | arm64) arch=arm64 ;;
    *) arch='' ;;
  esac
  # A shell under Rosetta 2 reports x86_64 on Apple silicon; the native binary is the better choice.
  if [ "$os" = darwin ] && [ "$arch" = x64 ] && [ "$(sysctl -n sysctl.proc_translated 2>/dev/null || true)" = 1 ]; then
    arch=arm64
  fi
  libc=''
  if [ "$os" = linux ]; then
    libc=$(detect_libc)
  fi
  detected="uname -s = $kernel, uname -m = $machine${libc:+, C library = $libc}"

  asset=''
  case "$os/$arch/$libc" in
    linux/x64/glibc) asset=qwen-linux-x64 ;;
    linux/arm64/glibc) asset=qwen-linux-arm64 ;;
    linux/x64/musl) asset=qwen-linux-x64-musl ;;
    darwin/x64/) asset=qwen-darwin-x64 ;;
    darwin/arm64/) asset=qwen-darwin-arm64 ;;
    windows/x64/) asset=qwen-windows-x64.exe ;;
  esac
  if [ -z "$asset" ]; then
    fail "no prebuilt qwen for this platform ($detected). Prebuilt binaries: Linux x64 and arm64 (glibc), Linux x64 (musl), macOS x64 and arm64, Windows x64. On other platforms, run it from source with Bun or Deno (see the README)."
  fi
}

download() {
  # download <url> <file>
  # A server that stops sending must not hold a CI job: curl and wget give up an attempt after
  # $stall_seconds s without data, and try three times. Their own error lines are kept quiet; ours says
  # what went wrong, once.
  if has curl; then
    in_background curl --fail --silent --location --retry 2 --connect-timeout 20 --speed-limit 1 \
      --speed-time "$stall_seconds" --write-out '%{http_code}' --output "$2" "$1" ||
      fail "could not download $1 ($(curl_reason $? "$(download_output)"))"
  elif has wget && is_gnu_wget; then
    in_background wget --quiet --tries=3 --timeout="$stall_seconds" --output-document="$2" "$1" ||
      fail "could not download $1 ($(wget_reason $?))"
  elif has wget; then
    case "$1" in
      https://*)
        if [ -z "${tls_note_said:-}" ]; then
          tls_note_said=1
          printf '%s\n' "qwen install: note: BusyBox's wget may not check TLS certificates (Debian's does not); install curl for a checked download" >&2
        fi
        ;;
    esac
    watched_wget "$1" "$2" || fail "could not download $1 (wget: the download failed, or stalled three times)"
  else
    fail 'neither curl nor wget is installed; install one of them and run this again'
  fi
}

# in_background <command> [args...]: runs a download and waits for it, its stdout in $work_dir/.output. A
# signal (Ctrl+C, kill, a CI job's timeout) ends `wait` at once and runs the trap, which stops the download;
# a command in the foreground would hold the trap until it gave up by itself, retries and all.
in_background() {
  "$@" </dev/null >"$work_dir/.output" 2>/dev/null &
  download_pid=$!
  wait "$download_pid" && status=0 || status=$?
  # Reaped: its number may now be another process's.
  download_pid=''
  return "$status"
}

# What the last download printed (curl's HTTP status), read without `cat`, which a minimal image may lack.
download_output() {
  output=''
  read -r output <"$work_dir/.output" 2>/dev/null || true
  printf '%s' "$output"
}

is_gnu_wget() {
  case "$(wget --version 2>/dev/null || true)" in
    *'GNU Wget'*) return 0 ;;
    *) return 1 ;;
  esac
}

watched_wget() {
  # watched_wget <url> <file>: BusyBox's wget (Alpine, Debian's busybox), which knows -q and -O, while its
  # timeout option may be missing (and `-T` has crashed some builds). Three attempts; a watchdog, checking
  # each second, stops one whose file has not grown for $stall_seconds s. Neither holds our streams (a
  # pipe reading our output would wait for them), and cleanup stops both if the install is stopped.
  attempt=1
  while [ "$attempt" -le 3 ]; do
    rm -f "$2"
    wget -q -O "$2" "$1" </dev/null >/dev/null 2>&1 &
    download_pid=$!
    (
      last=-1
      idle=0
      while sleep 1; do
        size=$(wc -c <"$2" 2>/dev/null || echo 0)
        if [ "$size" = "$last" ]; then idle=$((idle + 1)); else idle=0; fi
        last=$size
        if [ "$idle" -ge "$stall_seconds" ]; then
          kill "$download_pid" 2>/dev/null
          exit 0
        fi
      done
    ) </dev/null >/dev/null 2>&1 &
    watchdog_pid=$!
    # The shell would report a download the watchdog stopped ("Terminated"); ours is the one line.
    wait "$download_pid" 2>/dev/null && status=0 || status=$?
    # Reaped: its number may now be another process's.
    download_pid=''
    stop_download
    [ "$status" -ne 0 ] || return 0
    attempt=$((attempt + 1))
  done
  return 1
}

# Stops a download and its watchdog, if one runs (also when the install is stopped halfway: a background
# job ignores Ctrl+C, and would go on writing into a directory that cleanup removed).
stop_download() {
  if [ -n "${watchdog_pid:-}" ]; then kill "$watchdog_pid" 2>/dev/null || true; fi
  if [ -n "${download_pid:-}" ]; then kill "$download_pid" 2>/dev/null || true; fi
  watchdog_pid=''
  download_pid=''
}

curl_reason() {
  case "$1" in
    6) echo 'curl: host name not found' ;;
    7) echo 'curl: could not connect to the server' ;;
    18) echo 'curl: the download was cut short' ;;
    22) echo "curl: the server answered HTTP ${2:-with an error status}" ;;
    28) echo 'curl: the server stopped sending; timed out' ;;
    35 | 60) echo 'curl: TLS or certificate problem' ;;
    56) echo 'curl: the connection was lost' ;;
    *) echo "curl exit code $1" ;;
  esac
}

wget_reason() {
  case "$1" in
    1) echo 'wget: the download failed' ;;
    4) echo 'wget: network failure (no connection, or it timed out)' ;;
    5) echo 'wget: TLS or certificate problem' ;;
    8) echo 'wget: the server answered with an error status' ;;
    *) echo "wget exit code $1" ;;
  esac
}

sha256_of() {
  if has sha256sum; then
    sha256sum "$1" | awk '{ print $1 }'
  elif has shasum; then
    shasum -a 256 "$1" | awk '{ print $1 }'
  elif has openssl; then
    openssl dgst -sha256 -r "$1" | awk '{ print $1 }'
  else
    fail 'cannot verify the download: none of sha256sum, shasum or openssl is installed'
  fi
}

choose_install_dir() {
  if [ -n "${QWEN_INSTALL_DIR:-}" ]; then
    install_dir=$QWEN_INSTALL_DIR
  elif [ -n "${HOME:-}" ]; then
    install_dir="$HOME/.local/bin"
  else
    fail 'HOME is not set, so there is no ~/.local/bin; set QWEN_INSTALL_DIR to the directory to install into'
  fi
  # An absolute path without trailing slashes: it goes into PATH hints, and PATH entries are compared to it.
  case "$install_dir" in
    /*) ;;
    *) install_dir="$(pwd)/$install_dir" ;;
  esac
  while [ "$install_dir" != / ] && [ "${install_dir%/}" != "$install_dir" ]; do
    install_dir=${install_dir%/}
  done
}

on_path() {
  # Each PATH entry, trailing slash or not; globbing off, since an entry may hold * or ?.
  set -f
  old_ifs=$IFS
  IFS=:
  found=1
  for entry in ${PATH:-}; do
    if [ "$entry" = "$install_dir" ] || [ "${entry%/}" = "$install_dir" ]; then
      found=0
      break
    fi
  done
  IFS=$old_ifs
  set +f
  return "$found"
}

path_hint() {
  if on_path; then
    return
  fi
  # `~/...` rather than $HOME spelled out: the user's shell expands it, spaces and all (and HOME may be unset).
  case "${SHELL:-}" in
    */zsh) profile='~/.zshrc' ;;
    */bash) profile='~/.bashrc' ;;
    */fish) profile='' ;;
    *) profile='~/.profile' ;;
  esac
  # The commands are pasted into a shell. A plain directory goes in double quotes, readably; one with any
  # other character goes in single quotes, where nothing is expanded (not even ! by an interactive bash or
  # zsh), a ' in it written '\''. The echo's own single quotes take the line the same way.
  case "$install_dir" in
    *[!A-Za-z0-9_./+@%,=\ -]*) export_line="export PATH='$(single_quoted_body "$install_dir")':\"\$PATH\"" ;;
    *) export_line="export PATH=\"$install_dir:\$PATH\"" ;;
  esac
  say ''
  say "$install_dir is not on your PATH. To add it:"
  if [ -z "$profile" ]; then
    # fish's single quotes: \ and ' are escaped with a backslash.
    say "  fish_add_path '$(printf '%s\n' "$install_dir" | sed "s/[\\\\']/\\\\&/g")'"
  else
    say "  echo '$(single_quoted_body "$export_line")' >> $profile"
    say "  then open a new terminal, or run: $export_line"
  fi
}

# The text to put between single quotes for a POSIX shell to read back `$1`: each ' becomes '\''.
single_quoted_body() {
  printf '%s\n' "$1" | sed "s/'/'\\\\''/g"
}

# Whether the directory, or the nearest one of its parents that exists, takes new files (nothing is created).
can_write_into() {
  dir=$1
  while [ ! -d "$dir" ]; do
    # Something that is no directory in the way (a file named like one of them): mkdir -p would fail.
    if [ -e "$dir" ] || [ -L "$dir" ]; then
      return 1
    fi
    case "$dir" in
      */*) dir=${dir%/*} ;;
      *) dir=. ;;
    esac
    [ -n "$dir" ] || dir=/
  done
  [ -w "$dir" ]
}

cleanup() {
  stop_download
  rm -rf "$work_dir"
  if [ -n "${staged:-}" ]; then
    rm -f "$staged"
  fi
}

# A signal: the download goes with the temporary files, and one line says what became of the install.
stopped() {
  cleanup
  trap - EXIT
  outcome='nothing was installed'
  if [ -n "${installed:-}" ]; then
    outcome="qwen was installed to $target"
  fi
  printf 'qwen install: stopped (%s); %s\n' "$1" "$outcome" >&2
  exit "$2"
}

main() {
  # Digits only, and not so many that `[` cannot count them.
  case "$stall_seconds" in
    '' | *[!0-9]* | ??????*) stall_seconds=0 ;;
  esac
  # A number, compared as one (`00` is 0); curl refuses waits it cannot count.
  if [ "$stall_seconds" -lt 1 ] || [ "$stall_seconds" -gt 86400 ]; then
    fail "QWEN_INSTALL_TIMEOUT takes a whole number of seconds from 1 to 86400, such as 60"
  fi
  choose_install_dir
  detect_asset
  binary_name=qwen
  if [ "$os" = windows ]; then
    binary_name=qwen.exe
  fi
  target="$install_dir/$binary_name"
  if [ -d "$target" ]; then
    fail "$target is a directory; remove it or set QWEN_INSTALL_DIR to another directory"
  fi

  staged=''
  work_dir=$(mktemp -d 2>/dev/null || mktemp -d -t qwen-install.XXXXXX 2>/dev/null) ||
    fail "cannot create a temporary directory in ${TMPDIR:-/tmp}; set TMPDIR to a directory you can write to"
  # Whatever ends the script, the download and a half-copied file go. A closed stdout (`| head -1`) ends
  # nothing: SIGPIPE is ignored and say() drops what cannot be written.
  trap cleanup EXIT
  trap 'stopped SIGHUP 129' HUP
  trap 'stopped SIGINT 130' INT
  trap 'stopped SIGTERM 143' TERM
  trap '' PIPE

  # What would stop the install after a 100 MB download is checked before it.
  sha256_of /dev/null >/dev/null
  can_write_into "$install_dir" || fail "cannot write to $install_dir; set QWEN_INSTALL_DIR to a directory you can write to"

  say "Downloading $asset from $base_url"
  download "$base_url/$asset" "$work_dir/$asset"
  download "$base_url/SHA256SUMS" "$work_dir/SHA256SUMS"

  # Lines are "<hex>  <file>" (or "<hex> *<file>" from sha256sum -b), in either case, ending in LF or CRLF,
  # as `sha256sum -c` reads them.
  expected=$(awk -v name="$asset" '{ sub(/\r$/, "") } $2 == name || $2 == "*" name { print tolower($1); exit }' "$work_dir/SHA256SUMS")
  if [ -z "$expected" ]; then
    rm -f "$work_dir/$asset"
    fail "SHA256SUMS at $base_url has no entry for $asset; not installing"
  fi
  actual=$(sha256_of "$work_dir/$asset")
  if [ "$actual" != "$expected" ]; then
    rm -f "$work_dir/$asset"
    fail "checksum mismatch for $asset: expected $expected, got $actual. The download was deleted and nothing was installed."
  fi

  mkdir -p "$install_dir" 2>/dev/null || fail "cannot create $install_dir; set QWEN_INSTALL_DIR to a directory you can write to"
  # Copy next to the destination, check that it runs, then rename: a running qwen is replaced atomically,
  # never half-written, and never by a binary that does not run here. The staged name keeps Windows' .exe.
  staged="$install_dir/.qwen.install.$$${binary_name#qwen}"
  cp "$work_dir/$asset" "$staged" 2>/dev/null || fail "cannot write to $install_dir (no space, or no permission); nothing was installed"
  chmod 755 "$staged"
  kept=''
  if [ -e "$target" ]; then
    kept=" ($target was left as it was)"
  fi
  if ! version=$("$staged" --version 2>/dev/null); then
    rm -f "$staged"
    staged=''
    if [ "$libc" = musl ]; then
      fail "$asset does not run here: the musl binary needs libstdc++ and libgcc (on Alpine: apk add libstdc++ libgcc); nothing was installed$kept"
    fi
    fail "$asset does not run here (\`qwen --version\` failed); nothing was installed$kept"
  fi
  mv -f "$staged" "$target" 2>/dev/null || fail "cannot install to $target; nothing was installed"
  staged=''
  installed=yes
  say "Installed qwen $version to $target"
  path_hint
}

main "$@"
