"""The benchmarks' shared output: a table (what, config, value, goal) and optionally flat JSON."""
import json


def report(figures: dict, config: str, goals: dict, json_path=None):
  rows = [('what', 'config', 'value', 'goal')]
  rows += [(k, config, str(v), goals.get(k, '')) for k, v in figures.items()]
  widths = [max(len(r[i]) for r in rows) for i in range(4)]
  for r in rows:
    print('  '.join(c.ljust(w) for c, w in zip(r, widths)))
  if json_path:
    with open(json_path, 'w') as f:
      json.dump(figures, f, indent=2)
