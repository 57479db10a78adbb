#!/bin/bash
# Keeps the docs, linuxguard(8), linuxguard.conf(5) and the shipped agent.conf true: every flag,
# environment variable, config key, command and exit status the binary knows is documented in each
# place a user looks for it. The lists come from the binary itself, so a new setting without docs fails.
# The README stays short and links the documents; its links and theirs must resolve.
set -u
. "$(dirname "$0")/../lib/tap.sh"
LG=${1:?usage: test-docs.sh linuxguard SOURCE-ROOT}
SRC=${2:?usage: test-docs.sh linuxguard SOURCE-ROOT}
help=$("$LG" start --help)
CONFIG_DOC=docs/configuration.md    # the settings table: every flag, environment variable and key
OPERATIONS_DOC=docs/operations.md   # the commands and the exit status table
config_doc=$(cat "$SRC/$CONFIG_DOC")
operations_doc=$(cat "$SRC/$OPERATIONS_DOC")
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
