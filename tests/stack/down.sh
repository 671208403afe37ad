#!/usr/bin/env bash
# Stops the offline test stack and removes its containers, network and volumes (see compose.sh).
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
"$here/compose.sh" down --volumes --remove-orphans --timeout 20
