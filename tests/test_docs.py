"""Every reference in the repository's prose resolves (docs/architecture.md says where things are).

Prose = the docstrings (module, class, function) and comments of the .py files under
wavenet_jax/, data/, benchmarks/, configs/ and launch.py, and the text of README.md and
docs/*.md. Code lines (strings such as a flag's help, error messages) are not prose. The
sources are read as text, with ast and tokenize: nothing of the project is imported.

A reference is a run of word characters joined by `.` and `/` (and a `#anchor`), not inside
a longer word, dotted chain or URL, and not touching `<`, `{`, `*`, `$` (placeholders such as
`eval_<split>.json`, `results.{csv,md}`); a path cut at the end of a line (`data/` then
`ljspeech.py`) is joined. The rules, one complaint each:

1. A file: a token ending in .py, .md, .ipynb or .toml resolves relative to the referring
   file's folder, wavenet_jax/ or the repository root (`models/heads.py`, `launch.py`,
   `docs/performance.md`); a bare name (`layers.py`) is any file of that name. Not checked:
   a path whose first folder is not the repository's (`wavenet/model.py`: ibab's), a .py
   name in capitals (the placeholder `configs/X.py`), and the few names listed in
   EXTERNAL_FILES, PLACEHOLDER_FILES and OUTPUT_FILES.
2. An anchor: `FILE.md#anchor` names a heading of that file as GitHub anchors it (lowercase,
   punctuation but `-` and `_` dropped, spaces to `-`, a repeat numbered -1, -2...). So does a
   quoted section, `README "Heading"`, `README: "Heading"` or `FILE.md "Heading"`.
3. A markdown link `[text](target)` that is not a URL names a file or folder relative to
   the markdown file (as GitHub reads it), and its `#anchor` (or a bare `(#anchor)`) a heading.
4. A dotted name, `module.name[.attr]` or `path/module.name[.attr]`, whose module is one of
   ours, names a top-level def, class or assignment of that module (or a name it imports),
   and `.attr` an attribute of that class (methods, class attributes, fields, its bases'
   too; a class deriving from another project's, a flax module, also has EXTERNAL_ATTRS:
   `WaveNet.apply`). With a slash, the module is the path (found as in rule 1) when its
   first folder is a subpackage, `wavenet_jax` or a top folder of the repository
   (`training/run.open_run`; such a path alone, `apps/vocode`, must be a module). Without,
   the first match wins: a name the referring file imports as one of our modules
   (`evaluation.evaluate` in apps/train.py); `wavenet_jax.a.b` or `a.b` for a subpackage a
   (`datasets.prepare.resolver`); a module's file name anywhere in the package
   (`registry.Kind`, `vocoding.draw_chunks`: one module of that name must have it); a class
   of the package (`Kind.check`, `Run.evaluate`). Anything else (`np.x`, `jax.jit`,
   `config.model`) is not ours and not checked, nor is a first part in NOT_MODULES
   (`run.config` of a training/run.Run). A name that a module lacks but configs/*.py assign
   as a config key passes when its first part is a config section too (`generate.seed`,
   `train.batch_size`, `upsample.mode`).
"""
import ast
import collections
import io
import os
import pathlib
import re
import tokenize

ROOT = pathlib.Path(__file__).resolve().parent.parent
PROSE_FOLDERS = ('wavenet_jax', 'data', 'benchmarks', 'configs')  # whose .py files' prose is checked
PROSE_FILES = ('launch.py', 'README.md')  # and these, and docs/*.md
SKIPPED_DIRS = {'__pycache__', 'node_modules', 'build', 'dist', 'runs'}  # and hidden ones, *.egg-info
FILE_SUFFIXES = ('.py', '.md', '.ipynb', '.toml', '.sh')
EXTERNAL_FILES = {'h512_bo16.py', 'fastgen.py'}  # magenta's files, named bare
PLACEHOLDER_FILES = {'mine.py', 'x.py'}  # a user's own file in an example: configs/mine.py
OUTPUT_FILES = {'results.md', 'report.md'}  # what a sweep and the transfer study write
NOT_MODULES = {'run', 'self'}  # variables named like a module: run.config of a training/run.Run
EXTERNAL_ATTRS = {'apply', 'init', 'bind', 'setup', '__call__', 'replace', '_replace', '_fields'}

