"""Edge collectors: each turns what it receives (MQTT messages, BLE advertisements) into `Reading`s."""
