# Sourced by the top-level scripts: the Debian packages dpuhost needs, and a function that installs
# the missing ones with apt-get (as root, or through sudo).

# To build and run the unit tests.
DH_BUILD_PACKAGES="meson ninja-build pkg-config gcc libc6-dev libjansson-dev libsqlite3-dev libmnl-dev
  libmicrohttpd-dev libcurl4-openssl-dev libcmocka-dev python3 pciutils clang llvm libclang-rt-14-dev
  clang-format curl"

# dh_missing_packages PKG...: prints the packages that are not installed.
dh_missing_packages() {
    local p missing=
    for p in "$@"; do
        dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
    done
    echo $missing
}

# dh_install_packages PKG...: installs the missing ones; returns non-zero when that is impossible.
dh_install_packages() {
    local missing
    missing=$(dh_missing_packages "$@")
    [ -z "$missing" ] && return 0
    local sudo=
    if [ "$(id -u)" != 0 ]; then
        if command -v sudo >/dev/null; then sudo="sudo"; else
            echo "dpuhost: missing packages:$missing; run as root or install them" >&2
            return 1
        fi
    fi
    echo "== installing:$missing"
    export DEBIAN_FRONTEND=noninteractive
    $sudo apt-get update -qq || return 1
    # shellcheck disable=SC2086
    $sudo apt-get install -y -qq --no-install-recommends $missing >/dev/null || return 1
}