_TOKEN = re.compile(r'(?<![\w./<>{}*$~:@#\\-])'  # not inside a word, a chain, a URL, a placeholder
                    r'(?>([A-Za-z_][\w-]*(?:[./][\w-]+)*(?:#[\w-]+)?))'  # the whole chain, never shortened
                    r'(?!\.?[<{*$/\\])')  # not followed by a placeholder or a folder's slash
_LINK = re.compile(r'\[[^\]]*\]\(([^)\s]+)\)')
_QUOTED_SECTION = re.compile(r'(?<![\w/.-])((?:[\w.-]+/)*(?:README|[\w-]+\.md))(?:\.md)?:? +["\u201c]([^"\u201d]+)["\u201d]')
_CUT_PATH = re.compile(r'[\w.-]*\w/$')  # a path broken at the end of a line


# --- reading a tree


def read_tree(root=ROOT):
  """{path relative to root: text} of the repository's .py and .md files, '' for its other
  files (a reference needs only their existence)."""
  tree = {}
  for folder, dirs, files in os.walk(root):
    dirs[:] = sorted(d for d in dirs if d not in SKIPPED_DIRS and not d.startswith('.')
                     and not d.endswith('.egg-info'))
    for name in files:
      path = pathlib.Path(folder, name)
      key = path.relative_to(root).as_posix()
      tree[key] = path.read_text(encoding='utf-8') if name.endswith(('.py', '.md')) else ''
  return tree


def is_prose_file(path):
  return ((path.endswith('.py') and path.split('/')[0] in PROSE_FOLDERS) or path in PROSE_FILES
          or (path.startswith('docs/') and path.endswith('.md') and path.count('/') == 1))


def prose_of(path, text):
  """[(line number, text)] of a file's prose: a markdown file's lines; a Python file's
  docstrings (their source lines) and comments."""
  if path.endswith('.md'):
    lines = list(enumerate(text.splitlines(), 1))
  else:
    source, lines = text.splitlines(), []
    for node in ast.walk(ast.parse(text, filename=path)):
      if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)) and node.body:
        first = node.body[0]
        if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant) and isinstance(first.value.value, str):
          lines += [(n, source[n - 1]) for n in range(first.lineno, first.end_lineno + 1)]
    lines += [(t.start[0], t.string) for t in tokenize.generate_tokens(io.StringIO(text).readline)
              if t.type == tokenize.COMMENT]
    lines.sort()
  joined = []
  for i, (number, line) in enumerate(lines):
    if _CUT_PATH.search(line.rstrip()) and i + 1 < len(lines) and lines[i + 1][0] == number + 1:
      words = lines[i + 1][1].strip().lstrip('#').split()
      line = line.rstrip() + (words[0] if words else '')
    joined.append((number, line))
  return joined


# --- what the tree defines


