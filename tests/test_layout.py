"""The layout's rules (DESIGN.md "Layout"), read from the source with ast, importing nothing.

Library = every module under wavenet_jax/ except wavenet_jax/apps/ and the entry points
(wavenet_jax/cli.py, __main__.py: the command line, which dispatches to the apps). The
library imports no application, no entry point and not the top-level `data` folder; an
application imports no other application (apps are leaves: what two share is the library's);
data/ imports no application; common/ (the bottom) imports nothing of the package outside
itself; no two folders (wavenet_jax/<subpackage>, wavenet_jax/apps, data) import each other,
directly or round a longer cycle; no module is over 400 lines, launch.py over 100. Every
import counts, also those inside functions, relative ones resolved, and
`importlib.import_module('x')` with a literal name.
"""
import ast
import collections
import pathlib

ROOT = pathlib.Path(__file__).resolve().parent.parent
SCANNED = ('wavenet_jax', 'data')  # the folders whose imports are checked
LINE_LIMIT = 400
LINE_LIMITS = {'launch.py': 100}  # files with their own limit

Import = collections.namedtuple('Import', 'path line name')  # name: absolute, dotted


def read_sources(root=ROOT):
  """{path relative to root ('wavenet_jax/models/wavenet.py'): source} of every scanned module."""
  return {p.relative_to(root).as_posix(): p.read_text(encoding='utf-8')
          for top in SCANNED for p in sorted((root / top).rglob('*.py'))}


def _module_parts(path):
  """'wavenet_jax/models/wavenet.py' -> ([wavenet_jax, models, wavenet], False); a package's
  __init__.py -> (its package's parts, True)."""
  parts = path[:-len('.py')].split('/')
  if parts[-1] == '__init__':
    return parts[:-1], True
  return parts, False


def imports_of(path, source):
  """Every import in the module at `path` as Imports of absolute dotted names.

  `from a.b import c` gives a.b.c (c may be a module or a name in a.b: both name the folder
  a.b is in, and `from wavenet_jax import apps` is an import of wavenet_jax.apps).
  """
  parts, is_package = _module_parts(path)
  package = parts if is_package else parts[:-1]
  found = []
  for node in ast.walk(ast.parse(source, filename=path)):
    if isinstance(node, ast.Import):
      found += [Import(path, node.lineno, alias.name) for alias in node.names]
    elif isinstance(node, ast.ImportFrom):
      if node.level:  # relative: level 1 is this module's package, 2 its parent, ...
        base = package[:len(package) - node.level + 1]
        module = '.'.join(base + ([node.module] if node.module else []))
      else:
        module = node.module
      found += [Import(path, node.lineno, f'{module}.{alias.name}' if alias.name != '*' else module)
                for alias in node.names]
    elif (isinstance(node, ast.Call) and node.args and isinstance(node.args[0], ast.Constant)
          and isinstance(node.args[0].value, str)
          and (getattr(node.func, 'attr', None) == 'import_module'
               or getattr(node.func, 'id', None) in ('import_module', '__import__'))):
      found.append(Import(path, node.lineno, node.args[0].value))
  return sorted(found, key=lambda imp: imp.line)  # ast.walk goes breadth first


def subpackages(sources):
  """The folders of wavenet_jax/ that are packages: {'apps', 'models', ...}."""
  return {p.split('/')[1] for p in sources
          if p.startswith('wavenet_jax/') and p.count('/') == 2 and p.endswith('/__init__.py')}


def folder_of_name(name, packages):
  """The folder a dotted name lives in: 'data', 'wavenet_jax/<subpackage>', 'wavenet_jax'
  (modules at the package's top) or None (not ours: the standard library, jax, configs...)."""
  parts = name.split('.')
  if parts[0] == 'data':
    return 'data'
  if parts[0] != 'wavenet_jax':
    return None
  if len(parts) > 1 and parts[1] in packages:
    return f'wavenet_jax/{parts[1]}'
  return 'wavenet_jax'


def folder_of_path(path, packages):
  return folder_of_name('.'.join(_module_parts(path)[0]), packages)


ENTRY_POINTS = ('wavenet_jax/cli.py', 'wavenet_jax/__main__.py')  # above the apps


def _is_application(name):
  return name == 'wavenet_jax.apps' or name.startswith('wavenet_jax.apps.')


def _is_entry_point(name):
  return name in ('wavenet_jax.cli', 'wavenet_jax.__main__') or name.startswith(('wavenet_jax.cli.', 'wavenet_jax.__main__.'))


def _application_of(name):
  """'wavenet_jax.apps.train.evaluate' -> 'wavenet_jax.apps.train'; None for the apps package."""
  parts = name.split('.')
  return '.'.join(parts[:3]) if _is_application(name) and len(parts) > 2 else None


def _is_data(name):
  return name == 'data' or name.startswith('data.')


