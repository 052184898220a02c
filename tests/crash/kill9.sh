#!/bin/bash
# SPDX-License-Identifier: MIT
# kill -9 the real xenpmem CLI at random moments of a loop of operations;
# the namespace must always check clean and match the completed-operations
# log. The driver is kill9.py (python3).
# usage: kill9.sh PATH/TO/xenpmem [--kills N] [--seed N] [--size MiB] [--keep]
# (format 2.0: --align 2M, a Xen management area, UUID owners)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
[ $# -ge 1 ] || { echo "usage: $0 XENPMEM [options]" >&2; exit 2; }
exec python3 "$here/kill9.py" "$@"
