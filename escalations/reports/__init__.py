"""Reports: how the support operation did, per team and per week (DESIGN.md capability 10).

- `columns`: what every source of the rollup selects, and how a pass narrows it to some tickets;
- `sla`, `escalations`, `writeback`, `automation`: each figure as one set-based query over the history
  tables, selecting rows of the rollup (escalations.models.ReportFact);
- `handoffs`: where a breached ticket's time went, per stage and per assignee;
- `rollup`: the pass beat runs, rebuilding the rows of the tickets touched since the last one;
- `weeks`, `percentiles`, `read`: the page's reading of the rollup, in the viewer's weeks;
- `labels`, `sections`: the page's charts and tables, in words, from what `read` counted.
"""