def layer_violations(sources):
  """'path:line imports name (why)' for each import across the layers' rules."""
  out = []
  for path, source in sources.items():
    in_apps = path.startswith('wavenet_jax/apps/')
    in_library = path.startswith('wavenet_jax/') and not in_apps and path not in ENTRY_POINTS
    in_data = path.startswith('data/')
    in_common = path.startswith('wavenet_jax/common/')
    here = '.'.join(_module_parts(path)[0])
    for imp in imports_of(path, source):
      where = f'{path}:{imp.line} imports {imp.name}'
      if in_library and (_is_application(imp.name) or _is_entry_point(imp.name)):
        out.append(f'{where} (a library module imports an application)')
      elif in_apps and _application_of(imp.name) not in (None, here):
        out.append(f'{where} (an application imports another; move what they share into the library)')
      elif in_common and imp.name.startswith('wavenet_jax.') and not imp.name.startswith('wavenet_jax.common'):
        out.append(f'{where} (common/ is the bottom layer: it imports nothing else of the package)')
      elif in_library and _is_data(imp.name):
        out.append(f'{where} (the library imports the top-level data folder: the user\'s prepare '
                   'scripts; corpus code lives in wavenet_jax/datasets)')
      elif in_data and _is_application(imp.name):
        out.append(f'{where} (data/ imports an application)')
  return out


def folder_graph(sources):
  """{folder: {folder it imports: [the first Import that does]}} between different folders."""
  packages = subpackages(sources)
  graph = collections.defaultdict(dict)
  for path, source in sorted(sources.items()):
    here = folder_of_path(path, packages)
    for imp in imports_of(path, source):
      there = folder_of_name(imp.name, packages)
      if there and there != here:
        graph[here].setdefault(there, imp)
  return graph


def folder_cycles(sources):
  """One line per cycle of folders importing each other: each edge with the import making it.

  Strongly connected components (Tarjan); in each, the shortest cycle through its first
  folder is shown, which names at least one import to remove.
  """
  graph = folder_graph(sources)
  index, low, stack, on_stack, components = {}, {}, [], set(), []

  def connect(v):
    index[v] = low[v] = len(index)
    stack.append(v)
    on_stack.add(v)
    for w in sorted(graph.get(v, {})):
      if w not in index:
        connect(w)
        low[v] = min(low[v], low[w])
      elif w in on_stack:
        low[v] = min(low[v], index[w])
    if low[v] == index[v]:
      component = []
      while True:
        w = stack.pop()
        on_stack.discard(w)
        component.append(w)
        if w == v:
          break
      if len(component) > 1:
        components.append(sorted(component))

  for v in sorted(set(graph) | {w for edges in graph.values() for w in edges}):
    if v not in index:
      connect(v)

  out = []
  for component in sorted(components):
    start, members = component[0], set(component)
    paths, queue = {start: [start]}, collections.deque([start])
    cycle = None
    while queue and cycle is None:  # breadth first: the shortest way back to `start`
      v = queue.popleft()
      for w in sorted(graph.get(v, {})):
        if w == start:
          cycle = paths[v] + [start]
          break
        if w in members and w not in paths:
          paths[w] = paths[v] + [w]
          queue.append(w)
    edges = [f'{a} -> {b} ({graph[a][b].path}:{graph[a][b].line} imports {graph[a][b].name})'
             for a, b in zip(cycle, cycle[1:])]
    out.append(f'folders {", ".join(component)} import each other: ' + '; '.join(edges))
  return out


def oversized(sources):
  """'path: N lines (limit L)' for each module over its limit."""
  out = []
  for path, source in sorted(sources.items()):
    limit = LINE_LIMITS.get(path, LINE_LIMIT)
    count = len(source.splitlines())
    if count > limit:
      out.append(f'{path}: {count} lines (limit {limit})')
  return out


def _report(problems):
  return '\n'.join(problems)


def test_library_imports_no_application_and_no_data():
  problems = [p for p in layer_violations(read_sources()) if not p.split(':')[0].startswith('data/')]
  assert not problems, _report(problems)


def test_data_imports_no_application():
  problems = [p for p in layer_violations(read_sources()) if p.split(':')[0].startswith('data/')]
  assert not problems, _report(problems)


def test_no_import_cycle_between_folders():
  problems = folder_cycles(read_sources())
  assert not problems, _report(problems)


def test_modules_fit_their_line_limits():
  sources = read_sources()
  sources['launch.py'] = (ROOT / 'launch.py').read_text(encoding='utf-8')
  problems = oversized(sources)
  assert not problems, _report(problems)


