"""The swap-a-speaker transfer study: a VCTK speech model continues training with speaker p225's clips
swapped for GTZAN blues; every N steps every class is measured; a report answers how fast,
how much, and whether the model takes in music or degrades.

    python launch.py --config=configs/transfer_speaker_to_blues.py:blues=/path/to/genres \
        --workdir=runs/swap --config.data.source=/path/to/VCTK-Corpus --config.train.init_from=runs/vctk

`blues=` is the GTZAN genres/ tree (or a prepared gtzan dir) whose blues clips become p225;
`data.source` is VCTK; `train.init_from` is the speech model (a run of configs/vctk.py, whose
class order the study keeps so every speaker keeps its embedding row; or an ibab checkpoint
prefix, whose row N, speaker pN, moves to class pN's row). Training
continues for `train.num_train_steps` steps; at step 0 and every `transfer.every_steps`
steps the run is evaluated (validation NLL of every speaker, p225's on blues), its
embeddings read, and `transfer.generate_num_samples` samples generated for p225 and a few
other speakers. WORKDIR/report/ then holds report.md (the three questions answered with
numbers), nll_per_class.png, changes.png, numbers.json, history.json and the audio.
A relaunch resumes the study where it stopped.

`:demo` is the same study in miniature on the synthetic demo corpus (class `bell` swapped
for the `drum` clips); train configs/demo.py first, then
    python launch.py --config=configs/transfer_speaker_to_blues.py:demo --workdir=runs/swap_demo \
        --config.train.init_from=runs/demo
"""
import ml_collections

from configs import demo, vctk


def get_config(arg=None):
  if arg == 'demo':
    c = demo.get_config()
    swapped, c.data.exclude = 'bell', ('bell',)
    c.data.mix = ({'source': '', 'corpus': 'demo', 'include': ('drum',), 'rename': ('drum=bell',)},)
    c.train.num_train_steps = 200
    every, samples = 50, 4000
  elif arg and arg.startswith('blues='):
    c = vctk.get_config()
    c.data.silence_threshold = 0.1  # the seed's change to ibab's 0.3
    swapped, c.data.exclude = 'p225', ('p225',)
    blues = arg[len('blues='):]
    c.data.mix = ({'source': blues, 'corpus': 'gtzan', 'include': ('blues',), 'rename': ('blues=p225',)},)
    c.train.num_train_steps = 20_000
    every, samples = 1000, 16_000
  else:
    raise ValueError('configs/transfer_speaker_to_blues.py: name the blues source '
                     '(:blues=/path/to/genres) or use :demo')
  c.train.init_from = ''  # Required: the speech (or demo) model to continue.
  c.data.class_names_from = ''  # '' = init_from's class order when it is a run of ours.
  c.transfer = ml_collections.ConfigDict()
  c.transfer.swapped_class = swapped  # whose data the swap replaced
  c.transfer.every_steps = every  # measure every this many steps (and at step 0)
  c.transfer.generate_num_samples = samples  # per measured class, per measurement
  c.transfer.generate_classes = ()  # classes generated besides the swapped one; () = the first 4 others
  return c
