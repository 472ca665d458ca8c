"""What every phase's charts share: the chart type, default sizes and the colours with a meaning.
"""

from __future__ import annotations

import altair as alt

#: Chart width in pixels when a page does not stretch it.
CHART_WIDTH = 520
CHART_HEIGHT = 280


#: What the builders return: a chart, a layered chart or a facet (all top-level Altair charts).
AnyChart = alt.TopLevelMixin
#: Colours with a meaning, the same on every chart.
OK_COLOUR = "#2e7d32"
FAIL_COLOUR = "#c62828"
