#!/usr/bin/env bash
# Smoke test: the official Tencent Cloud CLI (tccli) lists and deletes CVM key pairs
# through the keyward emulator over HTTPS, proving the emulator's TC3 verification and
# envelope match what a real client sends and expects.
#
# Usage: scripts/tccli-smoke.sh            (needs tccli on PATH: pip install tccli)
#   KEYWARD=path/to/keyward  binary to run (default: target/debug/keyward)
#
# tccli always talks HTTPS and its SDK pins the CA bundle to certifi's, ignoring
# REQUESTS_CA_BUNDLE; the sitecustomize shim the emulator writes beside its CA (see
# src/emulator/tccli_shim.rs), put on PYTHONPATH, points certifi at the emulator's CA
# for the tccli processes started here only, as the emulator's banner says.
set -euo pipefail

cd "$(dirname "$0")/.."
KEYWARD=${KEYWARD:-target/debug/keyward}
REGION=ap-guangzhou

if ! command -v tccli >/dev/null 2>&1; then
    echo "tccli-smoke: tccli is not on PATH; install it with: pip install tccli" >&2
    exit 2
fi
if [ ! -x "$KEYWARD" ]; then
    echo "tccli-smoke: $KEYWARD not found; run cargo build or set KEYWARD" >&2
    exit 2
fi

work=$(mktemp -d)
emulator_pid=""
cleanup() {
    if [ -n "$emulator_pid" ]; then
        kill "$emulator_pid" 2>/dev/null || true
        wait "$emulator_pid" 2>/dev/null || true
    fi
    rm -rf "$work"
}
trap cleanup EXIT

"$KEYWARD" emulator --tls --listen 127.0.0.1:0 --cert-out "$work/ca.pem" >"$work/emulator.log" 2>&1 &
emulator_pid=$!

url=""
for _ in $(seq 1 100); do
    url=$(sed -n 's/^keyward emulator listening on \(https:\/\/[0-9.:]*\)$/\1/p' "$work/emulator.log")
    [ -n "$url" ] && break
    if ! kill -0 "$emulator_pid" 2>/dev/null; then
        echo "tccli-smoke: the emulator exited:" >&2
        cat "$work/emulator.log" >&2
        exit 1
    fi
    sleep 0.1
done
if [ -z "$url" ]; then
    echo "tccli-smoke: the emulator did not report its address in time" >&2
    cat "$work/emulator.log" >&2
    exit 1
fi
endpoint=${url#https://}
echo "tccli-smoke: emulator at $url"

# The demo credentials the emulator printed (fake, emulator-only).
eval "$(grep -E '^export TENCENTCLOUD_SECRET_(ID|KEY)=' "$work/emulator.log")"

# Written by the emulator beside --cert-out, as its banner says.
shim="$work/keyward-tccli-shim"
if [ ! -f "$shim/sitecustomize.py" ]; then
    echo "tccli-smoke: the emulator wrote no tccli shim at $shim:" >&2
    cat "$work/emulator.log" >&2
    exit 1
fi
mkdir -p "$work/home"

tc() {
    # A private HOME keeps the operator's ~/.tccli profiles out of the way.
    env HOME="$work/home" PYTHONPATH="$shim" KEYWARD_TCCLI_CA="$work/ca.pem" \
        tccli cvm "$@" --region "$REGION" --endpoint "$endpoint"
}

json_get() {
    python3 -c "import json,sys; d=json.load(sys.stdin); print($1)"
}

# 1. List: the first page and the total.
tc DescribeKeyPairs --Limit 100 >"$work/list.json"
total=$(json_get 'd["TotalCount"]' <"$work/list.json")
echo "tccli-smoke: DescribeKeyPairs lists $total key pairs in $REGION"
[ "$total" -gt 0 ]

# 2. Delete one free pair and one bound to an instance (the demo's skey-old0ci01 and skey-bast0001).
tc DeleteKeyPairs --KeyIds '["skey-old0ci01","skey-bast0001"]' >"$work/delete.json"
request_id=$(json_get 'd["RequestId"]' <"$work/delete.json")
echo "tccli-smoke: DeleteKeyPairs answered (RequestId $request_id)"

# 3. The free pair is gone, the bound one is kept, as the API documents.
tc DescribeKeyPairs --KeyIds '["skey-old0ci01","skey-bast0001"]' >"$work/after.json"
left=$(json_get '" ".join(k["KeyId"] for k in d["KeyPairSet"])' <"$work/after.json")
if [ "$left" != "skey-bast0001" ]; then
    echo "tccli-smoke: expected only skey-bast0001 to remain, found: '$left'" >&2
    exit 1
fi
after_total=$(tc DescribeKeyPairs --Limit 1 | json_get 'd["TotalCount"]')
if [ "$after_total" -ne $((total - 1)) ]; then
    echo "tccli-smoke: expected $((total - 1)) key pairs after the delete, found $after_total" >&2
    exit 1
fi

# 4. A bad secret key is refused with the real error code.
if TENCENTCLOUD_SECRET_KEY=wrong-key tc DescribeKeyPairs --Limit 1 >"$work/bad.txt" 2>&1; then
    echo "tccli-smoke: a wrong secret key was accepted" >&2
    exit 1
fi
grep -q "AuthFailure.SignatureFailure" "$work/bad.txt" || {
    echo "tccli-smoke: expected AuthFailure.SignatureFailure, got:" >&2
    cat "$work/bad.txt" >&2
    exit 1
}

echo "tccli-smoke: OK (listed, deleted one, kept the bound one, refused a bad signature)"
