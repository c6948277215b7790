#!/bin/sh
# LocalStack ready hook: the Secrets Manager secret the functions read their
# Cassandra credentials from (LOGPIPE_CASSANDRA_CREDENTIALS_SECRET_ARN), in
# the {"username": ..., "password": ...} shape of a real deployment.
#
# ScyllaDB and Cassandra in docker-compose.yml run without authentication,
# so these are the image defaults; the point is to exercise the same
# Secrets Manager path that Amazon Keyspaces and secured clusters use.
set -eu

name="${LOGPIPE_CASSANDRA_SECRET_NAME:-logpipe/cassandra}"
username="${LOGPIPE_LOCAL_CASSANDRA_USERNAME:-cassandra}"
password="${LOGPIPE_LOCAL_CASSANDRA_PASSWORD:-cassandra}"

if awslocal secretsmanager describe-secret --secret-id "$name" >/dev/null 2>&1; then
    echo "logpipe: secret $name already exists"
else
    awslocal secretsmanager create-secret \
        --name "$name" \
        --description "logpipe local Cassandra credentials" \
        --secret-string "{\"username\":\"$username\",\"password\":\"$password\"}" >/dev/null
    echo "logpipe: created secret $name"
fi
