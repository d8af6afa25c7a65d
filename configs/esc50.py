"""Environment sound classification on ESC-50 from the NSynth encoder, fold-wise.

    python launch.py --config=configs/esc50.py:fold=5 --workdir=runs/esc50_fold5 \
        --config.data.source=/path/to/ESC-50-master \
        --config.train.init_from=/path/to/wavenet-ckpt/model.ckpt-200000

ESC-50's five folds are its splits: `fold=K` (default 5) evaluates on fold K and trains
on the other four, so a 5-fold cross-validation is five runs, fold=1..5 (average their
eval_foldK.json accuracies). `esc10` restricts to ESC-10's ten classes. Other variants
(configs/_classifier.py): `cpu` (the CPU recipe, 12-15 min on 2 cores), `tiny` (seconds),
`autoencoder` (two heads), `pretrain` (the plain autoencoder), e.g. `configs/esc50.py:cpu,fold=2`.
Clips (5 s, 44.1 kHz) are resampled to 16 kHz; training takes random 1.024 s crops
of each clip, eval 3 fixed crops per clip.
"""
from configs import _classifier

FOLDS = tuple(f'fold{k}' for k in range(1, 6))


def get_config(arg=None):
  c, options = _classifier.get_variant(arg, ('fold', 'esc10'))
  fold = f'fold{options.get("fold", 5)}'
  if fold not in FOLDS:
    raise ValueError(f'configs/esc50.py: fold={options["fold"]} (ESC-50 has folds 1 to 5)')
  c.data.corpus = 'esc50'
  c.data.source = ''  # Required: the ESC-50-master tree or a prepared dir.
  if 'esc10' in options:
    c.data.options = ('esc10=true',)
  c.data.train_split = '+'.join(f for f in FOLDS if f != fold)
  c.data.eval_split = fold
  return c
