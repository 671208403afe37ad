# Moves a volume's old content aside before a restore (see VolumeContent.ReplaceAsync).
# $0 the trash folder, $1 the volume's mount, $2 the bytes the new content needs beside the old, $3 (optional) the
# least it needs at all (the tar's size). With room for both, every entry at the top of the volume is renamed into
# the trash folder (batched; earlier leftovers move in too). Without, when the free space and what the old content
# takes (du) are less than $3, nothing is touched and the script exits 11; else the volume is emptied and it exits 10.
set -e
free=$(df -Pk "$1" | awk 'NR == 2 { print $4 }')
if [ "$((free * 1024))" -gt "$2" ]; then
  mkdir -- "$0"
  find "$1" -mindepth 1 -maxdepth 1 ! -path "$0" -exec sh -c 'mv -- "$@" "$0"' "$0" {} +
else
  if [ -n "$3" ]; then
    used=$(du -sk "$1" 2>/dev/null | awk '{ print $1 }')
    if [ "$(( (free + ${used:-0}) * 1024 ))" -lt "$3" ]; then
      exit 11
    fi
  fi
  find "$1" -mindepth 1 -maxdepth 1 -exec rm -rf {} +
  exit 10
fi
