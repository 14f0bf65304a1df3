#!/bin/bash
# hastack: databases and app users of a hastack_mysql_replica_set, run on the primary over SSM
# Run Command (they replicate to every member). Each user's password is read here from its
# Parameter Store SecureString; none travels in this script, its parameters or its output.
# Removing a database from the configuration never drops it (data outlives configuration).
set -euo pipefail
# Parameter Store throttles and sometimes answers 5xx; the CLI's default of 3 attempts can run
# out under load, so retry longer (standard mode: exponential backoff with jitter).
export AWS_RETRY_MODE=standard AWS_MAX_ATTEMPTS=10
REGION='@REGION@'
DATABASES='@DATABASES@'
DROP_USERS='@DROP_USERS@'
# One user per line: name database privileges(comma-separated) parameter
USERS=$(base64 -d <<'HASTACK_USERS'
@USERS_B64@
HASTACK_USERS
)
log() { echo "hastack-mysql-users: $*"; }
for db in $DATABASES; do
  mariadb -e "CREATE DATABASE IF NOT EXISTS \`$db\`"
done
if [ -n "$USERS" ]; then
  while read -r name db privileges param; do
    [ -n "$name" ] || continue
    pw=$(aws ssm get-parameter --region "$REGION" --name "$param" --with-decryption --query Parameter.Value --output text)
    p=${privileges//,/, }
    p=${p//_/ }
    mariadb --loose-skip-print-query-on-error <<SQL
CREATE USER IF NOT EXISTS '$name'@'%' IDENTIFIED BY '$pw';
ALTER USER '$name'@'%' IDENTIFIED BY '$pw';
REVOKE ALL PRIVILEGES, GRANT OPTION FROM '$name'@'%';
GRANT $p ON \`$db\`.* TO '$name'@'%';
SQL
    log "user $name on $db: $p"
  done <<< "$USERS"
fi
for name in $DROP_USERS; do
  mariadb -e "DROP USER IF EXISTS '$name'@'%'"
  log "user $name dropped"
done