class Index:
  """The tree's files and folders, its modules' names and classes, its config keys and the
  headings of its markdown."""

  def __init__(self, tree):
    self.tree = tree
    self.files = set(tree)
    self.dirs = {p.rsplit('/', i)[0] for p in tree for i in range(1, p.count('/') + 1)}
    self.tops = {p.split('/')[0] for p in tree if '/' in p}  # the repository's top folders
    self.subpackages = {p.split('/')[1] for p in tree if re.fullmatch(r'wavenet_jax/\w+/__init__\.py', p)}
    self._modules = {}
    self.basenames = collections.defaultdict(list)  # 'registry' -> ['wavenet_jax/kinds/registry.py']
    self.classes = collections.defaultdict(list)  # 'Kind' -> the modules defining a class Kind
    for p in sorted(tree):
      if p.startswith('wavenet_jax/') and p.endswith('.py'):
        name = p.rsplit('/', 1)[1][:-len('.py')]
        if name != '__init__':
          self.basenames[name].append(p)
        for cls in self.module(p)['classes']:
          self.classes[cls].append(p)
    self.config_keys = set()  # 'generate.seed', 'model.upsample.mode': what configs/*.py assign
    for p in tree:
      if p.startswith('configs/') and p.endswith('.py'):
        for node in ast.walk(ast.parse(tree[p])):
          if isinstance(node, ast.Assign):
            for target in node.targets:
              key = _chain(target)[1:]  # c.generate.seed -> generate.seed
              if key:
                self.config_keys.add('.'.join(key))
                for arg in getattr(node.value, 'args', ()):  # ConfigDict(dict(mode=...))
                  self.config_keys.update('.'.join(key + [sub]) for sub in _dict_keys(arg))
    self.config_sections = {part for key in self.config_keys for part in key.split('.')[:-1]}

  def is_config_key(self, token):
    """Whether token ('generate.seed', 'upsample.mode') is a run of a config key's parts."""
    return any(f'.{token}.' in f'.{key}.' for key in self.config_keys)

  def module(self, path):
    """{'names': its top-level names, 'classes': {class: (attributes, base names)},
    'imports': {name it binds: the module of ours it names}} of the module at path."""
    if path not in self._modules:
      names, classes, imports = set(), {}, {}
      tree = ast.parse(self.tree[path], filename=path)
      for node in tree.body:
        names |= _bound(node)
        if isinstance(node, ast.ClassDef):
          attrs = set().union(*[_bound(item) for item in node.body])
          classes[node.name] = (attrs, [ast.unparse(b).split('.')[-1] for b in node.bases])
      for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and not node.level:
          for alias in node.names:
            target = self.module_path(f'{node.module}.{alias.name}'.replace('.', '/'))
            if target:
              imports[alias.asname or alias.name] = target
        elif isinstance(node, ast.Import):
          for alias in node.names:
            target = self.module_path(alias.name.replace('.', '/'))
            if target and alias.asname:
              imports[alias.asname] = target
      self._modules[path] = {'names': names, 'classes': classes, 'imports': imports}
    return self._modules[path]

  def module_path(self, path):
    """'wavenet_jax/kinds/registry' -> its file (a package's __init__.py), or None."""
    return next((c for c in (path + '.py', path + '/__init__.py') if c in self.files), None)

  def headings(self, path):
    """The anchors of a markdown file's headings (those outside code blocks)."""
    anchors, seen, fenced = set(), collections.Counter(), False
    for line in self.tree.get(path, '').splitlines():
      if line.startswith('```'):
        fenced = not fenced
      m = re.match(r'#{1,6}\s+(.*?)\s*#*\s*$', line)
      if m and not fenced:
        anchor = anchor_of(m.group(1))
        anchors.add(f'{anchor}-{seen[anchor]}' if seen[anchor] else anchor)
        seen[anchor] += 1
    return anchors


def _chain(node):
  """c.data.augment.mode -> ['c', 'data', 'augment', 'mode']; [] for anything else."""
  parts = []
  while isinstance(node, ast.Attribute):
    parts.append(node.attr)
    node = node.value
  return [node.id] + parts[::-1] if isinstance(node, ast.Name) and parts else []


def _dict_keys(node):
  if isinstance(node, ast.Call) and getattr(node.func, 'id', None) == 'dict':
    return [k.arg for k in node.keywords if k.arg]
  if isinstance(node, ast.Dict):
    return [k.value for k in node.keys if isinstance(k, ast.Constant) and isinstance(k.value, str)]
  return []


def _bound(node):
  """The names a statement of a module's or class's body binds."""
  if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
    return {node.name}
  if isinstance(node, ast.Assign):
    return {n.id for t in node.targets for n in ast.walk(t) if isinstance(n, ast.Name)}
  if isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
    return {node.target.id}
  if isinstance(node, (ast.Import, ast.ImportFrom)):
    return {(a.asname or a.name).split('.')[0] for a in node.names}
  if isinstance(node, (ast.If, ast.Try, ast.With)):
    children = node.body + getattr(node, 'orelse', []) + getattr(node, 'finalbody', [])
    return set().union(*[_bound(child) for child in children])
  return set()


def anchor_of(heading):
  """GitHub's anchor of a heading: lowercase, punctuation but - and _ dropped, spaces -> -."""
  text = re.sub(r'\[([^\]]*)\]\([^)]*\)', r'\1', heading).strip().lower()
  return re.sub(r'[^\w\- ]', '', text).replace(' ', '-')


# --- the checks


def stale_references(tree):
  """'path:line: reference (why)' for each reference in the prose of `tree` that does not resolve."""
  index = Index(tree)
  return [f'{path}:{number}: {problem}'
          for path in sorted(tree) if is_prose_file(path)
          for number, line in prose_of(path, tree[path])
          for problem in _line_problems(index, path, line)]


