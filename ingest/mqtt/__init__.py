"""MQTT collector: subscribe, decode per topic format, validate, store durably, acknowledge."""
