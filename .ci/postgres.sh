#!/usr/bin/env bash
# Install PostgreSQL from Debian's packages, start a private cluster on localhost and create the
# database and role the calling-tree store conformance suite uses. Prints the DSN export line last.
# Needs root (apt-get, pg_createcluster). Safe to run again: every step checks what exists.
set -euo pipefail

PORT="${COACHGRAPH_PG_PORT:-5433}"
CLUSTER="${COACHGRAPH_PG_CLUSTER:-coachgraph}"
DB="${COACHGRAPH_PG_DB:-coachgraph}"
ROLE="${COACHGRAPH_PG_USER:-coachgraph}"
PASSWORD="${COACHGRAPH_PG_PASSWORD:-coachgraph}"

log() { echo "postgres.sh: $*" >&2; }

install_packages() {
  export DEBIAN_FRONTEND=noninteractive
  log "installing postgresql from Debian packages"
  apt-get update -qq >&2
  apt-get install -y -qq postgresql >&2
}

server_version() {
  ls /usr/lib/postgresql | sort -V | tail -n 1
}

start_cluster() {
  local version="$1"
  if ! pg_lsclusters -h | awk '{print $1" "$2}' | grep -qx "${version} ${CLUSTER}"; then
    log "creating cluster ${version}/${CLUSTER} on port ${PORT}"
    pg_createcluster "${version}" "${CLUSTER}" --port "${PORT}" >&2
  fi
  if ! pg_lsclusters -h | awk -v c="${CLUSTER}" '$2==c {print $4}' | grep -qx online; then
    log "starting cluster ${version}/${CLUSTER}"
    pg_ctlcluster "${version}" "${CLUSTER}" start >&2
  fi
}

psql_admin() {
  runuser -u postgres -- psql -p "${PORT}" -h /var/run/postgresql -v ON_ERROR_STOP=1 -qtA "$@"
}

create_role_and_db() {
  if [ -z "$(psql_admin -c "SELECT 1 FROM pg_roles WHERE rolname='${ROLE}'")" ]; then
    psql_admin -c "CREATE ROLE ${ROLE} LOGIN PASSWORD '${PASSWORD}'" >&2
  fi
  if [ -z "$(psql_admin -c "SELECT 1 FROM pg_database WHERE datname='${DB}'")" ]; then
    psql_admin -c "CREATE DATABASE ${DB} OWNER ${ROLE}" >&2
  fi
}

install_packages
VERSION="$(server_version)"
start_cluster "${VERSION}"
create_role_and_db
echo "export COACHGRAPH_PG_DSN=postgresql://${ROLE}:${PASSWORD}@localhost:${PORT}/${DB}"
