#!/bin/bash
# Runs every dpuhost test: installs missing build dependencies, builds, runs the unit tests, runs
# them again under ASan+UBSan, fuzzes the VPD parser briefly, checks formatting, runs the real-kernel
# lab when this machine can (else says SKIP loudly), and ends with "N passed, N failed".
# Env: DH_FUZZ_SECONDS (default 30), DH_LAB=0 to skip the lab, DH_LAB_SET (default "--all").
set -u
cd "$(dirname "$0")/.."
. scripts/deps.sh

total_pass=0 total_fail=0 total_skip=0
summary=()
note() { summary+=("$1"); }
add() { # stage passed failed [skipped]
    total_pass=$((total_pass + $2)); total_fail=$((total_fail + $3)); total_skip=$((total_skip + ${4:-0}))
    note "$(printf '%-10s %4d passed, %d failed%s' "$1" "$2" "$3" "$( [ "${4:-0}" -gt 0 ] && echo ", $4 skipped")")"
}
finish() {
    echo
    echo "== summary"
    printf '%s\n' "${summary[@]}"
    echo "$total_pass passed, $total_fail failed"
    [ "$total_fail" = 0 ]
    exit $?
}

dh_install_packages $DH_BUILD_PACKAGES || { note "deps: cannot install build dependencies"; total_fail=1; finish; }

# meson_stage NAME BUILDDIR [meson setup options...]: configure, build, run the tests, count them.
meson_stage() {
    local name=$1 dir=$2; shift 2
    echo "== $name: build ($dir)"
    if [ ! -d "$dir" ]; then meson setup "$dir" "$@" >/dev/null || { add "$name" 0 1; return; }; fi
    if ! ninja -C "$dir" >"$dir/dh-build.log" 2>&1; then
        tail -30 "$dir/dh-build.log"
        add "$name" 0 1
        return
    fi
    echo "== $name: test"
    meson test -C "$dir" --print-errorlogs --no-rebuild >"$dir/dh-test.log" 2>&1
    grep -E '^ *[0-9]+/[0-9]+ ' "$dir/dh-test.log" | grep -vE ' (OK|SKIP) ' | sed 's/^/   /'
    grep -E 'not ok|ERROR|FAIL' "$dir/dh-test.log" | head -40 | sed 's/^/   /'
    read -r p f s < <(python3 scripts/count-tests.py "$dir/meson-logs/testlog.json")
    add "$name" "$p" "$f" "$s"
}

meson_stage unit build
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1
meson_stage asan build-asan -Db_sanitize=address,undefined -Db_lundef=false -Dbuildtype=debug
unset ASAN_OPTIONS UBSAN_OPTIONS

echo "== fuzz: VPD parser for ${DH_FUZZ_SECONDS:-30} s"
if [ ! -d build-fuzz ]; then CC=clang meson setup build-fuzz -Dfuzz=true >/dev/null 2>&1; fi
if ninja -C build-fuzz fuzz/vpd-fuzzer >build-fuzz/dh-build.log 2>&1; then
    corpus=$(mktemp -d)
    cp fuzz/corpus/vpd/* "$corpus/"
    if build-fuzz/fuzz/vpd-fuzzer -max_total_time="${DH_FUZZ_SECONDS:-30}" -print_final_stats=1 "$corpus" \
        >build-fuzz/dh-fuzz.log 2>&1; then
        add fuzz 1 0
    else
        tail -30 build-fuzz/dh-fuzz.log; add fuzz 0 1
    fi
    rm -rf "$corpus"
else
    tail -20 build-fuzz/dh-build.log; add fuzz 0 1
fi

echo "== format: clang-format"
if bad=$(git ls-files '*.c' '*.h' | xargs clang-format --dry-run 2>&1 | grep -E '^[^ ]+:[0-9]+:[0-9]+: ' \
         | cut -d: -f1 | sort -u) && [ -n "$bad" ]; then
    echo "   not formatted (run: clang-format -i FILE):"; echo "$bad" | sed 's/^/     /'
    add format 0 1
else
    add format 1 0
fi

if [ "${DH_LAB:-1}" = 0 ]; then
    echo "SKIP lab: disabled by DH_LAB=0"; note "SKIP lab: disabled by DH_LAB=0"
elif [ ! -x lab/run ]; then
    echo "SKIP lab: lab/run is missing"; note "SKIP lab: lab/run is missing"
elif ! reason=$(lab/run --check 2>&1); then
    echo "###############################################"
    echo "SKIP lab: $reason"
    echo "###############################################"
    note "SKIP lab: $reason"
else
    echo "== lab: ${DH_LAB_SET:---all}"
    lab/run --build build ${DH_LAB_SET:---all} 2>&1 | tee build/lab.log
    line=$(grep -E '^[0-9]+ passed, [0-9]+ failed$' build/lab.log | tail -1)
    if [ -n "$line" ]; then
        add lab "$(echo "$line" | cut -d' ' -f1)" "$(echo "$line" | cut -d' ' -f3)"
    else
        add lab 0 1
    fi
fi
finish