def _line_problems(index, path, text):
  here = path.rsplit('/', 1)[0] if '/' in path else ''
  problems = []
  if path.endswith('.md'):
    for target in _LINK.findall(text):
      if re.match(r'[a-z]+:', target):
        continue  # a URL
      file, _, anchor = target.partition('#')
      full = _normalise(f'{here}/{file}') if file else path
      if full not in index.files and full not in index.dirs:
        problems.append(f'link {target} (no file {full})')
      elif anchor and anchor not in index.headings(full):
        problems.append(f'link {target} (no heading #{anchor} in {full})')
  for name, section in _QUOTED_SECTION.findall(text):
    name = name if name.endswith('.md') else name + '.md'
    file = _resolve_file(index, here, name)
    if file is None:
      problems.append(f'{name} "{section}" (no such file)')
    elif anchor_of(section) not in index.headings(file):
      problems.append(f'{name} "{section}" (no such heading in {file})')
  if path.endswith('.md'):
    text = _LINK.sub(lambda m: m.group(0)[:m.start(1) - m.start(0) - 1], text)  # link targets checked above
  for token in _TOKEN.findall(text):
    token = token.rstrip('-')
    problem = _token_problem(index, path, here, token)
    if problem:
      problems.append(f'{token} ({problem})')
  return problems


def _normalise(path):
  parts = []
  for part in path.split('/'):
    if part == '..' and parts:
      parts.pop()
    elif part not in ('.', ''):
      parts.append(part)
  return '/'.join(parts)


def _resolve_file(index, here, rel):
  """rel relative to the folder `here`, wavenet_jax/ or the root: the file, or None."""
  return next((c for c in (_normalise(f'{base}/{rel}') for base in (here, 'wavenet_jax', ''))
               if c in index.files), None)


def _ours(index, path):
  """Whether a slash path starts at one of the repository's folders."""
  first = path.split('/')[0]
  return first in index.tops or first in index.subpackages


def _token_problem(index, path, here, token):
  file, _, anchor = token.partition('#')
  if file.endswith(FILE_SUFFIXES):
    return _file_problem(index, here, file, anchor)
  if anchor:
    return None
  if '/' in token:
    if not _ours(index, token):
      return None  # another project's: ibab/tensorflow-wavenet
    folder, _, tail = token.rpartition('/')
    name, _, rest = tail.partition('.')
    module = next(filter(None, (index.module_path(_normalise(f'{base}/{folder}/{name}'))
                                for base in (here, 'wavenet_jax', ''))), None)
    if module is None:
      return 'no such module'
    return _attr_problem(index, module, rest.split('.') if rest else [])
  parts = token.split('.')
  first, rest = parts[0], parts[1:]
  if not rest or first in NOT_MODULES:
    return None
  imports = index.module(path)['imports'] if path.endswith('.py') else {}
  if first in imports:
    candidates = [imports[first]]
  elif first == 'wavenet_jax' or first in index.subpackages:
    package = 'wavenet_jax' if first == 'wavenet_jax' else f'wavenet_jax/{first}'
    while rest and index.module_path(f'{package}/{rest[0]}'):
      package, rest = f'{package}/{rest[0]}', rest[1:]
      if not index.module_path(package).endswith('__init__.py'):
        break
    if index.module_path(package).endswith('__init__.py'):
      return None  # a folder's name as a word ('training.') or a package: nothing to check
    candidates = [index.module_path(package)]
  elif first in index.basenames:
    candidates = index.basenames[first]
  elif first in index.classes:
    if any(_class_has(index, m, first, rest[0]) for m in index.classes[first]):
      return None
    return f'class {first} ({", ".join(index.classes[first])}) has no {rest[0]}'
  else:
    return None  # not ours: np.x, jax.jit, config.model...
  problems = [_attr_problem(index, module, rest) for module in candidates]
  if None in problems:
    return None
  if first in index.config_sections and index.is_config_key(token):
    return None  # generate.seed: a config key
  return problems[0] if len(problems) == 1 else '; '.join(problems)


def _file_problem(index, here, file, anchor):
  name = file.rsplit('/', 1)[-1]
  if (file.endswith('.py') and name[:-len('.py')].isupper()) or name in PLACEHOLDER_FILES | OUTPUT_FILES:
    return None  # configs/X.py, a user's own file, a run's output
  if '/' in file and not _ours(index, file):
    return None  # another project's: wavenet/model.py
  found = _resolve_file(index, here, file)
  if found is None and '/' not in file:
    found = next((p for p in sorted(index.files) if p.rsplit('/', 1)[-1] == file), None)
    if found is None and file in EXTERNAL_FILES:
      return None
  if found is None:
    return 'no such file'
  if anchor and anchor not in index.headings(found):
    return f'no heading #{anchor} in {found}'
  return None


