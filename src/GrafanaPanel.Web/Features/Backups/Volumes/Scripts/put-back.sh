# Puts a volume's old content back after a restore's upload failed (see VolumeContent.ReplaceAsync).
# $0 the trash folder move-aside.sh filled, $1 the volume's mount. Everything at the top of the volume but the trash
# folder (what the upload wrote, whatever it is: rm -rf follows no link) is deleted, then every entry of the trash
# folder is moved back to the top (renames only) and the trash folder removed.
set -e
find "$1" -mindepth 1 -maxdepth 1 ! -path "$0" -exec rm -rf {} +
find "$0" -mindepth 1 -maxdepth 1 -exec sh -c 'mv -- "$@" "$0"' "$1" {} +
rmdir -- "$0"
