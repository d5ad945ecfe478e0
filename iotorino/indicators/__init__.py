"""Air-quality and noise indicators by the law's rules: pure functions over hourly values and readings.

- `limits`: the limit values, thresholds, validity rules and index bands of
  `schemas/air_quality_limits.yaml` (an amendment is an edit there, not code);
- `air`: validity-aware hourly values, daily means, annual statistics,
  year-to-date exceedance counts, percentiles, allowances left, projections;
- `eaqi`: the European Air Quality Index per hour;
- `noise`: L_day, L_evening, L_night, L_den (D.Lgs. 194/2005) and the DPCM
  14/11/1997 day and night L_Aeq, by energetic averaging.

No I/O beyond reading the data file, and nothing imported from outside
`iotorino.core`: the exports and the alert evaluator call these. Every figure is
indicative: the street units are low-cost sensors, not reference stations.
Definitions and citations: docs/indicators.md.
"""

# What every published indicator is, in the directives' terms (Italian first).
QUALITY_LABEL = "indicativo, non validato / indicative, not validated"
