# Shared by scripts/run and scripts/test: install what is missing from
# Debian's packages and the npm registry, and build. Sourced, not run.
# Everything is idempotent: a second run installs and rebuilds nothing new.

set -eu
BP_ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$BP_ROOT"

say() { printf '\033[1m==> %s\033[0m\n' "$*"; }
die() { printf 'error: %s\n' "$*" >&2; exit 1; }

# Debian packages the project needs. Runtime: the libraries and redis.
# zlib and brotli compress what the server sends. Build: compiler, cmake,
# pkg-config, node + npm (added by bp_install when missing: the web build
# and the tests). Tests: cmocka, clang (libFuzzer and sanitizers), chromium
# (browser tests).
BP_PKGS_RUN="gcc make cmake pkg-config libwebsockets-dev libwebsockets-evlib-uv libhiredis-dev libjs-leaflet
 libuv1-dev libcjson-dev libcmocka-dev libsystemd-dev zlib1g-dev libbrotli-dev libssl-dev libxml2-dev libcurl4-openssl-dev redis-server redis-tools curl netcat-openbsd"
# tests also check /metrics with promtool (prometheus), the units with
# systemd-analyze (systemd) and the EDXL-HAVE export with xmllint
# (libxml2-utils); e-mail notifications go to a real SMTP server
# (python3-aiosmtpd, run with Debian's /usr/bin/python3); bench/run puts
# the public page next to nginx serving the same bytes, both under wrk
BP_PKGS_TEST="clang clang-format libclang-rt-14-dev chromium openssl prometheus systemd libxml2-utils python3-aiosmtpd nginx wrk"
# the container images and docker/test (not part of scripts/test): podman
# with runc, CNI networking with name resolution between containers,
# podman-compose, and debootstrap for the local base image
BP_PKGS_CONTAINERS="podman runc debootstrap podman-compose containernetworking-plugins
 golang-github-containernetworking-plugin-dnsname"

bp_install() {
    missing=""
    for p in "$@"; do
        dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
    done
    # Node.js: any installed node >= 18 will do; else Debian's.
    if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
        missing="$missing nodejs npm"
    fi
    [ -z "$missing" ] && return 0
    SUDO=""
    if [ "$(id -u)" -ne 0 ]; then
        command -v sudo >/dev/null 2>&1 || die "missing packages:$missing (run as root or install them)"
        SUDO=sudo
    fi
    say "installing Debian packages:$missing"
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends $missing >/dev/null
}

bp_node_deps() {
    node_major=$(node -p 'process.versions.node.split(".")[0]')
    [ "$node_major" -ge 18 ] || die "Node.js >= 18 is needed, found $(node --version)"
    if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
        say "installing npm packages (package-lock.json)"
        npm ci --no-audit --no-fund --loglevel=error
    fi
}

# bp_build DIR COMPILER [cmake args...]: configure once, build with all cores.
bp_build() {
    dir=$1
    cc=$2
    shift 2
    if [ ! -f "$dir/CMakeCache.txt" ]; then
        CC=$cc cmake -S . -B "$dir" -DCMAKE_BUILD_TYPE=RelWithDebInfo "$@" >/dev/null
    fi
    cmake --build "$dir" --parallel "$(nproc)" -- --no-print-directory >/dev/null
}
