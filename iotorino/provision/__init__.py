"""Production set-up from the inventory: broker credentials and ACL, certificates, InfluxDB users, the stack.

- `settings`: the one settings file of a deployment (deploy/stack.toml).
- `principals`: who may connect and what each may publish and subscribe to, from the inventory.
- `secrets`: generated passwords (0600 files, never in config), the hashed Mosquitto password file, rotation.
- `pki`: a development certificate authority, server and client certificates (`cryptography`).
- `render`: the generated configuration files (Mosquitto, InfluxDB, collectors, monitor, alert services,
  web application, Prometheus) and the services' command lines.
- `influx`: InfluxDB users, grants and retention policies against a running influxd.
- `provision`: all of the above into one directory, the input of both the compose file and `iotorino stack`.
- `stack`: the same configuration run as local processes, every service (`iotorino stack up --secure`).
- `backup`: `iotorino backup` / `iotorino restore`.
"""
