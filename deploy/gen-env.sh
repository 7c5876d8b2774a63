#!/bin/sh
# Prints a deploy/.env with fresh random secrets for compose.yaml:
#   deploy/gen-env.sh > deploy/.env && chmod 600 deploy/.env
# Run it once: changing JWT_SECRET later logs everybody out (or rotate it, docs/security.md).
set -eu
rand() { od -An -N"$1" -tx1 /dev/urandom | tr -d ' \n'; }
echo "JWT_SECRET=$(rand 32)"
echo "POSTGRES_PASSWORD=$(rand 24)"
echo "S3_ACCESS_KEY_ID=justus$(rand 6)"
echo "S3_SECRET_ACCESS_KEY=$(rand 24)"
