"""The fleet simulator (`iotorino simulate`): realistic telemetry for the whole inventory over MQTT.

`generator.iter_messages` is the pure part (inventory + seed + period ->
messages in time order); `publisher.simulate` paces them against the wall
clock and publishes them with QoS 1; `cli` gives both to the command line.
Fault kinds are documented in `faults`.
"""

from iotorino.simulate.generator import SimMessage, count_messages, iter_messages
from iotorino.simulate.publisher import SimSummary, simulate

__all__ = ["SimMessage", "SimSummary", "count_messages", "iter_messages", "simulate"]