def test_the_checks_report_what_breaks_the_rules():
  """The checker on a made-up tree: each rule broken, each break reported, the rest quiet."""
  sources = {
      'wavenet_jax/__init__.py': '',
      'wavenet_jax/apps/__init__.py': '',
      'wavenet_jax/apps/run.py': 'from wavenet_jax.models import net\n',
      'wavenet_jax/models/__init__.py': '',
      # inside a function, and relative: both count
      'wavenet_jax/models/net.py': 'def f():\n  from ..apps import run\n  return run\n',
      'wavenet_jax/input/__init__.py': 'from . import audio\n',
      'wavenet_jax/input/audio.py': 'import numpy\nfrom wavenet_jax import generation\n',
      'wavenet_jax/generation/__init__.py': '',
      'wavenet_jax/generation/scan.py': (
          'import importlib\nimport data\n'
          "def g():\n  return importlib.import_module('wavenet_jax.input.audio')\n"),
      'data/__init__.py': '',
      'data/demo.py': 'from wavenet_jax import apps\n',
      'data/folder.py': 'from data import demo\nfrom . import demo as again\n',
      'launch.py': 'x = 1\n' * 101,
      'wavenet_jax/models/big.py': '\n' * 401,
      'wavenet_jax/models/fits.py': '\n' * 400,
  }
  layers = layer_violations(sources)
  assert layers == [
      'wavenet_jax/models/net.py:2 imports wavenet_jax.apps.run (a library module imports an application)',
      'wavenet_jax/generation/scan.py:2 imports data (the library imports the top-level data folder: '
      'the user\'s prepare scripts; corpus code lives in wavenet_jax/datasets)',
      'data/demo.py:1 imports wavenet_jax.apps (data/ imports an application)',
  ], layers
  assert layer_violations({'wavenet_jax/apps/x.py': 'import data.prepare\n'}) == []
  # Apps are leaves below the entry points; common/ is the bottom.
  leaves = {
      'wavenet_jax/apps/eval.py': 'from wavenet_jax.apps.run import x\nfrom . import run\nfrom wavenet_jax.apps import eval\n',
      'wavenet_jax/cli.py': 'from wavenet_jax.apps import run\n',
      'wavenet_jax/common/files.py': 'from wavenet_jax.common import errors\nfrom wavenet_jax.kinds import registry\n',
      'wavenet_jax/models/cmd.py': 'from wavenet_jax import cli\n',
  }
  assert layer_violations(leaves) == [
      'wavenet_jax/apps/eval.py:1 imports wavenet_jax.apps.run.x (an application imports another; move what '
      'they share into the library)',
      'wavenet_jax/apps/eval.py:2 imports wavenet_jax.apps.run (an application imports another; move what '
      'they share into the library)',
      'wavenet_jax/common/files.py:2 imports wavenet_jax.kinds.registry (common/ is the bottom layer: it '
      'imports nothing else of the package)',
      'wavenet_jax/models/cmd.py:1 imports wavenet_jax.cli (a library module imports an application)',
  ], layer_violations(leaves)
  # data -> apps -> models -> apps is no cycle through data: two cycles, not one.
  assert folder_cycles(sources) == [
      'folders wavenet_jax/apps, wavenet_jax/models import each other: '
      'wavenet_jax/apps -> wavenet_jax/models (wavenet_jax/apps/run.py:1 imports wavenet_jax.models.net); '
      'wavenet_jax/models -> wavenet_jax/apps (wavenet_jax/models/net.py:2 imports wavenet_jax.apps.run)',
      'folders wavenet_jax/generation, wavenet_jax/input import each other: '
      'wavenet_jax/generation -> wavenet_jax/input (wavenet_jax/generation/scan.py:4 imports '
      'wavenet_jax.input.audio); '
      'wavenet_jax/input -> wavenet_jax/generation (wavenet_jax/input/audio.py:2 imports '
      'wavenet_jax.generation)',
  ], folder_cycles(sources)
  # a longer cycle is found too
  ring = {'wavenet_jax/__init__.py': '', 'wavenet_jax/models/__init__.py': '',
          'wavenet_jax/input/__init__.py': '', 'wavenet_jax/training/__init__.py': '',
          'wavenet_jax/models/a.py': 'from wavenet_jax.input import b\n',
          'wavenet_jax/input/b.py': 'import os\nfrom wavenet_jax.training import c\n',
          'wavenet_jax/training/c.py': 'from wavenet_jax.models import a\n'}
  assert folder_cycles(ring) == [
      'folders wavenet_jax/input, wavenet_jax/models, wavenet_jax/training import each other: '
      'wavenet_jax/input -> wavenet_jax/training (wavenet_jax/input/b.py:2 imports wavenet_jax.training.c); '
      'wavenet_jax/training -> wavenet_jax/models (wavenet_jax/training/c.py:1 imports wavenet_jax.models.a); '
      'wavenet_jax/models -> wavenet_jax/input (wavenet_jax/models/a.py:1 imports wavenet_jax.input.b)',
  ], folder_cycles(ring)
  assert oversized(sources) == ['launch.py: 101 lines (limit 100)',
                                'wavenet_jax/models/big.py: 401 lines (limit 400)']
  assert [i.name for i in imports_of('wavenet_jax/input/__init__.py', 'from . import audio')] == [
      'wavenet_jax.input.audio']
