# Shared by build-deb.sh and build-rpm.sh (sourced, bash).

# The source tree is the working tree as it is now, committed or not, minus build output:
# with git, every tracked file that still exists plus every untracked file .gitignore does not
# exclude (so /build*/ and build-pkg/ stay out); without git, everything except build*/ and .git.
# (`meson dist` would only take committed files, and needs a configured build directory.)
pkg_source_files() {
	local top=$1
	if git -C "$top" rev-parse --is-inside-work-tree >/dev/null 2>&1; then
		git -C "$top" ls-files -z --cached --others --exclude-standard |
			while IFS= read -r -d '' f; do [ -e "$top/$f" ] && printf '%s\0' "$f"; done
	else
		(cd "$top" && find . -mindepth 1 \( -path './build*' -o -path ./.git \) -prune -o \
			\( -type f -o -type l \) -printf '%P\0')
	fi
}

# pkg_export TOP DEST: copies the source tree into DEST (created).
pkg_export() {
	local top=$1 dest=$2
	mkdir -p "$dest"
	pkg_source_files "$top" | tar -C "$top" --null --no-recursion -T - -cf - | tar -C "$dest" -xf -
}

# The version the build system declares: project(..., version: 'X').
pkg_meson_version() {
	sed -n "/^project(/,/)/s/.*version: *'\([^']*\)'.*/\1/p" "$1/meson.build" | head -1
}

pkg_die() { echo "${0##*/}: $*" >&2; exit 1; }
