#!/bin/bash
# Keeps the docs, linuxguard(8), linuxguard.conf(5) and the shipped agent.conf true: every flag,
# environment variable, config key, command and exit status the binary knows is documented in each
# place a user looks for it. The lists come from the binary itself, so a new setting without docs fails.
# The README stays short and links the documents; its links and theirs must resolve.
set -u
. "$(dirname "$0")/../lib/tap.sh"
LG=${1:?usage: test-docs.sh linuxguard SOURCE-ROOT SETTINGS-TABLE}
SRC=${2:?usage: test-docs.sh linuxguard SOURCE-ROOT SETTINGS-TABLE}
TABLE=${3:?usage: test-docs.sh linuxguard SOURCE-ROOT SETTINGS-TABLE}
help=$("$LG" start --help)
CONFIG_DOC=docs/configuration.md    # the settings table: every flag, environment variable and key
OPERATIONS_DOC=docs/operations.md   # the commands and the exit status table
config_doc=$(cat "$SRC/$CONFIG_DOC")
operations_doc=$(cat "$SRC/$OPERATIONS_DOC")
# Where the defaults are compared with the settings table; another file with the same table works too.
SETTINGS_DOC=${SETTINGS_DOC:-$SRC/$CONFIG_DOC}
man8=$(cat "$SRC/man/linuxguard.8.scd")
man5=$(cat "$SRC/man/linuxguard.conf.5.scd")
conf=$(cat "$SRC/etc/agent.conf")

flags=$(printf '%s\n' "$help" | grep -oE '^  --[a-z-]+' | tr -d ' ' | sort -u)
envs=$(printf '%s\n' "$help" | grep -oE 'env: LINUXGUARD_[A-Z_]+' | cut -d' ' -f2 | sort -u)
keys=$(printf '%s\n' "$help" | grep -oE 'config: [a-z_.]+' | cut -d' ' -f2 | sort -u)
[ -n "$flags" ] && [ -n "$envs" ] && [ -n "$keys" ]
ok $? "start --help lists flags, environment variables and config keys"

for f in $flags; do
	contains "$man8" "*$f*" "linuxguard(8) documents $f"
	contains "$config_doc" "\`$f" "$CONFIG_DOC documents $f"
done
for e in $envs; do
	contains "$man8" "$e" "linuxguard(8) names $e"
	contains "$config_doc" "$e" "$CONFIG_DOC names $e"
done
for k in $keys; do
	contains "$man5" "*$k =*" "linuxguard.conf(5) documents $k"
	contains "$config_doc" "$k" "$CONFIG_DOC's table names $k"
	contains "$conf" "${k##*.} =" "agent.conf shows ${k} with its default"
done

commands=$("$LG" help | sed -n '/^Commands:/,/^$/p' | grep -oE '^  [a-z]+' | tr -d ' ')
[ -n "$commands" ]; ok $? "linuxguard help lists commands"
for c in $commands; do
	contains "$man8" "*$c*" "linuxguard(8) documents the $c command"
	contains "$operations_doc" "linuxguard $c" "$OPERATIONS_DOC shows linuxguard $c"
done

statuses=$(grep -oE '= [0-9]+,' "$SRC/src/core/exit-status.h" | grep -oE '[0-9]+')
for st in $statuses; do
	like "$operations_doc" "^\| $st \|" "$OPERATIONS_DOC's exit status table has $st"
	like "$man8" "^\|  $st\$" "linuxguard(8)'s exit status table has $st"
done

