#!/usr/bin/env bash
# A short tour of ftpmount: serves a demo folder with pyftpdlib on 127.0.0.1, mounts it with
# bin/ftpmount (built by `make demo`), works in the mount with ordinary commands, shows the
# result on the server's side, and unmounts. Exits non-zero if any step fails.
set -euo pipefail
cd "$(dirname "$0")/.."

bin=$PWD/bin/ftpmount
if [ ! -x "$bin" ]; then
	echo "demo: $bin is missing; run: make demo" >&2
	exit 1
fi

work=$(mktemp -d /tmp/ftpmount-demo-XXXXXX)
served=$work/served
mnt=$work/mnt
server_pid=

mounted() { grep -qs " $mnt " /proc/mounts; }

cleanup() {
	local status=$?
	set +e
	if mounted; then
		fusermount3 -u "$mnt" || fusermount3 -u -z "$mnt"
	fi
	if [ -n "$server_pid" ]; then
		kill "$server_pid" 2>/dev/null
		wait "$server_pid" 2>/dev/null
	fi
	if [ "$status" -ne 0 ] && [ -f "$work/server.log" ]; then
		echo "demo: failed; the FTP server's log:" >&2
		tail -n 20 "$work/server.log" >&2
	fi
	# Never delete through a mount that is still there: that would delete the served files.
	mounted || rm -rf "$work"
}
trap cleanup EXIT

# show prints a command, then runs it in the mount.
show() {
	printf '\n$ %s\n' "$1"
	(cd "$mnt" && eval "$1")
}

# server shows a command run on the server's side, in the served folder.
server() {
	printf '\n[server side] $ %s\n' "$1"
	(cd "$served" && eval "$1")
}

mkdir -p "$served/notes" "$mnt"
printf 'Hello from an FTP server.\n' >"$served/hello.txt"
printf 'buy milk\ncall Bob\n' >"$served/notes/todo.txt"
seq 1 1000 >"$served/numbers.txt"

port=$(/usr/bin/python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
/usr/bin/python3 -m pyftpdlib -i 127.0.0.1 -p "$port" -d "$served" -w -u demo -P demo \
	</dev/null >"$work/server.log" 2>&1 &
server_pid=$!
for _ in $(seq 1 100); do
	curl -s --max-time 2 "ftp://demo:demo@127.0.0.1:$port/" >/dev/null && break
	sleep 0.1
done
curl -sS --max-time 5 "ftp://demo:demo@127.0.0.1:$port/" >/dev/null

echo "== pyftpdlib serves $served on 127.0.0.1:$port"
printf '\n$ %s\n' "ftpmount ftp://demo:demo@127.0.0.1:$port/ $mnt"
"$bin" "ftp://demo:demo@127.0.0.1:$port/" "$mnt"
mounted

show 'ls -l'
show 'cat hello.txt'
show 'cat notes/todo.txt'
show "echo 'written through the mount' > newfile.txt"
show 'echo "a second line" >> newfile.txt'
show 'cat newfile.txt'
show 'cp /etc/os-release copied.txt'
show 'mkdir archive'
show 'mv newfile.txt archive/'
show 'mv notes/todo.txt archive/todo-done.txt'
show 'rm copied.txt numbers.txt'
show 'ls -lR'

echo
echo "== the same files on the server's side"
server 'ls -lR'
server 'cat archive/newfile.txt'

# Check what the server has, so that the demo fails when ftpmount does.
[ "$(cat "$served/archive/newfile.txt")" = "$(printf 'written through the mount\na second line')" ]
[ "$(cat "$served/archive/todo-done.txt")" = "$(printf 'buy milk\ncall Bob')" ]
[ ! -e "$served/copied.txt" ] && [ ! -e "$served/numbers.txt" ] && [ ! -e "$served/notes/todo.txt" ]

printf '\n$ %s\n' "fusermount3 -u $mnt"
fusermount3 -u "$mnt"
echo
echo "== demo done"
