#!/bin/sh
# Entry point of the iotorino image: for every VAR_FILE in the environment
# (e.g. IOTORINO_MQTT_PASSWORD_FILE=/run/secrets/mqtt-collector) export VAR
# with the file's content, then run the command. Secrets reach the process
# through its environment, never through its command line or a config file.
set -eu
for name in $(env | sed -n 's/^\([A-Z0-9_]*\)_FILE=.*/\1/p'); do
  file=$(printenv "${name}_FILE")
  if [ ! -r "$file" ]; then
    echo "entrypoint: ${name}_FILE names $file, which cannot be read" >&2
    exit 2
  fi
  export "$name=$(cat "$file")"
  unset "${name}_FILE"
done
exec "$@"
