#!/usr/bin/env bash
# vendor.sh — keeps the third-party files under static/vendor/ (xterm.js,
# its fit addon and its Unicode 11 addon) identical to the packages published on the npm registry.
#
#   scripts/vendor.sh check
#       Fetch the versions recorded in static/vendor/VERSIONS and compare every
#       vendored file with the registry's, byte for byte, and with the SHA-256
#       recorded in VERSIONS. Exits 1, naming each difference, on a mismatch.
#
#   scripts/vendor.sh update [XTERM_VERSION [FIT_VERSION [UNICODE11_VERSION]]]
#       Replace static/vendor/ with the given versions (default: the versions
#       already recorded; "latest" asks the registry for the newest) and
#       rewrite VERSIONS. Review the diff and run the browser tests after it.
#
# Only the npm client is used (npm pack; it checks each tarball against the
# registry's integrity hash), in a temporary directory: no package.json and
# no node_modules in the repository, and nothing runs at build time — the Go
# binary embeds the committed files as they are.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
vendor="$root/static/vendor"
versions="$vendor/VERSIONS"

# The packages: npm name, directory under static/vendor/, and the files taken
# from the package (paths inside it; each lands in the directory under its
# base name). The ES module builds are used (the page imports them when
# terminal mode is first needed). The source maps are left out: they would
# add 1.7 MB to the binary for the sake of the developer tools, which then
# only note that the map is missing. The addons are published together with
# xterm.js from one commit of its repository (the "commit" field of their
# package.json): take the versions released with the xterm version used.
packages=(@xterm/xterm @xterm/addon-fit @xterm/addon-unicode11)
declare -A dir=([@xterm/xterm]=xterm [@xterm/addon-fit]=addon-fit [@xterm/addon-unicode11]=addon-unicode11)
declare -A files=(
	[@xterm/xterm]="LICENSE css/xterm.css lib/xterm.mjs"
	[@xterm/addon-fit]="LICENSE lib/addon-fit.mjs"
	[@xterm/addon-unicode11]="LICENSE lib/addon-unicode11.mjs"
)

die() { echo "vendor.sh: $*" >&2; exit 1; }

usage() {
	sed -n '2,/^set -euo/p' "${BASH_SOURCE[0]}" | sed '$d; s/^# \{0,1\}//' >&2
	exit 2
}

command -v npm >/dev/null || die "npm not found; install it (Debian: apt-get install npm)"

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# recorded PKG prints the version VERSIONS records for PKG (empty if none).
# Package lines read "package NAME VERSION LICENCE INTEGRITY".
recorded() {
	[[ -f $versions ]] || return 0
	awk -v p="$1" '$1 == "package" && $2 == p { print $3 }' "$versions"
}

# recorded_integrity PKG prints the tarball integrity VERSIONS records for PKG.
recorded_integrity() {
	awk -v p="$1" '$1 == "package" && $2 == p { print $5 }' "$versions"
}

# fetch PKG VERSION downloads and unpacks PKG@VERSION into $tmp/PKG-dir and
# prints the tarball's integrity hash (sha512, as the registry publishes it).
fetch() {
	local pkg=$1 ver=$2 out="$tmp/${dir[$1]}"
	mkdir -p "$out"
	# Run from the temporary directory so that no package.json around the
	# repository is consulted; --json reports the tarball's name and integrity.
	local json
	json=$(cd "$tmp" && npm pack --loglevel=error --json --pack-destination "$out" "$pkg@$ver") ||
		die "npm pack $pkg@$ver failed (is the version right? try: npm view $pkg versions)"
	local tgz integrity
	tgz=$(sed -n 's/^ *"filename": "\(.*\)",$/\1/p' <<<"$json")
	integrity=$(sed -n 's/^ *"integrity": "\(.*\)",$/\1/p' <<<"$json")
	[[ -n $tgz && -f $out/$tgz ]] || die "npm pack $pkg@$ver: no tarball in its answer"
	tar -xzf "$out/$tgz" -C "$out" # every npm tarball holds one folder, package/
	echo "$integrity"
}

# resolve PKG SPEC turns "latest" into a version number; other specs pass as they are.
resolve() {
	if [[ $2 == latest ]]; then
		(cd "$tmp" && npm view --loglevel=error "$1@latest" version)
	else
		echo "$2"
	fi
}

