# Lists what a restored volume holds (see VolumeContent.ListAsync).
# $1 the volume's mount, $2 a folder in it to leave out (or empty). Prints the number of entries (the top folder
# included) and the bytes of regular files, each inode once; the listing needs no file's content. What find or stat
# write to stderr (an entry it could not read) fails the check.
if [ -n "$2" ]; then
  find "$1" -path "$2" -prune -o -exec stat -c '%i %s %F' {} +
else
  find "$1" -exec stat -c '%i %s %F' {} +
fi | awk '{ n++ } $3 == "regular" && !seen[$1]++ { bytes += $2 } END { printf "%d %.0f\n", n, bytes }'