def _attr_problem(index, module, rest):
  """None when rest (['Kind', 'check'], or []) names something of the module at `module`."""
  if not rest:
    return None
  info, name = index.module(module), rest[0]
  if name in info['names']:
    if len(rest) > 1 and name in info['classes'] and not _class_has(index, module, name, rest[1]):
      return f'{module}: class {name} has no {rest[1]}'
    return None
  if module.endswith('__init__.py'):  # a package: its module
    sub = index.module_path(f'{module.rsplit("/", 1)[0]}/{name}')
    if sub:
      return _attr_problem(index, sub, rest[1:])
  return f'{module} has no {name}'


def _class_has(index, module, cls, attr, depth=0):
  """Whether class `cls` of `module` (or one of its bases) has `attr`."""
  attrs, bases = index.module(module)['classes'][cls]
  if attr in attrs:
    return True
  for base in bases:
    owners = [m for m in dict.fromkeys([module] + index.classes.get(base, []))
              if base in index.module(m)['classes']]
    if not owners and attr in EXTERNAL_ATTRS:
      return True  # another project's class: nn.Module.apply
    if depth < 8 and any(_class_has(index, m, base, attr, depth + 1) for m in owners):
      return True
  return False


# --- the tests


def test_every_reference_in_the_prose_resolves():
  problems = stale_references(read_tree())
  assert not problems, '\n'.join(problems)


