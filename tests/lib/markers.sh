# Marker workloads for tests that follow an agent's events end to end (sourced after tap.sh): commands
# whose arguments are numbered markers, and checks that the agent reported each, once, in order.

# workload PREFIX FROM TO: runs /bin/true PREFIX-FROM ... PREFIX-TO; the agent reports every exec with
# its command line.
workload() { for ((i = $2; i <= $3; i++)); do /bin/true "$1-$i"; done; }

# markers PREFIX: the markers in stdin (text or a binary spool), first occurrence each, in order. The
# pattern reaches grep through a pipe, not its argv.
markers() { grep -aoE -f <(printf '%s-[0-9]+\n' "$1") | awk '!seen[$0]++'; }

# want_markers PREFIX N: PREFIX-1 ... PREFIX-N, one a line, what markers should print.
want_markers() { for ((i = 1; i <= $2; i++)); do echo "$1-$i"; done; }