# Defaults and ranges: each documented default is the settings table's, each integer range too. The
# table comes from the library itself (settings-table prints it), so changing a default in src/core/
# without the docs fails here.
norm() { # a documented default as one comparable word: no markup, quotes, brackets or spaces; on/off as bools
	local s
	s=$(printf '%s' "$1" | tr -d '*`"[] ' | tr 'A-Z' 'a-z')
	s=${s#_}
	s=${s%_}
	case $s in on) s=true ;; off) s=false ;; esac
	printf '%s' "$s"
}
leading_default() { # the default at the start of a text, without the explanation after it
	local t=${1#[\`*]}
	case $t in
	\[*) printf '%s]' "${t%%]*}" ;;
	*) printf '%s' "$1" | sed -E 's/(\.( |$)|, |; | \().*//' ;;
	esac
}
man5_entry() { # the paragraph of *KEY =* in linuxguard.conf(5), on one line
	awk -v k="*$1 =*" 'index($0, k) == 1 { p = 1 } p && /^$/ { exit } p' "$SRC/man/linuxguard.conf.5.scd" |
		tr '\n\t' '  ' | tr -s ' '
}
doc_row() { # the first row of the settings table naming the key, else the flag, else the variable
	local rows
	rows=$(grep '^|' "$SETTINGS_DOC")
	if [ "$4" != - ]; then
		printf '%s\n' "$rows" | grep -F -m1 "\`$4\`"
	elif [ "$2" != - ]; then
		printf '%s\n' "$rows" | grep -E -m1 "\`--$2[=\`[]"
	else
		printf '%s\n' "$rows" | grep -F -m1 "\`$3\`"
	fi
}

table=$("$TABLE")
[ "$(printf '%s\n' "$table" | wc -l)" -gt 30 ]
ok $? "settings-table prints the settings table"
while IFS=$'\t' read -r name flag env key type def min max wording; do
	# The API URL's default is a build option (-Ddefault_api_url); the docs name the option instead.
	[ "$name" = api_url ] && continue
	want=
	if [ "$def" != - ]; then
		want=$(norm "$def")
	elif [ "$wording" = - ]; then
		want=none
	fi

	# A default worded otherwise (conditional, or with a fallback) must still name the value; a plain one
	# must be it.
	agrees() { # DOCUMENTED-DEFAULT-TEXT
		if [ "$wording" = - ]; then
			[ "$(norm "$(leading_default "$1")")" = "$want" ]
		else
			case $(norm "$(printf '%s' "$1" | sed -E 's/\. .*//')") in *"$want"*) true ;; *) false ;; esac
		fi
	}

	row=$(doc_row "$name" "$flag" "$env" "$key")
	[ -n "$row" ]
	ok $? "$(basename "$SETTINGS_DOC")'s settings table has a row for $name"
	if [ -n "$want" ] && [ -n "$row" ]; then
		cell=$(printf '%s\n' "$row" | awk -F'|' '{ print $(NF - 1) }' | sed -E 's/^ +| +$//g')
		agrees "$cell"
		ok $? "$(basename "$SETTINGS_DOC") gives $name the table's default, $want"
	fi

	[ "$key" = - ] && continue
	entry=$(man5_entry "$key")
	if [ -n "$want" ]; then
		case $entry in *"Default: "*) agrees "${entry#*Default: }" ;; *) false ;; esac
		ok $? "linuxguard.conf(5) gives $key the table's default, $want"
	fi
	if [ "$type" = uint ]; then
		contains "$entry" "$min to $max" "linuxguard.conf(5) gives $key the table's range, $min to $max"
	fi
done <<<"$table"

# Every relative link resolves from the file that holds it; none is absolute. The README links the
# documents the checks above read, so what they prove is reachable from the front door.
for doc in README.md $(cd "$SRC" && echo docs/*.md); do
	links=$(cd "$SRC" && grep -oE '\]\([^)]+\)' "$doc" | sed -E 's/^\]\(//; s/\)$//; s/#.*//')
	for l in $links; do
		case $l in http://* | https://* | mailto:* | "") continue ;; esac
		case $l in /*) ok 1 "$doc links $l relatively"; continue ;; esac
		[ -e "$SRC/$(dirname "$doc")/$l" ]; ok $? "$doc: link $l resolves"
	done
done
for d in "$CONFIG_DOC" "$OPERATIONS_DOC"; do
	contains "$(cat "$SRC/README.md")" "]($d)" "README links $d"
done

done_testing