def test_the_checks_report_what_does_not_resolve():
  """The checker on a made-up tree: each kind of stale reference reported, the valid ones not."""
  tree = {
      'launch.py': '"""Runs wavenet_jax/cli.py; see DESIGN.md and docs/architecture.md."""\n',
      'README.md': (
          '# The toolkit\n'
          '## Process settings\n'
          '```\n# a comment in a code block, not a heading\n```\n'
          'Read [the layers](docs/architecture.md#the-layers), [gone](docs/architecture.md#gone),\n'
          '[missing](docs/missing.md), [here](#process-settings), [a folder](configs/) and\n'
          '[a site](https://example.com/x.md). `python launch.py --config=configs/X.py` and\n'
          '`--config=configs/mine.py` are placeholders; runs write `results.md`, `eval_<split>.json`.\n'),
      'docs/architecture.md': '# Architecture\n## The layers\n## The layers\nSee README "Process settings", '
                              'README: "Nowhere", [up](../README.md#the-toolkit) and [home](../launch.py).\n',
      'configs/__init__.py': '',
      'configs/default.py': (
          'import ml_collections\n\n\ndef get_config():\n'
          '  c = ml_collections.ConfigDict()\n'
          '  c.generate = ml_collections.ConfigDict()  # generate.seed and generate.step resolve; generate.nope not\n'
          '  c.generate.seed = 0\n'
          '  c.model = ml_collections.ConfigDict()\n'
          '  c.model.upsample = ml_collections.ConfigDict(dict(mode="repeat"))  # upsample.mode, upsample.nope\n'
          '  return c\n'),
      'wavenet_jax/__init__.py': '',
      'wavenet_jax/cli.py': "FLAG_HELP = 'a string in code: wavenet_jax/apps/gone.py is not prose'\n",
      'wavenet_jax/kinds/__init__.py': '',
      'wavenet_jax/kinds/registry.py': 'class Kind:\n  metrics = ()\n\n  def check(self, config):\n    pass\n',
      'wavenet_jax/kinds/classifier.py': (
          'from wavenet_jax.kinds import registry\n\n\nclass Classifier(registry.Kind):\n'
          '  def clip_logits(self):\n    """Not Kind.clip_logits: Classifier.clip_logits, which Classifier.check inherits."""\n'),
      'wavenet_jax/models/__init__.py': '',
      'wavenet_jax/models/heads.py': 'def log_prob():\n  pass\n',
      'wavenet_jax/models/upsample.py': 'def stretch():\n  pass\n',
      'wavenet_jax/models/wavenet.py': (
          'import flax.linen as nn\n\n\nclass WaveNet(nn.Module):\n  layers: int = 2\n\n'
          '  def step(self):\n    pass\n'),
      'wavenet_jax/generation/__init__.py': '',
      'wavenet_jax/generation/generate.py': (
          '"""WaveNet.step and WaveNet.apply agree, WaveNet.layers too; WaveNet.stride does not exist.\n\n'
          'The heads are models/heads.py (heads.log_prob; heads.sample is gone), layers in\n'
          'models/layers.py, a bare generate.py resolves beside this file, nsynth/wavenet/h512_bo16.py\n'
          "is magenta's and fastgen.py too; docs/performance.md#queue-kernels is not a heading of the\n"
          'docs/performance.md this tree lacks.\n"""\n'
          'import numpy as np\n\nfrom wavenet_jax.models import heads\n\n\n'
          'def step():\n'
          '  # jax.jit, np.float32 and config.model are not ours; registry.Kind and kinds/registry.Kind\n'
          '  # are; registry.Knd, kinds/registry.Kind.check and kinds/registry.Kind.chek, training/loop\n'
          '  return np.zeros(1)  # the run.config of a Run; training/run.open_run (no such module)\n'),
      'wavenet_jax/apps/__init__.py': '',
      'wavenet_jax/apps/train.py': (
          '"""Calls evaluation.evaluate and evaluation.missing (evaluation: training/evaluate.py, see\n'
          'wavenet_jax.training.evaluate.evaluate, training.evaluate.gone and apps/vocode\'s Taps)."""\n'
          'from wavenet_jax.training import evaluate as evaluation\n'),
      'wavenet_jax/training/__init__.py': '',
      'wavenet_jax/training/evaluate.py': 'def evaluate():\n  pass\n',
      'data/__init__.py': '',
      'data/prepare.py': '"""The builders are in data/\ngtzan.py, now wavenet_jax/datasets/gtzan.py."""\n',
      'wavenet_jax/datasets/gtzan.py': '',
      'tests/test_x.py': '"""Tests are not checked: DESIGN.md, models/gone.py."""\n',
  }
  problems = stale_references(tree)
  assert problems == [
      'README.md:6: link docs/architecture.md#gone (no heading #gone in docs/architecture.md)',
      'README.md:7: link docs/missing.md (no file docs/missing.md)',
      'configs/default.py:6: generate.nope (wavenet_jax/generation/generate.py has no nope)',
      'configs/default.py:9: upsample.nope (wavenet_jax/models/upsample.py has no nope)',
      'data/prepare.py:1: data/gtzan.py (no such file)',
      'docs/architecture.md:4: README.md "Nowhere" (no such heading in README.md)',
      'launch.py:1: DESIGN.md (no such file)',
      'wavenet_jax/apps/train.py:1: evaluation.missing (wavenet_jax/training/evaluate.py has no missing)',
      'wavenet_jax/apps/train.py:2: training.evaluate.gone (wavenet_jax/training/evaluate.py has no gone)',
      "wavenet_jax/apps/train.py:2: apps/vocode (no such module)",
      'wavenet_jax/generation/generate.py:1: WaveNet.stride (class WaveNet (wavenet_jax/models/wavenet.py) '
      'has no stride)',
      'wavenet_jax/generation/generate.py:3: heads.sample (wavenet_jax/models/heads.py has no sample)',
      'wavenet_jax/generation/generate.py:4: models/layers.py (no such file)',
      'wavenet_jax/generation/generate.py:5: docs/performance.md#queue-kernels (no such file)',
      'wavenet_jax/generation/generate.py:6: docs/performance.md (no such file)',
      'wavenet_jax/generation/generate.py:15: registry.Knd (wavenet_jax/kinds/registry.py has no Knd)',
      'wavenet_jax/generation/generate.py:15: kinds/registry.Kind.chek (wavenet_jax/kinds/registry.py: '
      'class Kind has no chek)',
      'wavenet_jax/generation/generate.py:15: training/loop (no such module)',
      'wavenet_jax/generation/generate.py:16: training/run.open_run (no such module)',
      'wavenet_jax/kinds/classifier.py:6: Kind.clip_logits (class Kind (wavenet_jax/kinds/registry.py) '
      'has no clip_logits)',
  ], '\n'.join(problems)
  index = Index(tree)
  assert index.headings('docs/architecture.md') == {'architecture', 'the-layers', 'the-layers-1'}
  assert anchor_of('Installing: the package and the `wavenet-jax` command') == (
      'installing-the-package-and-the-wavenet-jax-command')
  assert index.is_config_key('generate.seed') and index.is_config_key('model.upsample')
  assert not index.is_config_key('generate.step')
