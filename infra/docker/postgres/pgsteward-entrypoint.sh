#!/usr/bin/env bash
# Entrypoint of the dev server image. The official entrypoint sets the superuser's password
# only when it initialises a new data directory; a stack re-created over a kept data volume
# (pgsteward:keepDataOnDestroy) has a newly generated password that the old cluster does not
# know. So, before handing over, re-apply the password from POSTGRES_PASSWORD_FILE to an
# existing data directory, in single-user mode: no server runs yet, nothing listens, and the
# statement goes in on stdin, never on a command line.
set -Eeuo pipefail

sync_superuser_password() {
	local pgdata="${PGDATA:-/var/lib/postgresql/data}"
	# A new cluster: the official entrypoint sets the password itself.
	[ -s "$pgdata/PG_VERSION" ] || return 0
	[ -n "${POSTGRES_PASSWORD_FILE:-}" ] || return 0
	local user="${POSTGRES_USER:-postgres}" password
	password="$(< "$POSTGRES_PASSWORD_FILE")"
	# The stack generates letters and digits only; anything else is not ours to quote.
	if ! [[ "$password" =~ ^[A-Za-z0-9]{16,}$ && "$user" =~ ^[a-z_][a-z0-9_]*$ ]]; then
		echo 'pgsteward-entrypoint: unexpected superuser name or password format; not syncing the password' >&2
		return 1
	fi
	# log_min_error_statement=panic: an error never echoes the statement (and so the password).
	printf 'ALTER ROLE "%s" PASSWORD '\''%s'\''\n' "$user" "$password" \
		| postgres --single -D "$pgdata" -c log_min_error_statement=panic -c password_encryption=scram-sha-256 postgres > /dev/null
	echo 'pgsteward-entrypoint: superuser password re-applied to the existing data directory' >&2
}

if [ "${1:-}" = '--sync-superuser-password' ]; then
	sync_superuser_password
	exit 0
fi

if [ "${1:-}" = 'postgres' ]; then
	if [ "$(id -u)" = '0' ]; then
		# The data directory belongs to postgres, which also owns the password file (0400).
		gosu postgres "${BASH_SOURCE[0]}" --sync-superuser-password
	else
		sync_superuser_password
	fi
fi

exec docker-entrypoint.sh "$@"
