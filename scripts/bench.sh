#!/usr/bin/env bash
# Runs the benchmark (integration/bench, see its README.md) after installing what it needs: the test
# dependencies (scripts/install-deps.sh) and Debian's rclone. As root. Arguments go to the bench
# program: -quick (a one-minute smoke test), -out DIR (default bench-results), -bin, -reps, -lat, -only.
set -euo pipefail
cd "$(dirname "$0")/.."

if [ "$(id -u)" -ne 0 ]; then
	echo "bench: run as root (it mounts FUSE filesystems, starts vsftpd and drops the page cache)" >&2
	exit 1
fi
bash scripts/install-deps.sh
if ! command -v rclone >/dev/null 2>&1; then
	echo "bench: installing rclone" >&2
	export DEBIAN_FRONTEND=noninteractive
	apt-get install -y -qq rclone </dev/null >/dev/null ||
		{ apt-get update -qq </dev/null && apt-get install -y -qq rclone </dev/null >/dev/null; }
fi

GO=${GO:-$(command -v go 2>/dev/null || echo /usr/local/go/bin/go)}
exec "$GO" run ./integration/bench "$@"
