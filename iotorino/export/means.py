"""Energetic means of sound levels for the hourly statistics: the catalogue's `average: energetic` rule.

A level L in dB(A) carries the energy 10^(L/10); an hour's equivalent level from
equally long LAeq readings is 10·lg(mean(10^(L/10))), never the arithmetic mean of
the decibels (60 and 70 dB make 67.4 dB, not 65). `rawstats` takes it as it takes an
arithmetic mean: the float64 sum of the hour's energies in time order from 0.0,
divided by the count, then back to decibels. Each energy is `10.0 ** (L / 10.0)`
and each level `10.0 * math.log10(E)`, by the C library's pow and log10 through
Python, as `iotorino.indicators.noise.energetic_mean` computes them, so the two
agree bit for bit; numpy's vectorised power is not used because its SIMD paths
may round the last bit differently on another CPU, and published bytes must not
depend on the machine.
"""

from __future__ import annotations

import math

import numpy as np


def energies(levels: np.ndarray) -> np.ndarray:
    """10^(L/10) of each level (dB); -inf gives 0.0 (an absent value adds nothing), overflow gives inf.

    Computed once per distinct level (readings repeat: they have one decimal), then spread back.
    """
    distinct, where = np.unique(levels, return_inverse=True)
    return np.array([_energy(level) for level in distinct.tolist()], dtype=np.float64)[where.reshape(-1)]


def levels(mean_energies: np.ndarray) -> np.ndarray:
    """10·lg of each mean energy, back in dB; NaN (an hour with no value) stays NaN, 0.0 gives -inf."""
    return np.array([_level(e) for e in mean_energies.tolist()], dtype=np.float64)


def _energy(level: float) -> float:
    try:
        return 10.0 ** (level / 10.0)
    except OverflowError:  # above ~3,080 dB: no sensor's value, but the store may hold anything
        return math.inf


def _level(energy: float) -> float:
    if energy > 0:
        return 10.0 * math.log10(energy)
    return -math.inf if energy == 0 else math.nan
