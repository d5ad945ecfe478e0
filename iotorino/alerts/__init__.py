"""The city alert evaluator: threshold crossings on the street units' data as it arrives, one alert per episode.

`city` is the pure evaluator (readings in, alert updates out); `service` feeds
it from MQTT in its own process, publishes each alert retained under
`iotorino/alerts/city/...` (contract: `iotorino.core.alerts`) and lists them over HTTP.
"""
