#!/bin/sh
# Last LocalStack ready hook: says which services answer, so `docker compose
# logs localstack` shows at a glance that the stack is ready for
# `make deploy-local`.
set -eu
curl -fsS http://localhost:4566/_localstack/health || true
echo
echo "logpipe: LocalStack ready (deploy with: make deploy-local)"
