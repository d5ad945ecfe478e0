"""Line protocol encoding: escaping, types, tag order."""

from iotorino.core.lineprotocol import encode, encode_batch
from iotorino.core.reading import Reading


def test_tags_sorted_and_types_suffixed():
    reading = Reading("energy", {"school": "TO-SC-01", "meter": "M1"},
                      {"total_active_energy_import": 1234.5, "count": 3, "ok": True, "note": 'a "b"'}, 1_700_000_000_000_000_000)
    assert encode(reading) == (
        'energy,meter=M1,school=TO-SC-01 total_active_energy_import=1234.5,count=3i,ok=true,note="a \\"b\\"" '
        "1700000000000000000"
    )


def test_escaping_of_spaces_commas_and_equals():
    reading = Reading("my measure,x", {"a b": "c=d,e"}, {"f g": 1.0}, 5)
    assert encode(reading) == r"my\ measure\,x,a\ b=c\=d\,e f\ g=1.0 5"


def test_empty_tag_values_are_left_out():
    assert encode(Reading("m", {"a": ""}, {"v": 1.0}, 1)) == "m v=1.0 1"


def test_batch_is_newline_separated_utf8():
    body = encode_batch([Reading("m", {}, {"v": 1.0}, 1), Reading("m", {"s": "Città"}, {"v": 2.0}, 2)])
    assert body == "m v=1.0 1\nm,s=Città v=2.0 2".encode()
