#!/bin/bash
# InfluxDB's first start only: the influxdb image runs the executable *.sh files of
# /docker-entrypoint-initdb.d once, after its setup (org data2ai, bucket training, operator token),
# with the influx CLI already signed in as the operator.
#
# Creates a token that can only read the training bucket and writes it to the influxdb_grafana_token
# volume (mounted here at the influxdb user's home, in Grafana read-only at /etc/grafana/influxdb).
# Grafana's InfluxDB data source reads it with $__file{...}: learners who query InfluxDB through
# Grafana never hold the operator token. The token is never printed.
set -euo pipefail

token_dir=${GRAFANA_TOKEN_DIR:-/home/influxdb}
org=${DOCKER_INFLUXDB_INIT_ORG:?DOCKER_INFLUXDB_INIT_ORG is required}
bucket=${DOCKER_INFLUXDB_INIT_BUCKET:?DOCKER_INFLUXDB_INIT_BUCKET is required}

# The first value of a key in the CLI's JSON (one key per line): for a bucket listing, "id" is
# the bucket's own.
first_json_value() { sed -n "s/^[[:space:]]*\"$1\":[[:space:]]*\"\([^\"]*\)\".*/\1/p;T;q"; }

buckets=$(influx bucket list --org "$org" --name "$bucket" --json)
bucket_id=$(first_json_value id <<<"$buckets")
if [ -z "$bucket_id" ]; then
	echo "10-grafana-token.sh: bucket $bucket not found in org $org" >&2
	exit 1
fi

created=$(influx auth create --org "$org" --read-bucket "$bucket_id" \
	--description "grafana: read-only, bucket $bucket" --json)
token=$(first_json_value token <<<"$created")
if [ -z "$token" ]; then
	echo "10-grafana-token.sh: influx auth create returned no token" >&2
	exit 1
fi

# Grafana runs as another user: it needs to read the file (the volume holds nothing else secret).
chmod 0755 "$token_dir"
umask 022
printf '%s' "$token" > "$token_dir/grafana-token.tmp"
mv "$token_dir/grafana-token.tmp" "$token_dir/grafana-token"
echo "10-grafana-token.sh: wrote Grafana's read-only token for bucket $bucket"
