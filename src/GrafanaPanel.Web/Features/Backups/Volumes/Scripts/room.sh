# Reads the room for a restore before anything is stopped (see VolumeContent.CheckRoomAsync).
# $1 $2, $3 $4, ...: a volume's mount and the bytes its new content needs at least. Prints, per volume, the mount,
# the free bytes of Docker's volume storage there, and (only when the free bytes are not enough) the bytes the
# volume's current content takes, which emptying it would give back; else "-".
while [ "$#" -ge 2 ]; do
  free=$(df -Pk "$1" | awk 'NR == 2 { print $4 }')
  if [ "$((free * 1024))" -ge "$2" ]; then
    used=-
  else
    used=$(du -sk "$1" 2>/dev/null | awk '{ print $1 * 1024 }')
  fi
  echo "$1 $((free * 1024)) $used"
  shift 2
done