cmd_check() {
	[[ -f $versions ]] || die "$versions is missing; run: scripts/vendor.sh update"
	local bad=0 pkg ver f name want got integrity
	for pkg in "${packages[@]}"; do
		ver=$(recorded "$pkg")
		[[ -n $ver ]] || { echo "MISMATCH: VERSIONS records no version of $pkg" >&2; bad=1; continue; }
		integrity=$(fetch "$pkg" "$ver")
		if [[ $integrity != "$(recorded_integrity "$pkg")" ]]; then
			echo "MISMATCH: the registry's $pkg@$ver tarball is $integrity, VERSIONS records $(recorded_integrity "$pkg")" >&2
			bad=1
		fi
		for f in ${files[$pkg]}; do
			name="${dir[$pkg]}/$(basename "$f")"
			if [[ ! -f $vendor/$name ]]; then
				echo "MISMATCH: static/vendor/$name is missing" >&2
				bad=1
				continue
			fi
			if ! cmp -s "$tmp/${dir[$pkg]}/package/$f" "$vendor/$name"; then
				echo "MISMATCH: static/vendor/$name differs from $f in $pkg@$ver" >&2
				bad=1
			fi
			want=$(awk -v n="$name" '$2 == n { print $1 }' "$versions")
			got=$(sha256sum "$vendor/$name" | cut -d' ' -f1)
			if [[ $want != "$got" ]]; then
				echo "MISMATCH: static/vendor/$name has SHA-256 $got, VERSIONS records ${want:-nothing}" >&2
				bad=1
			fi
		done
		# A file nobody vendored (a stray edit or an old version's leftover).
		for f in "$vendor/${dir[$pkg]}"/*; do
			name="${dir[$pkg]}/$(basename "$f")"
			grep -q "  $name\$" "$versions" || { echo "MISMATCH: static/vendor/$name is not from $pkg@$ver" >&2; bad=1; }
		done
		echo "$pkg@$ver: checked ${files[$pkg]}"
	done
	((bad == 0)) || die "static/vendor/ does not match the registry; to restore it, run: scripts/vendor.sh update"
	echo "static/vendor/ matches the registry byte for byte."
}

cmd_update() {
	local -A want=()
	local i=0 pkg ver f integrity
	for pkg in "${packages[@]}"; do
		i=$((i + 1))
		ver=${!i:-$(recorded "$pkg")}
		[[ -n $ver ]] || die "no version of $pkg recorded; give one: scripts/vendor.sh update XTERM_VERSION FIT_VERSION UNICODE11_VERSION"
		want[$pkg]=$(resolve "$pkg" "$ver")
	done

	# Build the new tree beside the old one, then swap, so that a failed
	# download leaves static/vendor/ as it was.
	local new="$tmp/new"
	mkdir -p "$new"
	{
		echo "# Third-party files embedded in wstelnet, as published on the npm registry."
		echo "# Written by scripts/vendor.sh update; verify with scripts/vendor.sh check."
		echo "# package NAME VERSION LICENCE TARBALL-INTEGRITY, then SHA-256 and path of each file."
	} >"$new/VERSIONS"
	for pkg in "${packages[@]}"; do
		ver=${want[$pkg]}
		integrity=$(fetch "$pkg" "$ver")
		mkdir -p "$new/${dir[$pkg]}"
		local licence
		licence=$(cd "$tmp/${dir[$pkg]}/package" && npm pkg get license --loglevel=error | tr -d '"')
		printf '\npackage %s %s %s %s\n' "$pkg" "$ver" "$licence" "$integrity" >>"$new/VERSIONS"
		for f in ${files[$pkg]}; do
			cp "$tmp/${dir[$pkg]}/package/$f" "$new/${dir[$pkg]}/"
			(cd "$new" && sha256sum "${dir[$pkg]}/$(basename "$f")") >>"$new/VERSIONS"
		done
		echo "$pkg@$ver ($licence): ${files[$pkg]}"
	done

	for pkg in "${packages[@]}"; do rm -rf "${vendor:?}/${dir[$pkg]}"; done
	mkdir -p "$vendor"
	cp -R "$new"/. "$vendor"/
	echo "static/vendor/ updated; VERSIONS records the versions and hashes."
}

case ${1:-} in
check) [[ $# -eq 1 ]] || usage; cmd_check ;;
update) shift; [[ $# -le 3 ]] || usage; cmd_update "$@" ;;
*) usage ;;
esac
